"""Monitoring: a train/serve skew check that reads sampled request moments through
get-online-features and compares them with the offline point-in-time rows training
uses (a bug injected on purpose shows it is caught, a clean run shows none), PSI drift
per feature by day, and null-rate and freshness alarms. The world has three incidents
in the monitored days: a promotion (drift), a day the view stream is down (nulls), a
day the pipeline falls ten minutes behind (freshness)."""

from __future__ import annotations

import numpy as np

from mlsd.blocks.monitoring.drift import PSI_ALARM, psi
from mlsd.designs.feature_platform.online import served_vectors
from mlsd.designs.feature_platform.pipeline import stream
from mlsd.designs.feature_platform.world import DAY, observations
from mlsd.results import StageResult, Table, metric

BUGGY_FEATURE = "views_1h"  # the injected bug: its window on arrival time instead of event time
NULL_ALARM_RISE = 0.2       # alarm when a feature's null rate rises this much over the test days
FRESH_ALARM_FALL = 0.02     # alarm when the day's share of events fresh in time falls this much below the test days'
EQUAL = 1e-9                # float sums added in a different order differ in the last bits


def skew_check(served: np.ndarray, training: np.ndarray, defs, points) -> tuple[int, dict[str, int], list]:
    """Compare served vectors with the training rows for the same (user, time), value by
    value (missing equals missing): mismatching vectors, per feature, and the three
    largest differences as examples."""
    same = (np.isnan(served) & np.isnan(training)) | (np.abs(served - training) <= EQUAL)
    differs = ~same
    by_feature = {d.name: int(differs[:, j].sum()) for j, d in enumerate(defs)}
    gap = np.where(differs, np.nan_to_num(np.abs(served - training), nan=np.inf), 0.0)
    examples = []
    for flat in np.argsort(-gap, axis=None, kind="stable")[:3].tolist():
        i, j = divmod(flat, len(defs))
        if differs[i, j]:
            examples.append([int(points[0][i]), round(float(points[1][i]) / DAY, 3), defs[j].name,
                             served[i, j], training[i, j]])
    return int(differs.any(axis=1).sum()), by_feature, examples


def _fresh_share(freshness: np.ndarray, event_time: np.ndarray, day: int, slo: float) -> tuple[float, float]:
    """The day's share of events readable within `slo` (dropped as never) and p99 of the delivered."""
    lag = freshness[(event_time >= day * DAY) & (event_time < (day + 1) * DAY)]
    delivered = lag[np.isfinite(lag)]
    return float(np.mean(lag <= slo)), float(np.percentile(delivered, 99)) if delivered.size else float("nan")


def run(ctx) -> StageResult:
    cfg = ctx.config
    events, defs, offline, online = (ctx.need(k) for k in ("events", "defs", "offline", "online"))
    freshness = ctx.need("freshness")
    test_u, test_t = ctx.need("test_points")
    reference = offline.point_in_time(test_u, test_t)  # the latest days before monitoring
    first = cfg.train_days + cfg.test_days + 1
    reference_fresh = float(np.mean([_fresh_share(freshness, events.event_time, d, cfg.freshness_slo)[0]
                                     for d in range(cfg.train_days + 1, first)]))

    days = [(day, *observations(events, cfg, ctx.rng, day, day)[:2]) for day in range(first, cfg.days)]
    all_u = np.concatenate([u for _, u, _ in days])
    all_t = np.concatenate([t for _, _, t in days])
    pick = np.sort(ctx.rng.choice(all_u.size, min(cfg.skew_sample, all_u.size), replace=False))
    points = (all_u[pick], all_t[pick])
    training_rows = offline.point_in_time(*points)
    clean, _, _ = skew_check(served_vectors(online, events, defs, cfg.materialize_every, *points),
                             training_rows, defs, points)
    buggy_online = stream(events, defs, cfg.allowed_lateness, bug_window_on_arrival=BUGGY_FEATURE)
    caught, by_feature, examples = skew_check(served_vectors(buggy_online, events, defs, cfg.materialize_every,
                                                             *points), training_rows, defs, points)

    null_reference = np.isnan(reference).mean(axis=0)
    rows, psi_alarm, null_alarm, fresh_alarm, psi_max = [], None, None, None, 0.0
    incident_days = {cfg.promo_day, cfg.outage_day, cfg.lag_day}
    false_alarms = quiet_days = 0  # scored against the truth afterwards; no alarm reads it
    for day, u, t in days:
        X = offline.point_in_time(u, t)
        psis = [psi(reference[:, j][~np.isnan(reference[:, j])], X[:, j][~np.isnan(X[:, j])])
                if (~np.isnan(X[:, j])).sum() > 20 else 0.0 for j in range(len(defs))]
        nulls = np.isnan(X).mean(axis=0)
        fresh, p99 = _fresh_share(freshness, events.event_time, day, cfg.freshness_slo)
        worst = int(np.argmax(psis))
        rise = nulls - null_reference
        psi_max = max(psi_max, psis[worst])
        alarms = (psis[worst] > PSI_ALARM, rise.max() > NULL_ALARM_RISE, fresh < reference_fresh - FRESH_ALARM_FALL)
        if psi_alarm is None and alarms[0]:
            psi_alarm = day
        if null_alarm is None and alarms[1]:
            null_alarm = day
        if fresh_alarm is None and alarms[2]:
            fresh_alarm = day
        if day not in incident_days:
            quiet_days += 1
            false_alarms += int(any(alarms))
        risen = int(np.argmax(rise))
        rows.append([day, f"{defs[worst].name} {psis[worst]:.2f}",
                     f"{defs[risen].name} {nulls[risen]:.0%} (test days {null_reference[risen]:.0%})",
                     f"{fresh:.2%}", round(p99, 1), len(u)])
    return StageResult(
        stage="monitoring",
        headline=f"Skew check: {clean} mismatches on a clean run, {caught} of {pick.size} served vectors caught with a "
                 f"bug in {BUGGY_FEATURE}; drift alarm day {psi_alarm}, null alarm day {null_alarm}, freshness alarm "
                 f"day {fresh_alarm}.",
        metrics=[
            metric("feature_consistency_mismatches", clean, target=0, label="skew check, clean pipeline"),
            metric("skew_bug_mismatches_found", caught, label=f"skew check, bug injected in {BUGGY_FEATURE}"),
            metric("drift_alarm_day", psi_alarm if psi_alarm else float("nan"), target=cfg.promo_day,
                   label="feature PSI alarm (day)"),
            metric("null_rate_alarm_day", null_alarm if null_alarm else float("nan"), target=cfg.outage_day),
            metric("freshness_alarm_day", fresh_alarm if fresh_alarm else float("nan"), target=cfg.lag_day),
            metric("false_alarm_rate", false_alarms / quiet_days if quiet_days else float("nan"),
                   label=f"days without an incident on which an alarm fired ({false_alarms} of {quiet_days})"),
            metric("psi_max", psi_max, label="largest daily feature PSI"),
        ],
        tables=[
            Table("Train/serve skew check", ["pipeline", "vectors compared", "mismatched", "by feature"], [
                ["clean", pick.size, clean, "none"],
                [f"bug: {BUGGY_FEATURE} windowed on arrival time", pick.size, caught,
                 ", ".join(f"{k} {v}" for k, v in by_feature.items() if v) or "none"],
            ], caption="Request moments sampled from the monitoring days; each user read through get-online-features "
                       "from the online store as the materialization had left it at that moment (ttl applied), and "
                       "compared with the point-in-time training row for the same moment, exactly."),
            Table("Mismatches found (examples)", ["user", "day", "feature", "served", "training row"], examples),
            Table("Day by day (monitoring days)", ["day", "largest PSI", "largest null-rate rise", "fresh in time",
                                                   "freshness p99 s (delivered)", "points"], rows,
                  caption=f"PSI against the test days' rows (windows fully warmed up), alarm above {PSI_ALARM}; null "
                          f"alarm when a feature's null rate rises by {NULL_ALARM_RISE * 100:.0f} points over them; "
                          f"freshness alarm when the day's share of events readable within {cfg.freshness_slo:.0f} s "
                          f"(dropped as never) falls {FRESH_ALARM_FALL * 100:.0f} points below the test days' "
                          f"{reference_fresh:.2%}. Incidents: promotion day {cfg.promo_day}, view stream down day "
                          f"{cfg.outage_day}, pipeline ten minutes behind day {cfg.lag_day}."),
        ],
        notes=[
            "The skew check is the feature platform's unit test in production: sample what was served, rebuild it "
            "with the training-set code path, and alert on any difference.",
            "Windowing on arrival time instead of event time is a classic streaming bug: it looks right in a test "
            "without network delay, and undercounts as soon as events arrive after the user's clock has moved "
            "on, which real delays make common.",
            "A stream that stops does not error: its features go stale, then missing after their ttl. Null-rate "
            "and freshness alarms are how it shows.",
        ],
    )
