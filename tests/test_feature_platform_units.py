"""Feature-platform pieces: the point-in-time join against an independent lookup, the
late-event policy in both computations, the ttl, and the online store."""

from __future__ import annotations

import numpy as np

from mlsd.designs.feature_platform.world import Events
from mlsd.designs.feature_platform.pipeline import FeatureDef, OfflineStore, as_of, stream
from mlsd.designs.feature_platform.serving import OnlineStore, latest_per_user

DEFS = [FeatureDef("views_1h", "user", "view", "count", 3600, 7200),
        FeatureDef("spend_1h", "user", "purchase", "sum", 3600, 7200)]


def events(rows):
    """rows: (user, kind, amount, event_time, arrival_time)."""
    user, kind, amount, et, at = (np.array(c) for c in zip(*rows))
    return Events(np.arange(len(rows)), user, kind, amount.astype(float), et.astype(float), at.astype(float),
                  user[kind == 0], et[kind == 0].astype(float))


def test_windows_are_on_event_time_and_late_events_beyond_the_watermark_are_dropped():
    ev = events([(0, 0, 0, 0, 1), (0, 0, 0, 100, 101), (0, 2, 50, 200, 201),
                 (0, 0, 0, 150, 300),      # late but within 600 s: counted in its window
                 (1, 0, 0, 5000, 5001),
                 (0, 0, 0, 50, 6000)])     # 4,950 s behind the watermark: dropped
    online = stream(ev, DEFS, allowed_lateness=600)
    assert online.dropped == 1 and len(online.user) == 5
    offline = OfflineStore(ev, DEFS, allowed_lateness=600).snapshots()
    assert offline.dropped == 1
    assert np.array_equal(online.user, offline.user) and np.allclose(online.values, offline.values)
    values, _ = as_of(online, 0, 400)
    assert values.tolist() == [3.0, 50.0]  # three views (the late one included), the purchase


def test_point_in_time_join_matches_an_independent_lookup_and_respects_ttl():
    rng = np.random.default_rng(0)
    rows = []
    for u in range(5):
        t = 0.0
        for _ in range(30):
            t += rng.exponential(600)
            rows.append((u, int(rng.integers(0, 3)), float(rng.uniform(1, 9)), t, t + rng.exponential(5)))
    rows.sort(key=lambda r: r[3])
    ev = events(rows)
    store = OfflineStore(ev, DEFS, allowed_lateness=600)
    snaps = store.snapshots()
    users, times = rng.integers(0, 5, 200), rng.uniform(0, 30000, 200)
    joined = store.training_set(users, times, point_in_time=True, apply_ttl=False)
    with_ttl = store.training_set(users, times, point_in_time=True)
    for i, (u, t) in enumerate(zip(users, times)):
        expected, event_ts = as_of(snaps, int(u), float(t))
        if expected is None:
            assert np.isnan(joined[i]).all()
        else:
            assert np.allclose(joined[i], expected)
            assert np.isnan(with_ttl[i]).all() == (t - event_ts > 7200)


def test_online_store_returns_the_latest_values_per_user():
    store = OnlineStore(["a", "b"])
    user, ts = np.array([1, 2, 1]), np.array([10.0, 11.0, 12.0])
    last = latest_per_user(user, ts)
    values = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    store.materialize(user[last], ts[last], values[last])
    rows = {r[0]: r for r in store.get_online_features([1, 2])}
    assert rows[1][2:] == (5.0, 6.0) and rows[2][2:] == (3.0, 4.0)
