"""One feature definition, two computations: the streaming update the online store is
fed from, and the batch SQL the offline store is built with. Both come from
`features.yaml`, and the monitoring stage checks they agree.

Semantics (both paths): events are taken in arrival order; an event whose event time
is more than `allowed_lateness` behind the watermark (the largest event time seen so
far) is dropped and counted. After each accepted event, the user's features are
recomputed over the windows ending at the user's latest event time, and written with
the arrival time as the moment they became known. A point-in-time join picks, for a
(user, time), the last such write at or before that time; a value older than the
feature's ttl reads as missing.
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


@dataclass
class Snapshots:
    """Every feature write: (user, known-at time, latest event time, values)."""

    user: np.ndarray
    ts: np.ndarray
    event_ts: np.ndarray
    values: np.ndarray  # (writes, features)
    dropped: int = 0

    def columns(self, defs: list[FeatureDef]) -> dict[str, np.ndarray]:
        cols = {"user_id": self.user, "ts": self.ts, "event_ts": self.event_ts}
        cols.update({d.name: self.values[:, i] for i, d in enumerate(defs)})
        return cols


def stream(events: Events, defs: list[FeatureDef], allowed_lateness: float,
           bug_window_on_arrival: str | None = None) -> Snapshots:
    """The online path: replay events in arrival order through per-user sorted buffers.
    `bug_window_on_arrival` names a feature to compute (wrongly) over arrival times:
    the kind of mistake a skew check exists to catch."""
    order = np.lexsort((events.event_id, events.arrival_time))
    times: dict[tuple[int, int], list[float]] = {}
    arrivals: dict[tuple[int, int], list[float]] = {}
    amounts: dict[tuple[int, int], list[float]] = {}
    latest: dict[int, float] = {}
    watermark = -np.inf
    out_user, out_ts, out_event_ts, out_values, dropped = [], [], [], [], 0
    kinds = {name: k for k, name in enumerate(EVENT_TYPES)}
    for i in order.tolist():
        et, at, u = float(events.event_time[i]), float(events.arrival_time[i]), int(events.user[i])
        if et < watermark - allowed_lateness:
            dropped += 1
            continue
        watermark = max(watermark, et)
        key = (u, int(events.kind[i]))
        buf = times.setdefault(key, [])
        pos = bisect.bisect_right(buf, et)
        buf.insert(pos, et)
        arrivals.setdefault(key, []).insert(pos, at)
        amounts.setdefault(key, []).insert(pos, float(events.amount[i]))
        now = max(latest.get(u, -np.inf), et)
        latest[u] = now
        row = []
        for d in defs:
            k = (u, kinds[d.source])
            ts, amt = times.get(k, []), amounts.get(k, [])
            if d.name == bug_window_on_arrival:
                inside = [j for j, a in enumerate(arrivals.get(k, [])) if now - d.window < a <= now]
            else:
                inside = range(bisect.bisect_right(ts, now - d.window), bisect.bisect_right(ts, now))
            row.append(float(len(inside)) if d.aggregation == "count" else float(sum(amt[j] for j in inside)))
        out_user.append(u)
        out_ts.append(at)
        out_event_ts.append(now)
        out_values.append(row)
    return Snapshots(np.array(out_user), np.array(out_ts), np.array(out_event_ts), np.array(out_values), dropped)


def offline_sql(defs: list[FeatureDef], allowed_lateness: float) -> str:
    """The batch computation of the same writes, in DuckDB SQL generated from the
    definitions: the watermark and user clock are window functions over arrival order."""
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
    SELECT u.user_id, u.arrival_time AS ts, u.user_now AS event_ts, {", ".join(aggregates)}
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

    def __init__(self, events: Events, defs: list[FeatureDef], allowed_lateness: float) -> None:
        import duckdb

        self.defs = defs
        self.db = duckdb.connect()
        self.db.register("events_view", events.columns())  # DuckDB reads a dict of numpy arrays
        self.db.execute("CREATE TABLE events AS SELECT * FROM events_view")
        self.db.execute(f"CREATE TABLE snapshots AS {offline_sql(defs, allowed_lateness)}")
        self.dropped = len(events) - self.db.execute("SELECT count(*) FROM snapshots").fetchall()[0][0]

    def snapshots(self) -> Snapshots:
        rows = self.db.execute("SELECT * FROM snapshots").fetchnumpy()
        values = np.column_stack([_floats(rows[d.name]) for d in self.defs])
        return Snapshots(rows["user_id"], rows["ts"], rows["event_ts"], values, self.dropped)

    def training_set(self, user: np.ndarray, t: np.ndarray, point_in_time: bool, apply_ttl: bool = True
                     ) -> np.ndarray:
        """Feature rows for (user, time) points: an ASOF join on known-at time, values
        past their ttl as NaN; or the naive join, every point given the user's latest
        values, whatever happened after it."""
        self.db.register("points_view", {"row_id": np.arange(len(user)), "user_id": user, "t": t})
        if point_in_time:
            cols = ", ".join((f"CASE WHEN p.t - s.event_ts <= {d.ttl} THEN s.{d.name} END AS {d.name}"
                              if apply_ttl else f"s.{d.name}") for d in self.defs)
            sql = (f"SELECT p.row_id, {cols} FROM points_view p ASOF LEFT JOIN snapshots s "
                   "ON p.user_id = s.user_id AND p.t >= s.ts ORDER BY p.row_id")
        else:
            cols = ", ".join(f"s.{d.name}" for d in self.defs)
            sql = (f"SELECT p.row_id, {cols} FROM points_view p LEFT JOIN (SELECT * FROM snapshots "
                   "QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY ts DESC) = 1) s "
                   "ON p.user_id = s.user_id ORDER BY p.row_id")
        rows = self.db.execute(sql).fetchnumpy()
        self.db.unregister("points_view")
        return np.column_stack([_floats(rows[d.name]) for d in self.defs])


def _floats(column) -> np.ndarray:
    """A DuckDB result column as floats, NULL as NaN (fetchnumpy masks NULLs)."""
    return np.ma.filled(np.ma.asarray(column).astype(float), np.nan)


def as_of(snapshots: Snapshots, user: int, t: float) -> tuple[np.ndarray | None, float | None]:
    """The latest write for `user` known at `t` (a reference lookup for the skew check)."""
    mine = np.flatnonzero((snapshots.user == user) & (snapshots.ts <= t))
    if not mine.size:
        return None, None
    last = mine[np.argmax(snapshots.ts[mine])]
    return snapshots.values[last], float(snapshots.event_ts[last])
