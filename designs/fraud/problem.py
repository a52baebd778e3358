"""Problem: what we predict, why accuracy misleads, what mistakes cost, how fast and
how much traffic. Generates the synthetic world the later stages use."""

from __future__ import annotations

import numpy as np

from mlsd.designs.fraud.world import DAY, PATTERNS, generate
from mlsd.results import StageResult, Table, metric

# How the 100 ms budget is planned across the request path. The serving stage
# measures the parts we own (features, model, rules) against these allocations.
BUDGET_ALLOCATION_MS = (
    ("network + payment gateway hop", 30.0),
    ("feature read and update", 20.0),
    ("model inference", 20.0),
    ("rules and decision", 5.0),
    ("logging, response, headroom", 25.0),
)


def run(ctx) -> StageResult:
    from sklearn.metrics import accuracy_score, recall_score

    cfg = ctx.config
    world = generate(cfg, ctx.rng)
    h = world.history
    y = h["is_fraud"]
    n, positives = y.size, int(y.sum())
    fraud_amount = float(h["amount"][y].sum())
    always_decline_cost = float((~y).sum() * cfg.friction_cost)
    approve_all = np.zeros(n, dtype=bool)  # the decision "flag as fraud" is never taken
    accuracy_approve = float(accuracy_score(y, approve_all))
    recall_approve = float(recall_score(y, approve_all, zero_division=0))

    by_pattern = [
        [name, int((h["pattern"] == k).sum()), int(y[h["pattern"] == k].sum()),
         round(float(h["p_true"][h["pattern"] == k].mean()), 4) if (h["pattern"] == k).any() else 0.0]
        for k, name in enumerate(PATTERNS) if (h["pattern"] == k).any()
    ]
    hourly = np.bincount((h["ts"] // 3600).astype(int))
    peak_to_mean = float(hourly.max() / hourly.mean())
    mean_tps = cfg.production_txns_per_day / DAY
    peak_tps = mean_tps * peak_to_mean

    result = StageResult(
        stage="problem",
        headline="Score every card authorisation for P(fraud) and decide approve / review / decline in < 100 ms.",
        metrics=[
            metric("rows", n, label="transactions simulated (history)"),
            metric("positive_rate", positives / n),
            metric("accuracy", accuracy_approve, label="accuracy of always-approve"),
            metric("recall_at_threshold", recall_approve, label="recall of always-approve"),
            metric("expected_cost", fraud_amount, label="cost of always-approve (all fraud passes)"),
            metric("peak_tps", peak_tps, label=f"peak TPS at {cfg.production_txns_per_day:,.0f} txns/day"),
        ],
        tables=[
            Table("Label distribution by generating pattern",
                  ["pattern", "transactions", "fraud labels", "mean P(fraud)"], by_pattern,
                  caption="P(fraud) is the generator's true probability; labels are draws from it."),
            Table("Cost model", ["decision error", "cost", "total if always made"], [
                ["missed fraud (false approve)", "the amount", f"${fraud_amount:,.0f} (always approve)"],
                ["false decline", f"${cfg.friction_cost:.0f} friction", f"${always_decline_cost:,.0f} (always decline)"],
                ["manual review", f"${cfg.review_cost:.0f} analyst time", f"capacity {cfg.review_capacity_per_day}/day"],
            ]),
            Table("Latency budget allocation (plan; serving measures it)", ["component", "budget ms"],
                  [[name, ms] for name, ms in BUDGET_ALLOCATION_MS] + [["total", sum(ms for _, ms in BUDGET_ALLOCATION_MS)]]),
            Table("Capacity estimate", ["quantity", "value"], [
                ["production volume", f"{cfg.production_txns_per_day:,.0f} txns/day"],
                ["mean rate", f"{mean_tps:,.0f} TPS"],
                ["peak / mean (peak hour of the simulated rhythm)", f"{peak_to_mean:.2f}x"],
                ["peak rate", f"{peak_tps:,.0f} TPS"],
                ["replicas", "serving stage: peak TPS / measured throughput per worker"],
            ]),
        ],
        notes=[
            f"Always-approve is {accuracy_approve:.2%} accurate and catches no fraud: accuracy is the wrong metric "
            "at a {:.2%} positive rate. Use PR-AUC and precision/recall at the operating threshold.".format(positives / n),
            "Errors are not symmetric: a missed fraud costs its amount, a false decline a fixed friction. "
            "The threshold is chosen to minimise expected cost, not to maximise accuracy or F1.",
            f"Labels are chargebacks and arrive days later (median {np.median(h['label_time'][y] - h['ts'][y]) / DAY:.1f} days "
            "here): recent data has unknown labels.",
        ],
        artifacts={"world": world, "peak_tps": peak_tps},
    )
    return result
