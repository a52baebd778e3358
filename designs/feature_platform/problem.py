"""Problem: which features are batch, streaming or computed on demand, the 5 ms
serving budget and freshness, train/serve skew as the core risk, and capacity.
Generates the event stream the later stages use."""

from __future__ import annotations

import numpy as np

from mlsd.designs.feature_platform.world import DAY, EVENT_TYPES, generate
from mlsd.designs.feature_platform.pipeline import load_definitions
from mlsd.results import StageResult, Table, metric

BYTES_PER_VALUE = 8
KEY_AND_OVERHEAD_BYTES = 64


def run(ctx) -> StageResult:
    cfg = ctx.config
    events = generate(cfg, ctx.rng)
    defs = load_definitions()
    delay = events.arrival_time - events.event_time
    counts = np.bincount(events.kind, minlength=len(EVENT_TYPES))
    per_entity = len(defs) * BYTES_PER_VALUE + KEY_AND_OVERHEAD_BYTES
    store_gb = cfg.production_users * per_entity / 1e9
    return StageResult(
        stage="problem",
        headline=f"Serve {len(defs)} user features in < 5 ms, fresh within {cfg.freshness_slo:.0f} s, computed the "
                 "same way for training and serving.",
        metrics=[
            metric("rows", len(events), label="events simulated"),
            metric("peak_rps", cfg.production_reads_per_s, label="online feature reads per second (assumed)"),
        ],
        tables=[
            Table("What is generated", ["quantity", "value"], [
                ["users", f"{cfg.n_users:,}"],
                ["days", f"{cfg.days} (1 warm-up, {cfg.train_days} train, {cfg.test_days} test, the rest monitoring)"],
                ["events (view / cart / purchase)", " / ".join(f"{c:,}" for c in counts)],
                ["arrival delay p50 / p99", f"{np.percentile(delay, 50):.1f} s / {np.percentile(delay, 99):,.0f} s"],
                ["arriving more than 10 min late", f"{np.mean(delay > 600):.2%}"],
            ]),
            Table("Feature freshness: three kinds", ["kind", "example", "computed in production", "worth it when"], [
                ["batch", "purchases_7d, spend_7d", "daily job over the offline store",
                 "the value moves slowly; a day stale costs little"],
                ["streaming", "views_2m, views_1h, carts_1h", "on every event, windowed on event time",
                 "the last minutes matter (intent, fraud velocity)"],
                ["on demand", "seconds since the last view (not built here)", "at request time from the request",
                 "it depends on the request itself"],
            ], caption=f"Here all {len(defs)} features run through the same streaming replay and batch backfill, "
                       "so the skew check covers each of them."),
            Table("Feature definitions (features.yaml)", ["name", "entity", "source", "aggregation", "window s", "ttl s"],
                  [[d.name, d.entity, d.source, d.aggregation, int(d.window), int(d.ttl)] for d in defs]),
            Table("Capacity estimate", ["quantity", "value"], [
                ["entities in production", f"{cfg.production_users:,.0f}"],
                ["bytes per entity", f"{len(defs)} features x {BYTES_PER_VALUE} B + {KEY_AND_OVERHEAD_BYTES} B key "
                                     f"and overhead = {per_entity} B"],
                ["online store", f"{store_gb:,.1f} GB (fits in memory on a few nodes; replicate for reads)"],
                ["reads", f"{cfg.production_reads_per_s:,.0f}/s (assumed); serving measures reads per worker"],
                ["simulated here", f"{cfg.n_users:,} users over {cfg.days * DAY / 3600:,.0f} hours"],
            ]),
        ],
        notes=[
            "Train/serve skew is the core risk: a feature computed one way for training (SQL over history) and "
            "another way for serving (a streaming job) drifts apart silently and the model degrades with no error.",
            "Point-in-time correctness: a training row may only use what serving could read at its time: the "
            "event's arrival plus the wait for the next materialization, not its event time. A late event was not "
            "known yet.",
            "The < 5 ms budget is for the online read; freshness (event to readable value) is a separate service "
            "level, measured in seconds.",
        ],
        artifacts={"events": events, "defs": defs},
    )
