"""Data: the definitions drive two computations, a streaming replay (the online path)
and a batch SQL backfill in DuckDB (the offline store); the watermark and late-event
policy are part of both, and the two are compared write for write."""

from __future__ import annotations

import numpy as np

from mlsd.designs.feature_platform.pipeline import OfflineStore, offline_sql, stream
from mlsd.results import StageResult, Table, metric

TOLERANCE = 1e-9  # sums added in a different order differ in the last bits


def run(ctx) -> StageResult:
    cfg = ctx.config
    events, defs = ctx.need("events"), ctx.need("defs")
    online = stream(events, defs, cfg.allowed_lateness)
    offline = OfflineStore(events, defs, cfg.allowed_lateness, cfg.materialize_every)
    batch = offline.snapshots()
    same_writes = (np.array_equal(online.user, batch.user) and np.array_equal(online.event_id, batch.event_id)
                   and np.allclose(online.ts, batch.ts))
    diff = np.abs(online.values - batch.values) if same_writes else np.full((1, len(defs)), np.inf)
    mismatched = int((diff > TOLERANCE).any(axis=1).sum()) if same_writes else len(online.user)
    delay = events.arrival_time - events.event_time
    late_but_kept = int(((delay > 60) & (delay <= cfg.allowed_lateness)).sum())
    sql = offline_sql(defs, cfg.allowed_lateness, cfg.materialize_every)
    return StageResult(
        stage="data",
        headline=f"{len(online.user):,} feature writes from {len(events):,} events; streaming and SQL backfill agree "
                 f"on {len(online.user) - mismatched:,} of {len(online.user):,}; {online.dropped:,} events dropped "
                 f"as too late.",
        metrics=[
            metric("rows", len(online.user), label="feature writes (one per accepted event)"),
            metric("feature_consistency_mismatches", mismatched, target=0,
                   label="writes where streaming and SQL backfill differ"),
            metric("events_dropped_late", online.dropped),
        ],
        tables=[
            Table("Two computations of one definition", ["path", "how", "writes", "dropped late"], [
                ["online (streaming)", "events in arrival order, per-user sorted buffers, bisect windows",
                 len(online.user), online.dropped],
                ["offline (batch backfill)", "DuckDB SQL generated from features.yaml: window functions for the "
                 "watermark and user clock, a range self-join per window", len(batch.user), batch.dropped],
            ], caption=f"Largest difference between the two: {diff.max():.1e} (float summation order)."),
            Table("Event time, arrival time and the watermark", ["quantity", "value"], [
                ["allowed lateness", f"{cfg.allowed_lateness:.0f} s behind the largest event time seen"],
                ["arrived 1-10 min after their event time (kept, in their event-time window)", f"{late_but_kept:,}"],
                ["beyond it (dropped, counted)", f"{online.dropped:,}"],
                ["policy", "drop and count; a backfill with a longer lateness could restate history"],
            ]),
            Table("The generated backfill SQL (first lines)", ["sql"],
                  [[line.strip()] for line in sql.strip().splitlines()[:8]]),
        ],
        notes=[
            "Windows are on event time, so a late event lands in the window it belongs to; the watermark bounds "
            "how late is still accepted, because a streaming job cannot wait forever.",
            "Both paths are generated from the same definitions, and the same policy: that is what makes them "
            "agree exactly, not careful coding twice.",
        ],
        artifacts={"online": online, "offline": offline},
        exports={"feature_writes": online.columns(defs)},
    )
