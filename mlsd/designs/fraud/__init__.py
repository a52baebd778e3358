"""Design 5: real-time fraud detection for card transactions."""

from __future__ import annotations

from dataclasses import dataclass

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
