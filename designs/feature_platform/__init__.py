"""Design 8: Real-time Feature Platform."""

from __future__ import annotations

from dataclasses import dataclass

from mlsd.config import require
from mlsd.registry import DesignInfo


@dataclass
class FeaturePlatformConfig:
    """Every knob of the feature-platform design; `--set key=value` changes one."""

    n_users: int = 2000
    days: int = 14                    # simulated history: train, test, then monitoring days
    train_days: int = 6
    test_days: int = 3
    sessions_per_user_day: float = 1.2
    observations_per_user: int = 12   # (user, time) points a model is trained and tested on
    allowed_lateness: float = 600.0   # seconds behind the watermark an event may arrive and still count
    materialize_every: float = 30.0   # seconds between online-store materializations
    freshness_slo: float = 500.0      # seconds from event to readable value, p99 over a day
    online_batch: int = 20            # entities per get-online-features call
    online_requests: int = 2000
    skew_sample: int = 500
    promo_day: int = 11               # views double from this day (drift)
    outage_day: int = 12              # the view stream stops for this day (nulls)
    lag_day: int = 13                 # the pipeline falls ten minutes behind this day (freshness)
    n_trees: int = 200
    production_users: float = 50e6    # entities in the real online store, for the capacity estimate
    production_reads_per_s: float = 20000.0

    def __post_init__(self) -> None:
        """Reject settings the stages cannot run with, naming the fix."""
        first_monitor = self.train_days + self.test_days + 1
        checks = [
            (self.n_users >= 200, "n_users must be at least 200"),
            (self.train_days >= 3 and self.test_days >= 1, "train_days must be >= 3 and test_days >= 1"),
            (self.days >= first_monitor + 2, f"days must be at least {first_monitor + 2}: warm-up, train, test, "
                                             "and monitoring days"),
            (all(first_monitor <= d < self.days for d in (self.promo_day, self.outage_day, self.lag_day)),
             f"promo_day, outage_day and lag_day must fall in the monitoring days {first_monitor}-{self.days - 1}"),
            (self.allowed_lateness >= 0 and self.materialize_every > 0, "allowed_lateness >= 0, materialize_every > 0"),
            (self.online_batch >= 1 and self.online_requests >= 200, "online_batch >= 1, online_requests >= 200"),
            (self.observations_per_user >= 2 and self.skew_sample >= 50, "observations_per_user >= 2, skew_sample >= 50"),
        ]
        require(checks)


DESIGN = DesignInfo(
    slug="feature-platform",
    title="Real-time Feature Platform",
    order=8,
    difficulty="hard",
    latency_budget_ms=5.0,
    latency_budget_text="< 5 ms serving",
    primary_metrics=("freshness", "skew", "drift"),
    prerequisites=("fraud",),
    key_concepts=("point-in-time joins", "online/offline stores", "materialization", "train/serve skew", "freshness"),
    patterns=("feature stores", "real-time aggregations"),
    config=FeaturePlatformConfig,
    scales={
        "tiny": {"n_users": 600, "observations_per_user": 10, "online_requests": 800, "skew_sample": 200,
                 "n_trees": 120},
        "default": {},
        "large": {"n_users": 8000, "online_requests": 5000, "skew_sample": 2000},
    },
)
