"""The online side: a store keyed by user (SQLite in memory, as Feast's default local
store), the materialization job that copies the stream's writes into it every few
seconds of simulated time, and two replays over it: serving reads at given moments,
and read-after-write freshness per event.

Everything serving sees goes through `OnlineStore.get_online_features`, which applies
each feature's ttl at read time, so the model stage's live features, the skew check and
the freshness measurement all read what a request would.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from mlsd.designs.feature_platform.pipeline import FeatureDef, Snapshots, arrival_order, readable_at
from mlsd.designs.feature_platform.world import Events

VALUES_FROM = 3  # a served row: user_id, event_ts, stream offset, then one value per feature


class OnlineStore:
    """One row per user: the latest materialized values, the event time they reflect, and
    the stream offset of the last event they include (as a Kafka consumer commits)."""

    def __init__(self, defs: list[FeatureDef]) -> None:
        self.defs = defs
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        cols = ", ".join(f"{d.name} REAL" for d in defs)
        self.db.execute(f"CREATE TABLE features (user_id INTEGER PRIMARY KEY, event_ts REAL, stream_offset INTEGER, "
                        f"{cols})")
        # ?1 is the request time: a value older than its ttl is served as NULL, never as a stale number.
        self.fresh_values = ", ".join(f"CASE WHEN ?1 - event_ts <= {d.ttl} THEN {d.name} END" for d in defs)
        self.select: dict[int, str] = {}

    def upsert(self, rows: list[tuple]) -> None:
        """Write rows (user_id, event_ts, stream offset, values...) in order; a later row
        for the same user replaces an earlier one."""
        marks = ", ".join("?" * (3 + len(self.defs)))
        with self.db:
            self.db.executemany(f"INSERT OR REPLACE INTO features VALUES ({marks})", rows)

    def get_online_features(self, users: list[int], now: float) -> list[tuple]:
        """The read path: one primary-key read for a batch of users at request time `now`."""
        sql = self.select.get(len(users))
        if sql is None:  # one prepared statement per batch size
            keys = ", ".join(f"?{i + 2}" for i in range(len(users)))
            sql = self.select[len(users)] = (f"SELECT user_id, event_ts, stream_offset, {self.fresh_values} "
                                             f"FROM features WHERE user_id IN ({keys})")
        return self.db.execute(sql, (now, *users)).fetchall()


class Materializer:
    """The job that runs every `every` seconds of simulated time and upserts each user's
    latest write that has arrived since its last run. `run_until(t)` runs every tick up
    to `t`; running several at once leaves the store as running them in turn would,
    since each tick only replaces rows."""

    def __init__(self, store: OnlineStore, writes: Snapshots, offsets: np.ndarray, every: float) -> None:
        self.store = store
        self.tick = readable_at(writes.ts, every)   # writes arrive in order, so ticks are sorted
        self.rows = list(zip(writes.user.tolist(), writes.event_ts.tolist(), offsets.tolist(),
                             *writes.values.T.tolist()))
        self.done = 0

    def run_until(self, t: float) -> slice:
        """Materialize every write readable by `t`; the slice of writes it applied."""
        end = int(np.searchsorted(self.tick, t, side="right"))
        applied = slice(self.done, end)
        if end > self.done:
            self.store.upsert(self.rows[applied])
            self.done = end
        return applied


def stream_offsets(events: Events) -> np.ndarray:
    """Each event's position in the stream (arrival order), indexed by event id."""
    offsets = np.empty(len(events), dtype=np.int64)
    offsets[events.event_id[arrival_order(events)]] = np.arange(len(events))
    return offsets


def served_vectors(writes: Snapshots, events: Events, defs: list[FeatureDef], every: float,
                   users: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Replay the materialization and, at each (user, time) in time order, read the user
    through get_online_features as a request then would: one row per point, NaN where
    the store has no value or it is past its ttl."""
    store = OnlineStore(defs)
    job = Materializer(store, writes, stream_offsets(events)[writes.event_id], every)
    out = np.full((len(users), len(defs)), np.nan)
    for i in np.argsort(times, kind="stable").tolist():
        job.run_until(float(times[i]))
        rows = store.get_online_features([int(users[i])], float(times[i]))
        if rows:
            out[i] = [np.nan if v is None else v for v in rows[0][VALUES_FROM:]]
    return out


def read_after_write(writes: Snapshots, events: Events, defs: list[FeatureDef], every: float
                     ) -> tuple[np.ndarray, OnlineStore]:
    """Per event, seconds from its event time to the first materialization after which
    the online store serves a row reflecting it (a row whose stream offset has reached
    the event's); inf for an event the stream dropped (`writes` from `stream`, which
    lists them), which is never served. Measured by running every tick and reading back
    the users it wrote. Returns the store as the last tick left it."""
    if writes.dropped_ids is None:
        raise ValueError("read_after_write needs the stream's writes, which list the events they dropped")
    store = OnlineStore(defs)
    offsets = stream_offsets(events)
    job = Materializer(store, writes, offsets[writes.event_id], every)
    seen_user, seen_offset, seen_at = [], [], []
    writers = writes.user.tolist()
    for tick in np.unique(job.tick).tolist():
        applied = job.run_until(tick)
        for row in store.get_online_features(list(dict.fromkeys(writers[applied])), tick):
            seen_user.append(row[0])
            seen_offset.append(row[2])
            seen_at.append(tick)
    # For each event, the first read-back of its user whose offset covers it: per user
    # the offsets read back only grow, so a search over (user, offset) keys finds it.
    span = len(events) + 1
    keys = np.array(seen_user, dtype=np.int64) * span + np.array(seen_offset, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    keys, seen_at = keys[order], np.array(seen_at)[order]
    query = events.user * span + offsets
    hit = np.searchsorted(keys, query, side="left")
    found = hit < len(keys)
    found[found] = keys[hit[found]] // span == events.user[found]
    found[writes.dropped_ids] = False  # a later row has a higher offset but never counted the dropped event
    visible = np.full(len(events), np.inf)
    visible[found] = seen_at[hit[found]]
    return visible - events.event_time, store
