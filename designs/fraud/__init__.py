"""Design 5: real-time fraud detection for card transactions."""

from __future__ import annotations

from dataclasses import dataclass

from mlsd.config import require, setting
from mlsd.registry import DesignInfo


@dataclass
class FraudConfig:
    """Every knob of the fraud design; `mlsd run fraud --set key=value` changes one."""

    n_users: int = setting(4000, 500, 50_000)  # fewer than 500 leave the test days without fraud
    n_merchants: int = setting(400, 50, 5000)
    txns_per_user_day: float = setting(2.0, 0.2, 20)
    fraud_rate: float = setting(0.005, 0.0005, 0.1)  # share of traffic the attack generators aim for
    days: int = setting(14, 5, 60)  # history: 1 burn-in day, then train, validation, label gap, test
    train_days: int = setting(6, 1, 30)
    val_days: int = setting(2, 1, 14)
    gap_days: int = setting(2, 0, 14)  # labels still immature at training time: not used
    monitor_days: int = setting(14, 6, 60)  # after the history; the launch and new fraud come half-way
    friction_cost: float = setting(10.0, 0, 10_000)  # $ a false decline costs (support call, lost sale, churn risk)
    review_cost: float = setting(3.0, 0, 1000)  # $ an analyst review costs
    review_capacity_per_day: int = setting(120, 0, 100_000)
    n_trees: int = setting(200, 1, 2000)
    downsample_rate: float = setting(0.1, 0.001, 1)  # share of legitimate rows kept by negative downsampling
    serving_requests: int = setting(4000, 200, 100_000)  # served one at a time: per-request latency
    load_requests: int = setting(2000, 100, 100_000)  # served open-loop at the peak rate: about 2 s at 1,000 TPS
    production_txns_per_day: float = setting(50e6, 1, 1e12)  # volume the capacity estimate is made for
    consistency_sample: int = setting(300, 1, 5000)

    def __post_init__(self) -> None:
        """Reject combinations the stages cannot run with, naming the fix (ranges are on the fields)."""
        needed = 1 + self.train_days + self.val_days + self.gap_days + 1
        checks = [
            (self.days >= needed, f"days must be at least {needed}: burn-in + train + val + gap + one test day"),
        ]
        require(checks)


DESIGN = DesignInfo(
    slug="fraud",
    title="Real-time Fraud Detection",
    order=5,
    difficulty="medium",
    latency_budget_ms=100.0,
    latency_budget_text="< 100 ms",
    primary_metrics=("PR-AUC", "precision/recall at threshold", "cost"),
    prerequisites=(),
    key_concepts=(
        "class imbalance", "cost-based threshold", "velocity features", "label delay",
        "rules + ML", "train/serve consistency", "drift monitoring",
    ),
    patterns=("feature stores", "ensembles", "rules+ML", "real-time aggregations", "streaming inference"),
    config=FraudConfig,
    scales={
        "tiny": {"n_users": 2000, "n_merchants": 200, "n_trees": 120, "serving_requests": 1500,
                 "load_requests": 1000, "review_capacity_per_day": 60, "consistency_sample": 100},
        "default": {},
        "large": {"n_users": 20000, "n_merchants": 2000, "review_capacity_per_day": 600,
                  "serving_requests": 10000},
    },
)
