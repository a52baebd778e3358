"""Data: validate and clean the raw stream, compute velocity features by streaming,
prove the streaming features equal a brute-force recomputation, split by time with
a gap for immature labels."""

from __future__ import annotations

import copy

import numpy as np

from mlsd.designs.fraud.features import FEATURES, VelocityState, recompute_features, stream_features
from mlsd.designs.fraud.world import COLUMNS, DAY
from mlsd.results import StageResult, Table, metric


def validate(txns: dict[str, np.ndarray], days: int) -> list[list]:
    """Schema, range, null and duplicate checks: one row per check with what it found."""
    missing = [c for c in COLUMNS if c not in txns]
    ids = txns["txn_id"]
    return [
        ["schema: all columns present", "missing: " + ", ".join(missing) if missing else "ok", len(missing)],
        ["range: amount > 0", "refunds or sign errors", int((txns["amount"] <= 0).sum())],
        ["range: timestamp inside the period", "", int(((txns["ts"] < 0) | (txns["ts"] >= days * DAY)).sum())],
        ["null: device id", "kept; device features read as 0", int((txns["device"] < 0).sum())],
        ["duplicate: txn_id", "retried messages", int(ids.size - np.unique(ids).size)],
    ]


def clean(txns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Drop exact retries (keep the first) and non-positive amounts; keep null devices."""
    first = np.r_[True, txns["txn_id"][1:] != txns["txn_id"][:-1]]  # retries sit right after the original
    keep = first & (txns["amount"] > 0)
    return {k: v[keep] for k, v in txns.items()}


def split_days(cfg) -> dict[str, tuple[int, int]]:
    """Day ranges [start, end): day 0 only warms the 24 h windows up."""
    train = (1, 1 + cfg.train_days)
    val = (train[1], train[1] + cfg.val_days)
    gap = (val[1], val[1] + cfg.gap_days)
    test = (gap[1], cfg.days)
    if test[1] - test[0] < 1:
        raise ValueError("days must leave at least one test day after train, val and gap days")
    return {"train": train, "val": val, "gap": gap, "test": test}


def run(ctx) -> StageResult:
    cfg = ctx.config
    world = ctx.need("world")
    checks = validate(world.history, cfg.days)
    txns = clean(world.history)
    state = VelocityState(world.card_user, world.user_favourites, world.user_devices, world.user_log_amount)
    splits = split_days(cfg)
    test_start = np.searchsorted(txns["ts"], splits["test"][0] * DAY)

    def track(rows, total):
        return ctx.progress.track(rows, total=total, description="streaming velocity features")

    head = {k: v[:test_start] for k, v in txns.items()}
    tail = {k: v[test_start:] for k, v in txns.items()}
    X_head = stream_features(state, head, track)
    state_at_test = copy.deepcopy(state)  # the serving stage replays the test days from here
    X = np.vstack([X_head, stream_features(state, tail, track)])

    sample = np.sort(ctx.rng.choice(txns["ts"].size, min(cfg.consistency_sample, txns["ts"].size), replace=False))
    recomputed = np.array([recompute_features(world, txns, i) for i in sample])
    diff = np.abs(recomputed - X[sample])
    tolerance = 1e-9 * (1 + np.abs(recomputed))  # float sums in a different order
    mismatched_rows = int((diff > tolerance).any(axis=1).sum())

    day = (txns["ts"] // DAY).astype(int)
    train_time = splits["test"][0] * DAY  # the model is trained when the test period starts
    y = txns["is_fraud"]
    known = y & (txns["label_time"] < train_time)
    label_rows = []
    for name, (lo, hi) in splits.items():
        sel = (day >= lo) & (day < hi)
        frauds = int(y[sel].sum())
        label_rows.append([name, f"{lo}-{hi - 1}", int(sel.sum()), frauds, int(known[sel].sum()),
                           f"{known[sel].sum() / max(frauds, 1):.0%}"])

    fraud_rows = y[day >= 1]
    Xf = X[day >= 1]
    feature_rows = [
        [name, round(float(Xf[~fraud_rows, j].mean()), 3), round(float(Xf[fraud_rows, j].mean()), 3)]
        for j, name in enumerate(FEATURES) if not name.startswith("cat_")
    ]
    issues = sum(c[2] for c in checks)
    injected = sum(world.dirt.values())
    return StageResult(
        stage="data",
        headline=f"{len(FEATURES)} velocity features from one streaming implementation, used by training and serving.",
        metrics=[
            metric("rows", txns["ts"].size, label="clean transactions"),
            metric("validation_issues", issues, label=f"validation issues found ({injected} injected)"),
            metric("feature_consistency_mismatches", mismatched_rows,
                   label=f"streaming vs brute-force mismatches ({sample.size} sampled)", target=0),
        ],
        tables=[
            Table("Data validation", ["check", "meaning / action", "rows found"], checks,
                  caption="The generator injected: " + ", ".join(f"{k} {v}" for k, v in world.dirt.items())),
            Table("Time-based split and label delay", ["split", "days", "transactions", "frauds (final)",
                  "labelled at training time", "share known"], label_rows,
                  caption="Training happens when the test period starts; the gap days are skipped because "
                          "most of their chargebacks have not arrived."),
            Table("Feature means: legitimate vs fraud", ["feature", "legit", "fraud"], feature_rows),
        ],
        notes=[
            f"Train/serve consistency: {sample.size} sampled transactions recomputed from the raw history by brute "
            f"force; {mismatched_rows} differ (largest absolute difference {diff.max():.1e}, float summation order).",
            "Features are computed before the transaction is booked: using it would leak the present into its own features.",
            "Labels known at training time are used for train and validation; unknown frauds count as legitimate there "
            "(label noise); test metrics use the final labels.",
        ],
        artifacts={"txns": txns, "X": X, "day": day, "splits": splits, "known_labels": known,
                   "state_at_test": state_at_test, "state_at_end": state},
        exports={"transactions": {k: txns[k] for k in COLUMNS},
                 "features": {"txn_id": txns["txn_id"], **{name: X[:, j] for j, name in enumerate(FEATURES)}}},
    )
