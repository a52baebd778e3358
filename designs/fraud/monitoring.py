"""Monitoring: the stream goes on past the history. Half-way, a crypto partner
launches (the population shifts) and a crypto cash-out fraud follows (the concept
shifts). Watch feature and score PSI daily, precision and recall as delayed labels
arrive, the review queue against analyst capacity; alarm; retrain on fresh labels;
compare the old and new model on the days after."""

from __future__ import annotations

import copy

import numpy as np

from mlsd.designs.fraud.features import FEATURES, stream_features
from mlsd.designs.fraud.model import fit_recipe
from mlsd.designs.fraud.world import CRYPTO_CASHOUT, DAY
from mlsd.blocks.monitoring.drift import PSI_ALARM, psi
from mlsd.results import Chart, Series, StageResult, Table, metric

LABEL_WINDOW_DAYS = 4  # trailing window for label-based precision and recall
MIN_KNOWN_FRAUDS = 10  # below this, a recall estimate is noise: no label alarm
RECALL_ALARM_SHARE = 0.75  # alarm when recall is surely under 75% of its validation value
Z_95 = 1.645  # one-sided 95%: alarm only when the interval's upper end is below the line
SCHEDULED_RETRAIN_DAYS = 7  # the routine retrain when no alarm calls for one sooner


def wilson_upper(successes: int, n: int, z: float = Z_95) -> float:
    """Upper end of the Wilson score interval of a proportion: a few known frauds
    missed by chance should not page anyone."""
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float((centre + spread) / (1 + z * z / n))


def run(ctx) -> StageResult:
    from sklearn.metrics import average_precision_score

    cfg = ctx.config
    world = ctx.need("world")
    txns, X, day, splits = ctx.need("txns"), ctx.need("X"), ctx.need("day"), ctx.need("splits")
    model, threshold = ctx.need("champion"), ctx.need("threshold")
    review_threshold, val_recall = ctx.need("review_threshold"), ctx.need("val_recall")
    future = world.future
    X_f = stream_features(copy.deepcopy(ctx.need("state_at_end")), future,
                          lambda rows, n: ctx.progress.track(rows, total=n, description="streaming monitored days"))
    day_f = (future["ts"] // DAY).astype(int)
    y_f = future["is_fraud"]
    p_f = model.predict(X_f)
    train_rows = (day >= splits["train"][0]) & (day < splits["train"][1])
    reference, reference_scores = X[train_rows], model.predict(X[train_rows])

    rows, psi_by_day, recall_by_day, reviews_by_day = [], [], [], []
    drift_days, label_days, queue_days = [], [], []
    false_alarms = quiet_days = 0  # scored against the truth afterwards; no alarm reads it
    for d in np.unique(day_f):
        today = day_f == d
        feature_psi = np.array([psi(reference[:, j], X_f[today, j]) for j in range(len(FEATURES))])
        score_psi = psi(reference_scores, p_f[today])
        worst = int(feature_psi.argmax())
        reviews = int(((p_f >= review_threshold) & (p_f < threshold) & today).sum())
        # What the team can know at the end of day d: chargebacks that have arrived.
        window = (day_f > d - LABEL_WINDOW_DAYS) & (day_f <= d)
        known = window & y_f & (future["label_time"] < (d + 1) * DAY)
        declined = window & (p_f >= threshold)
        caught, n_known = int((p_f[known] >= threshold).sum()), int(known.sum())
        recall = caught / n_known if n_known >= MIN_KNOWN_FRAUDS else np.nan
        precision = (declined & known).sum() / max(declined.sum(), 1)
        drift = max(feature_psi.max(), score_psi) > PSI_ALARM
        label_alarm = (n_known >= MIN_KNOWN_FRAUDS
                       and wilson_upper(caught, n_known) < RECALL_ALARM_SHARE * val_recall)
        queue = reviews > cfg.review_capacity_per_day
        for flag, days in ((drift, drift_days), (label_alarm, label_days), (queue, queue_days)):
            if flag:
                days.append(int(d))
        if d < world.shift_day:  # a day the generator made without an incident
            quiet_days += 1
            false_alarms += int(drift or label_alarm or queue)
        alarms = ", ".join(n for n, f in (("drift", drift), ("recall", label_alarm), ("queue", queue)) if f)
        rows.append([int(d), f"{feature_psi[worst]:.2f} {FEATURES[worst]}", round(score_psi, 3),
                     f"{reviews}/{cfg.review_capacity_per_day}", int(known.sum()),
                     "" if np.isnan(recall) else round(float(recall), 2), round(float(precision), 2), alarms])
        psi_by_day.append(float(max(feature_psi.max(), score_psi)))
        reviews_by_day.append(reviews)
        recall_by_day.append(float(recall) if not np.isnan(recall) else float("nan"))

    # Retrain the day after the first label-confirmed alarm; without one, once the labels of
    # the drift alarm's days have had a window to arrive; without either, on the weekly
    # schedule. Only alarms decide: the launch day is the generator's secret. The training
    # set is the history plus the monitored days, with the labels known by then.
    first_day = int(day_f.min())
    if label_days:
        retrain_day = label_days[0] + 1
    elif drift_days:
        retrain_day = drift_days[0] + LABEL_WINDOW_DAYS
    else:
        retrain_day = first_day + SCHEDULED_RETRAIN_DAYS
    last_day = int(day_f.max())
    retrain_day = min(retrain_day, last_day)
    cutoff = retrain_day * DAY
    hist_rows = day >= splits["train"][0]
    fresh = day_f < retrain_day
    X_new = np.vstack([X[hist_rows], X_f[fresh]])
    y_new = np.r_[txns["is_fraud"][hist_rows] & (txns["label_time"][hist_rows] < cutoff),
                  y_f[fresh] & (future["label_time"][fresh] < cutoff)]
    retrained = fit_recipe(ctx.need("champion_recipe"), X_new, y_new, cfg, ctx.rng)

    after = day_f >= retrain_day
    y_after, p_old = y_f[after], p_f[after]
    p_new = retrained.predict(X_f[after])
    crypto = y_after & (future["pattern"][after] == CRYPTO_CASHOUT)
    pr_old = float(average_precision_score(y_after, p_old))
    pr_new = float(average_precision_score(y_after, p_new))
    pr_oracle = float(average_precision_score(y_after, future["p_true"][after]))
    recovery_rows = [
        ["PR-AUC", round(pr_old, 4), round(pr_new, 4), round(pr_oracle, 4)],
        ["recall at threshold", round(float((p_old[y_after] >= threshold).mean()), 3),
         round(float((p_new[y_after] >= threshold).mean()), 3), ""],
        ["crypto cash-out recall", round(float((p_old[crypto] >= threshold).mean()), 3) if crypto.any() else "",
         round(float((p_new[crypto] >= threshold).mean()), 3) if crypto.any() else "", ""],
    ]
    first_drift = drift_days[0] if drift_days else None
    first_label = label_days[0] if label_days else None
    days_axis = [float(d) for d in np.unique(day_f)]
    return StageResult(
        stage="monitoring",
        headline=f"Launch on day {world.shift_day}: drift alarm on day {_day(first_drift)}, recall alarm on day "
                 f"{_day(first_label)}, retrained on day {retrain_day}; PR-AUC {pr_old:.3f} -> {pr_new:.3f}.",
        metrics=[
            metric("drift_alarm_day", _or_nan(first_drift), target=world.shift_day,
                   label="first drift alarm, day (target: the launch day)"),
            metric("label_alarm_day", _or_nan(first_label), label="first recall alarm from delayed labels, day"),
            metric("psi_max", max(psi_by_day)),
            metric("false_alarm_rate", false_alarms / quiet_days if quiet_days else float("nan"),
                   label=f"days without an incident on which an alarm fired ({false_alarms} of {quiet_days})"),
            metric("review_queue_peak", max(reviews_by_day), target=cfg.review_capacity_per_day),
            metric("recovery_pr_auc", pr_new, baseline=pr_old, oracle=pr_oracle,
                   label=f"PR-AUC after retraining (days {retrain_day}-{last_day})"),
        ],
        tables=[
            Table("Daily monitoring", ["day", "worst feature PSI", "score PSI", "reviews",
                  f"frauds known ({LABEL_WINDOW_DAYS}d)", "recall", "precision", "alarms"], rows,
                  caption=f"PSI against the training days; alarm above {PSI_ALARM}. Recall alarm when its 95% upper "
                          f"bound is under {RECALL_ALARM_SHARE:.0%} of validation recall ({val_recall:.2f}); "
                          "recall and precision count only chargebacks arrived by that day."),
            Table(f"Old vs retrained model on days {retrain_day}-{last_day} (final labels)",
                  ["metric", "old model", "retrained", "oracle"], recovery_rows),
        ],
        charts=[
            Chart("Largest PSI per day", "day", "PSI", [Series("max PSI", days_axis, psi_by_day),
                                                        Series("alarm", days_axis, [PSI_ALARM] * len(days_axis))]),
            Chart("Recall from labels known that day", "day", "recall",
                  [Series("recall", days_axis, recall_by_day)]),
        ],
        notes=[
            "Population drift (PSI) fires the day the traffic mix changes, before any label: it says something "
            "changed, not that the model got worse.",
            "Recall from chargebacks confirms the damage days later (labels arrive with a median 2-day delay); "
            "precision from known labels is a lower bound while labels are pending.",
            "Retraining on fresh labels teaches the model the new pattern; the review queue is the first "
            "operational symptom analysts feel.",
        ],
        exports={"monitoring_scores": {"txn_id": future["txn_id"], "day": day_f, "label": y_f.astype(int),
                                       "score": p_f, "pattern": future["pattern"]}},
    )


def _day(day: int | None) -> str:
    return "none" if day is None else str(day)


def _or_nan(day: int | None) -> float:
    """An alarm day as a metric value: no alarm is NaN, which JSON writes as null."""
    return float("nan") if day is None else float(day)
