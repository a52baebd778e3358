"""Model: the same model trained on a point-in-time correct training set (DuckDB ASOF
JOIN on known-at time) and on a naive one (each user's latest values). The naive set
leaks the future: its offline AUC is inflated and falls on live-like features."""

from __future__ import annotations

import numpy as np

from mlsd.blocks.uncertainty import bootstrap, paired_difference, roc_auc
from mlsd.designs.feature_platform.world import observations
from mlsd.results import StageResult, Table, metric
from mlsd.threads import training_threads


def run(ctx) -> StageResult:
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score

    cfg = ctx.config
    events, defs, offline = ctx.need("events"), ctx.need("defs"), ctx.need("offline")
    train_u, train_t, train_y = observations(events, cfg, ctx.rng, 1, cfg.train_days)
    test_u, test_t, test_y = observations(events, cfg, ctx.rng, cfg.train_days + 1, cfg.train_days + cfg.test_days)
    sets = {"point-in-time": (offline.training_set(train_u, train_t, True), offline.training_set(test_u, test_t, True)),
            "naive latest value": (offline.training_set(train_u, train_t, False),
                                   offline.training_set(test_u, test_t, False))}
    live = sets["point-in-time"][1]  # what serving will see: values known at request time
    rows, auc, live_scores = [], {}, {}
    for name, (X, T) in sets.items():
        model = lgb.LGBMClassifier(n_estimators=cfg.n_trees, learning_rate=0.05, num_leaves=31, n_jobs=training_threads(),
                                   random_state=ctx.seed, verbose=-1).fit(X, train_y)
        offline_auc = roc_auc_score(test_y, model.predict_proba(T)[:, 1])
        live_scores[name] = model.predict_proba(live)[:, 1]
        live_auc = roc_auc_score(test_y, live_scores[name])
        auc[name] = (offline_auc, live_auc)
        rows.append([name, round(offline_auc, 4), round(live_auc, 4), round(offline_auc - live_auc, 4)])
        if name == "point-in-time":
            champion = model
    cart_index = [d.name for d in defs].index("carts_1h")
    baseline = roc_auc_score(test_y, np.nan_to_num(live[:, cart_index]))
    # How sure: the test observations resampled, the model paired with its one-feature baseline.
    model_auc = roc_auc(test_y, live_scores["point-in-time"])
    auc_interval = bootstrap(model_auc, test_y.size, ctx.seed)
    auc_gap = paired_difference(model_auc, roc_auc(test_y, np.nan_to_num(live[:, cart_index])), test_y.size, ctx.seed)
    naive_train = sets["naive latest value"][0]
    pit_train = sets["point-in-time"][0]
    future = float(np.mean(np.any(np.nan_to_num(naive_train) != np.nan_to_num(pit_train), axis=1)))
    purchases = [d.name for d in defs].index("purchases_7d")
    positives = train_y == 1
    leak_rows = [[name, round(float(np.nanmean(X[positives, purchases])), 3),
                  round(float(np.nanmean(X[~positives, purchases])), 3)]
                 for name, X in (("point-in-time", pit_train), ("naive latest value", naive_train))]
    pit_offline, pit_live = auc["point-in-time"]
    naive_offline, naive_live = auc["naive latest value"]
    return StageResult(
        stage="model",
        headline=f"Naive join: offline AUC {naive_offline:.3f}, on live-like features {naive_live:.3f}. "
                 f"Point-in-time: {pit_offline:.3f} offline, {pit_live:.3f} live: what you measure is what you get.",
        metrics=[
            metric("roc_auc", pit_live, baseline=baseline, label="ROC-AUC, point-in-time model on live-like features "
                   "(baseline: carts_1h alone)", **auc_interval.fields("ci"), **auc_gap.fields("vs_baseline")),
            metric("leaky_roc_auc_offline", naive_offline),
            metric("leaky_roc_auc_live", naive_live),
            metric("leakage_share", future, label="training rows whose naive features differ from what was known"),
        ],
        tables=[
            Table(f"Same model, two training sets ({len(train_y):,} train, {len(test_y):,} test points)",
                  ["training set", "offline AUC", "live-like AUC", "gap"], rows,
                  caption="Offline: the test points joined the same way as training. Live-like: the test points "
                          "with the values known at their time, as the online store serves them. Label: a purchase "
                          "in the hour after a page view."),
            Table("Where the leak is: purchases_7d on training rows", ["training set", "label 1", "label 0"], leak_rows,
                  caption="The naive value already counts the purchase the label asks about."),
        ],
        notes=[
            "The ASOF JOIN takes, per (user, time), the last feature write known at that time (known = arrival, "
            "so a late event is not used before it arrived); values past the feature's ttl read as missing.",
            "The naive join gives every training row the user's latest values, computed after the fact: the "
            "model learns from the future, looks excellent offline, and disappoints in production.",
            f"The positive rate is {test_y.mean():.1%}: AUC, not accuracy, compares the rankings.",
        ],
        artifacts={"model": champion, "test_points": (test_u, test_t)},
        exports={"training_sets": {"user_id": train_u, "t": train_t, "label": train_y,
                                   **{f"pit_{d.name}": pit_train[:, i] for i, d in enumerate(defs)},
                                   **{f"naive_{d.name}": naive_train[:, i] for i, d in enumerate(defs)}}},
    )
