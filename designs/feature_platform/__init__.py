"""Design 8: Real-time Feature Platform."""

from __future__ import annotations

from dataclasses import dataclass

from mlsd.config import require, setting
from mlsd.registry import DesignInfo


@dataclass
class FeaturePlatformConfig:
    """Every knob of the feature-platform design; `--set key=value` changes one."""

    n_users: int = setting(2000, 200, 50_000)
    days: int = setting(14, 7, 60)                    # simulated history: train, test, then monitoring days
    train_days: int = setting(6, 3, 30)
    test_days: int = setting(3, 1, 30)
    sessions_per_user_day: float = setting(1.2, 0.2, 20)
    observations_per_user: int = setting(12, 2, 200)   # (user, time) points a model is trained and tested on
    allowed_lateness: float = setting(600.0, 0, 86_400)   # seconds behind the watermark an event may arrive and still count
    materialize_every: float = setting(30.0, 1, 3600)   # seconds between online-store materializations
    freshness_slo: float = setting(500.0, 1, 86_400)      # seconds from event to readable value, p99 over a day
    online_batch: int = setting(20, 1, 1000)            # entities per get-online-features call
    online_requests: int = setting(2000, 200, 100_000)
    skew_sample: int = setting(500, 50, 10_000)
    promo_day: int = setting(11, 1, 60)               # views double from this day (drift)
    outage_day: int = setting(12, 1, 60)              # the view stream stops for this day (nulls)
    lag_day: int = setting(13, 1, 60)                 # the pipeline falls ten minutes behind this day (freshness)
    n_trees: int = setting(100, 1, 2000)
    production_users: float = setting(50e6, 1, 1e12)    # entities in the real online store, for the capacity estimate
    production_reads_per_s: float = setting(20000.0, 1, 1e9)

    def __post_init__(self) -> None:
        """Reject combinations the stages cannot run with, naming the fix (ranges are on the fields)."""
        first_monitor = self.train_days + self.test_days + 1
        checks = [
            (self.days >= first_monitor + 2, f"days must be at least {first_monitor + 2}: warm-up, train, test, "
                                             "and monitoring days"),
            (all(first_monitor <= d < self.days for d in (self.promo_day, self.outage_day, self.lag_day)),
             f"promo_day, outage_day and lag_day must fall in the monitoring days {first_monitor}-{self.days - 1}"),
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
        "tiny": {"n_users": 600, "observations_per_user": 10, "online_requests": 800, "skew_sample": 200},
        "default": {},
        "large": {"n_users": 8000, "online_requests": 5000, "skew_sample": 2000},
    },
)
