"""Design 5: real-time fraud detection for card transactions."""

from __future__ import annotations

from dataclasses import dataclass

from mlsd.config import require
from mlsd.registry import DesignInfo


@dataclass
class FraudConfig:
    """Every knob of the fraud design; `mlsd run fraud --set key=value` changes one."""

    n_users: int = 4000
    n_merchants: int = 400
    txns_per_user_day: float = 2.0
    fraud_rate: float = 0.005  # share of traffic the attack generators aim for
    days: int = 14  # history: 1 burn-in day, then train, validation, label gap, test
    train_days: int = 6
    val_days: int = 2
    gap_days: int = 2  # labels still immature at training time: not used
    monitor_days: int = 14  # after the history; the launch and new fraud come half-way
    friction_cost: float = 10.0  # $ a false decline costs (support call, lost sale, churn risk)
    review_cost: float = 3.0  # $ an analyst review costs
    review_capacity_per_day: int = 120
    n_trees: int = 200
    downsample_rate: float = 0.1  # share of legitimate rows kept by negative downsampling
    serving_requests: int = 4000
    production_txns_per_day: float = 50e6  # volume the capacity estimate is made for
    consistency_sample: int = 300

    def __post_init__(self) -> None:
        """Reject settings the stages cannot run with, naming the fix."""
        needed = 1 + self.train_days + self.val_days + self.gap_days + 1
        checks = [
            (self.n_users >= 500, "n_users must be at least 500 (fewer users leave the test days without fraud)"),
            (self.n_merchants >= 50, "n_merchants must be at least 50"),
            (0 < self.fraud_rate <= 0.1, "fraud_rate must be in (0, 0.1]"),
            (min(self.train_days, self.val_days) >= 1 and self.gap_days >= 0, "train_days and val_days must be >= 1"),
            (self.days >= needed, f"days must be at least {needed}: burn-in + train + val + gap + one test day"),
            (self.monitor_days >= 6, "monitor_days must be at least 6 (the shift comes half-way)"),
            (0 < self.downsample_rate <= 1, "downsample_rate must be in (0, 1]"),
            (self.n_trees >= 1 and self.consistency_sample >= 1, "n_trees and consistency_sample must be >= 1"),
            (self.serving_requests >= 200, "serving_requests must be at least 200"),
            (self.friction_cost >= 0 and self.review_cost >= 0 and self.review_capacity_per_day >= 0,
             "costs and capacity cannot be negative"),
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
                 "review_capacity_per_day": 60, "consistency_sample": 100},
        "default": {},
        "large": {"n_users": 20000, "n_merchants": 2000, "review_capacity_per_day": 600,
                  "serving_requests": 10000},
    },
)
