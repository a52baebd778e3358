"""One feature definition, two computations: the streaming update the online store is
fed from, and the batch SQL the offline store is built with. Both come from
`features.yaml`, and the monitoring stage checks they agree.

Semantics (both paths): events are taken in arrival order; an event whose event time
is more than `allowed_lateness` behind the watermark (the largest event time seen so
far) is dropped and counted. After each accepted event, the user's features are
recomputed over the windows ending at the user's latest event time, and written with
the arrival time. The online store serves a write from the first materialization
after it arrived (`readable_at`), so that is when it became known. A point-in-time join
picks, for a (user, time), the last write readable at that time; a value older than
the feature's ttl reads as missing.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from importlib import resources

import numpy as np
import yaml

from mlsd.designs.feature_platform.world import EVENT_TYPES, Events


@dataclass(frozen=True)
class FeatureDef:
    name: str
    entity: str
    source: str
    aggregation: str  # count | sum
    window: float
    ttl: float


def load_definitions() -> list[FeatureDef]:
    text = resources.files("mlsd.designs.feature_platform").joinpath("features.yaml").read_text()
    return [FeatureDef(**entry) for entry in yaml.safe_load(text)]


def readable_at(ts: np.ndarray, every: float) -> np.ndarray:
    """The first materialization (every `every` s of simulated time) at or after a write
    arrived: when the online store starts serving it. The offline SQL computes the same."""
    return np.ceil(ts / every) * every


def arrival_order(events: Events) -> np.ndarray:
    """Events in the order the stream reads them: by arrival, ties by event id."""
    return np.lexsort((events.event_id, events.arrival_time))


@dataclass
class Snapshots:
    """Every feature write: (user, arrival time, latest event time, values), and the
    event whose processing produced it (its stream offset says which events it reflects)."""

    user: np.ndarray
    ts: np.ndarray
    event_ts: np.ndarray
    values: np.ndarray  # (writes, features)
    event_id: np.ndarray
    dropped: int = 0
    dropped_ids: np.ndarray | None = None  # the events dropped behind the watermark, where known

    def columns(self, defs: list[FeatureDef]) -> dict[str, np.ndarray]:
        cols = {"user_id": self.user, "ts": self.ts, "event_ts": self.event_ts, "event_id": self.event_id}
        cols.update({d.name: self.values[:, i] for i, d in enumerate(defs)})
        return cols


def stream(events: Events, defs: list[FeatureDef], allowed_lateness: float,
           bug_window_on_arrival: str | None = None) -> Snapshots:
    """The online path: replay events in arrival order through per-user buffers sorted
    by event time. `bug_window_on_arrival` names a feature to compute (wrongly) over
    arrival times: the kind of mistake a skew check exists to catch."""
    kinds = {name: k for k, name in enumerate(EVENT_TYPES)}
    specs = [(kinds[d.source], d.window, d.aggregation == "count", d.name == bug_window_on_arrival) for d in defs]
    by_event: dict[tuple[int, int], tuple[list[float], list[float]]] = {}    # (times, amounts) in event-time order
    by_arrival: dict[tuple[int, int], tuple[list[float], list[float]]] = {}  # the same in arrival order (the bug's)
    no_events: tuple[list[float], list[float]] = ([], [])
    latest: dict[int, float] = {}
    watermark = -np.inf
    out_user, out_ts, out_event_ts, out_values, out_ids, dropped = [], [], [], [], [], []
    columns = zip(events.event_id.tolist(), events.user.tolist(), events.kind.tolist(), events.amount.tolist(),
                  events.event_time.tolist(), events.arrival_time.tolist())
    rows = list(columns)
    for i in arrival_order(events).tolist():
        event_id, u, kind, amount, et, at = rows[i]
        if et < watermark - allowed_lateness:
            dropped.append(event_id)
            continue
        watermark = max(watermark, et)
        times, amounts = by_event.setdefault((u, kind), ([], []))
        pos = bisect.bisect_right(times, et)
        times.insert(pos, et)
        amounts.insert(pos, amount)
        arrived, arrived_amounts = by_arrival.setdefault((u, kind), ([], []))
        arrived.append(at)  # the stream reads in arrival order, so appending keeps this sorted
        arrived_amounts.append(amount)
        now = max(latest.get(u, -np.inf), et)
        latest[u] = now
        values = []
        for source, window, is_count, on_arrival in specs:
            ts, amt = (by_arrival if on_arrival else by_event).get((u, source), no_events)
            lo, hi = bisect.bisect_right(ts, now - window), bisect.bisect_right(ts, now)
            values.append(float(hi - lo) if is_count else float(sum(amt[lo:hi])))
        out_user.append(u)
        out_ts.append(at)
        out_event_ts.append(now)
        out_values.append(values)
        out_ids.append(event_id)
    return Snapshots(np.array(out_user), np.array(out_ts), np.array(out_event_ts), np.array(out_values),
                     np.array(out_ids, dtype=np.int64), len(dropped), np.array(dropped, dtype=np.int64))


def offline_sql(defs: list[FeatureDef], allowed_lateness: float, materialize_every: float) -> str:
    """The batch computation of the same writes, in DuckDB SQL generated from the
    definitions: the watermark and user clock are window functions over arrival order;
    `readable_at` is the materialization that first serves a write."""
    aggregates = []
    for d in defs:
        value = "1" if d.aggregation == "count" else "k.amount"
        aggregates.append(f"coalesce(sum({value}) FILTER (WHERE k.kind = '{d.source}' "
                          f"AND k.event_time > u.user_now - {d.window}), 0) AS {d.name}")
    return f"""
    WITH ordered AS (
        SELECT *, max(event_time) OVER (ORDER BY arrival_time, event_id
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS watermark
        FROM events),
    kept AS (
        SELECT * FROM ordered WHERE watermark IS NULL OR event_time >= watermark - {allowed_lateness}),
    updates AS (
        SELECT user_id, event_id, arrival_time,
               max(event_time) OVER (PARTITION BY user_id ORDER BY arrival_time, event_id
                                     ROWS UNBOUNDED PRECEDING) AS user_now
        FROM kept)
    SELECT u.user_id, u.arrival_time AS ts, u.user_now AS event_ts, u.event_id,
           ceil(u.arrival_time / {materialize_every}) * {materialize_every} AS readable_at,
           {", ".join(aggregates)}
    FROM updates u JOIN kept k
      ON k.user_id = u.user_id
     AND (k.arrival_time < u.arrival_time OR (k.arrival_time = u.arrival_time AND k.event_id <= u.event_id))
     AND k.event_time <= u.user_now
    GROUP BY u.user_id, u.event_id, u.arrival_time, u.user_now
    ORDER BY u.arrival_time, u.event_id
    """


class OfflineStore:
    """DuckDB in memory: the raw events, the feature writes computed by SQL, and the
    point-in-time joins that build training sets."""

    def __init__(self, events: Events, defs: list[FeatureDef], allowed_lateness: float,
                 materialize_every: float) -> None:
        import duckdb

        self.defs = defs
        self.db = duckdb.connect()
        self.db.register("events_view", events.columns())  # DuckDB reads a dict of numpy arrays
        self.db.execute("CREATE TABLE events AS SELECT * FROM events_view")
        self.db.execute(f"CREATE TABLE snapshots AS {offline_sql(defs, allowed_lateness, materialize_every)}")
        self.dropped = len(events) - self.db.execute("SELECT count(*) FROM snapshots").fetchall()[0][0]
        self.tables: set[str] = set()

    def snapshots(self) -> Snapshots:
        rows = self.db.execute("SELECT * FROM snapshots").fetchnumpy()
        values = np.column_stack([_floats(rows[d.name]) for d in self.defs])
        return Snapshots(rows["user_id"], rows["ts"], rows["event_ts"], values, rows["event_id"], self.dropped)

    def point_in_time(self, user: np.ndarray, t: np.ndarray, apply_ttl: bool = True, staleness: float = 0.0,
                      known_at: str = "readable_at") -> np.ndarray:
        """Feature rows for (user, time) points: an ASOF join taking the last write known
        `staleness` seconds before the point (known: served by the online store, or with
        `known_at="ts"` as soon as it arrived), values past their ttl as NaN."""
        cols = ", ".join((f"CASE WHEN p.t - s.event_ts <= {d.ttl} THEN s.{d.name} END AS {d.name}"
                          if apply_ttl else f"s.{d.name}") for d in self.defs)
        sql = (f"SELECT p.row_id, {cols} FROM points_view p ASOF LEFT JOIN {self._latest(known_at)} s "
               f"ON p.user_id = s.user_id AND p.t - {staleness} >= s.{known_at} ORDER BY p.row_id")
        return self._join(user, t, sql)

    def _latest(self, known_at: str) -> str:
        """A table of each user's last write per known-at time (a materialization serves
        the latest of its tick), so the ASOF join has one row to pick."""
        table = f"latest_by_{known_at}"
        if table not in self.tables:
            self.db.execute(f"CREATE TABLE {table} AS SELECT * FROM snapshots QUALIFY row_number() OVER "
                            f"(PARTITION BY user_id, {known_at} ORDER BY ts DESC, event_id DESC) = 1")
            self.tables.add(table)
        return table

    def _join(self, user: np.ndarray, t: np.ndarray, sql: str) -> np.ndarray:
        self.db.register("points_view", {"row_id": np.arange(len(user)), "user_id": user, "t": t})
        rows = self.db.execute(sql).fetchnumpy()
        self.db.unregister("points_view")
        return np.column_stack([_floats(rows[d.name]) for d in self.defs])


def _floats(column) -> np.ndarray:
    """A DuckDB result column as floats, NULL as NaN (fetchnumpy masks NULLs)."""
    return np.ma.filled(np.ma.asarray(column).astype(float), np.nan)


def as_of(snapshots: Snapshots, user: int, t: float, every: float | None = None
          ) -> tuple[np.ndarray | None, float | None]:
    """The latest write for `user` known at `t`: arrived by then, or with `every`, also
    materialized by then (a reference lookup for the tests)."""
    known = snapshots.ts if every is None else readable_at(snapshots.ts, every)
    mine = np.flatnonzero((snapshots.user == user) & (known <= t))
    if not mine.size:
        return None, None
    last = mine[np.argmax(snapshots.ts[mine])]
    return snapshots.values[last], float(snapshots.event_ts[last])
