"""Feature-platform pieces against independent computations: the late-event policy in
both computations, the point-in-time join against a plain lookup, ttl at read time,
read-after-write freshness against the materialization formula, served vectors against
the training rows, and the generator's purchase probability against simulation."""

from __future__ import annotations

import numpy as np
import pytest

from mlsd.designs.feature_platform.online import OnlineStore, read_after_write, served_vectors
from mlsd.designs.feature_platform.pipeline import FeatureDef, OfflineStore, as_of, readable_at, stream
from mlsd.designs.feature_platform.world import (BROWSING, BUYING, MAX_VIEWS, Events, next_purchase,
                                                 purchase_probability)

DEFS = [FeatureDef("views_1h", "user", "view", "count", 3600, 7200),
        FeatureDef("spend_1h", "user", "purchase", "sum", 3600, 7200)]
EVERY = 30.0


def events(rows):
    """rows: (user, kind, amount, event_time, arrival_time)."""
    user, kind, amount, et, at = (np.array(c) for c in zip(*rows))
    views = kind == 0
    return Events(np.arange(len(rows)), user, kind, amount.astype(float), et.astype(float), at.astype(float),
                  user[views], et[views].astype(float), np.zeros(views.sum()))


def random_events(seed: int, users: int = 5, per_user: int = 30):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        t = 0.0
        for _ in range(per_user):
            t += rng.exponential(600)
            late = rng.exponential(400) if rng.random() < 0.1 else rng.exponential(5)
            rows.append((u, int(rng.integers(0, 3)), float(rng.uniform(1, 9)), t, t + late))
    rows.sort(key=lambda r: r[3])
    return events(rows)


def test_windows_are_on_event_time_and_late_events_beyond_the_watermark_are_dropped():
    ev = events([(0, 0, 0, 0, 1), (0, 0, 0, 100, 101), (0, 2, 50, 200, 201),
                 (0, 0, 0, 150, 300),      # late but within 600 s: counted in its window
                 (1, 0, 0, 5000, 5001),
                 (0, 0, 0, 50, 6000)])     # 4,950 s behind the watermark: dropped
    online = stream(ev, DEFS, allowed_lateness=600)
    assert online.dropped == 1 and online.dropped_ids.tolist() == [5] and len(online.user) == 5
    offline = OfflineStore(ev, DEFS, allowed_lateness=600, materialize_every=EVERY).snapshots()
    assert offline.dropped == 1
    assert np.array_equal(online.user, offline.user) and np.allclose(online.values, offline.values)
    values, _ = as_of(online, 0, 400)
    assert values.tolist() == [3.0, 50.0]  # three views (the late one included), the purchase


def test_point_in_time_join_matches_an_independent_lookup_and_respects_ttl():
    ev = random_events(0)
    store = OfflineStore(ev, DEFS, allowed_lateness=600, materialize_every=EVERY)
    snaps = store.snapshots()
    rng = np.random.default_rng(1)
    users, times = rng.integers(0, 5, 300), rng.uniform(0, 30000, 300)
    checks = [(store.point_in_time(users, times, apply_ttl=False), EVERY, 0.0),
              (store.point_in_time(users, times, apply_ttl=False, known_at="ts"), None, 0.0),
              (store.point_in_time(users, times, apply_ttl=False, staleness=300), EVERY, 300.0)]
    for joined, every, staleness in checks:
        for i, (u, t) in enumerate(zip(users, times)):
            expected, _ = as_of(snaps, int(u), float(t) - staleness, every)
            assert np.isnan(joined[i]).all() if expected is None else np.allclose(joined[i], expected)
    with_ttl = store.point_in_time(users, times)
    for i, (u, t) in enumerate(zip(users, times)):
        expected, event_ts = as_of(snaps, int(u), float(t), EVERY)
        if expected is not None:
            assert np.isnan(with_ttl[i]).all() == (t - event_ts > 7200)


def test_the_online_store_applies_ttl_when_it_is_read():
    store = OnlineStore(DEFS)
    store.upsert([(1, 100.0, 0, 5.0, 6.0), (2, 100.0, 1, 3.0, 4.0), (1, 200.0, 2, 7.0, 8.0)])
    rows = {r[0]: r for r in store.get_online_features([1, 2, 3], now=7350.0)}
    assert set(rows) == {1, 2}                  # user 3 was never written
    assert rows[1][3:] == (7.0, 8.0)            # the later write replaced the earlier; 7,150 s old, within 7,200
    assert rows[2][3:] == (None, None)          # 7,250 s old: past the ttl, served as missing
    assert rows[2][2] == 1 and rows[1][2] == 2  # the stream offset each row reflects


def test_read_after_write_freshness_matches_the_materialization_formula_and_drops_never_arrive():
    ev = random_events(2)
    online = stream(ev, DEFS, allowed_lateness=600)
    freshness, _ = read_after_write(online, ev, DEFS, EVERY)
    dropped = np.zeros(len(ev), bool)
    dropped[online.dropped_ids] = True
    assert dropped.any() and np.isinf(freshness[dropped]).all()
    formula = readable_at(ev.arrival_time, EVERY) - ev.event_time  # the first run at or after arrival
    assert np.allclose(freshness[~dropped], formula[~dropped])


def test_served_vectors_equal_the_training_rows_and_expose_a_window_bug():
    ev = random_events(3)
    rng = np.random.default_rng(4)
    users, times = rng.integers(0, 5, 200), rng.uniform(0, 30000, 200)
    training = OfflineStore(ev, DEFS, allowed_lateness=600, materialize_every=EVERY).point_in_time(users, times)
    served = served_vectors(stream(ev, DEFS, 600), ev, DEFS, EVERY, users, times)
    same = (np.isnan(served) & np.isnan(training)) | np.isclose(served, training, rtol=0, atol=1e-9)
    assert same.all() and np.isfinite(served).any()
    buggy = served_vectors(stream(ev, DEFS, 600, bug_window_on_arrival="views_1h"), ev, DEFS, EVERY, users, times)
    differs = ~((np.isnan(buggy) & np.isnan(training)) | np.isclose(buggy, training, rtol=0, atol=1e-9))
    assert differs[:, 0].any() and not differs[:, 1].any()


@pytest.mark.parametrize("intent", [BUYING, BROWSING])
def test_purchase_probability_matches_a_simulation_of_the_session(intent):
    end, sims = 0.25, 40_000
    rng = np.random.default_rng(5)
    table = purchase_probability(intent, end)
    for k, carted in ((1, False), (3, False), (3, True), (MAX_VIEWS - 1, False)):
        bought = 0
        for _ in range(sims):
            c = carted
            for step in range(k, MAX_VIEWS + 1):
                if not c and rng.random() < intent.cart_per_view:
                    c = True
                if step == MAX_VIEWS or rng.random() < end:
                    bought += c and rng.random() < intent.buy_if_carted
                    break
        assert table[k, int(carted)] == pytest.approx(bought / sims, abs=0.01)


def test_next_purchase_finds_the_users_first_purchase_after_a_time():
    ev = events([(0, 2, 5, 100, 101), (1, 2, 5, 150, 151), (0, 2, 5, 400, 401), (1, 0, 0, 500, 501)])
    found = next_purchase(ev, np.array([0, 0, 0, 1, 1, 2]), np.array([50.0, 100.0, 401.0, 0.0, 150.0, 0.0]))
    assert found.tolist() == [100.0, 400.0, np.inf, 150.0, np.inf, np.inf]
