"""The fraud serving path against independent computations: the SQLite velocity store
round-trips every record exactly, features served through it equal the in-process
streaming features (and a store that forgets to write back is caught), a failed request
leaves the state as it was, and the service's decision is the offline policy's."""

from __future__ import annotations

import copy
import json
import sqlite3

import numpy as np
import pytest

from mlsd.designs.fraud import DESIGN, FraudConfig
from mlsd.designs.fraud import rules as rules_engine
from mlsd.designs.fraud.data import clean
from mlsd.designs.fraud.features import VelocityState, Window, stream_features, transaction_features
from mlsd.designs.fraud.serving import FraudService, encode_requests, request_split
from mlsd.designs.fraud.state_store import (SqliteKV, VelocityStore, decode_card, decode_plain_window, decode_user,
                                            encode_card, encode_plain_window, encode_user)
from mlsd.designs.fraud.world import generate

HEAD = 20_000  # transactions streamed before the store takes over
SERVED = 400


@pytest.fixture(scope="module")
def replay():
    """The state after HEAD transactions, the next SERVED transactions and their
    in-process features (the training rows)."""
    world = generate(FraudConfig(**DESIGN.scales["tiny"]), np.random.default_rng(3))
    txns = clean(world.history)
    state = VelocityState(world.card_user, world.user_favourites, world.user_devices, world.user_log_amount)
    stream_features(state, {k: v[:HEAD] for k, v in txns.items()})
    before = copy.deepcopy(state)
    tail = {k: v[HEAD:HEAD + SERVED] for k, v in txns.items()}
    return before, tail, stream_features(state, tail)


@pytest.fixture
def store(tmp_path, replay):
    kv = SqliteKV(str(tmp_path / "velocity.db"))
    velocity = VelocityStore(kv)
    velocity.load(replay[0])
    yield velocity
    kv.close()


def serve_features(store: VelocityStore, tail: dict, write_back: bool = True) -> np.ndarray:
    rows = []
    for ts, card, user, merchant, category, device, amount in zip(
            *(tail[k].tolist() for k in ("ts", "card", "user", "merchant", "category", "device", "amount"))):
        with store.transaction():
            states = store.read(card, user, merchant, device)
            rows.append(transaction_features(*states, ts, card, merchant, category, device, amount))
            if write_back:
                store.write(card, user, merchant, device, states)
    return np.array(rows)


def test_the_store_is_a_wal_database(store):
    assert store.kv.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_every_record_round_trips_exactly(replay):
    state = replay[0]
    for card in list(state.cards.values())[:200]:
        again = decode_card(encode_card(card))
        assert again == card and again.window.total.hex() == card.window.total.hex()
    for user in list(state.users.values())[:200]:
        assert decode_user(encode_user(user)) == user
    for window in list(state.merchants.values()) + list(state.devices.values())[:200]:
        assert decode_plain_window(encode_plain_window(window)) == window
    assert decode_plain_window(None) == Window()  # an entity not seen yet


def test_store_served_features_equal_the_in_process_features(store, replay):
    _, tail, expected = replay
    served = serve_features(store, tail)
    assert np.array_equal(served, expected)  # bit for bit, not approximately


def test_a_store_that_does_not_write_back_is_caught(store, replay):
    _, tail, expected = replay
    stale = serve_features(store, tail, write_back=False)
    assert (stale != expected).any(axis=1).sum() > SERVED // 10


def test_a_failed_request_leaves_the_state_unchanged(store, replay):
    card, user, merchant = (int(replay[1][k][0]) for k in ("card", "user", "merchant"))
    before = store.kv.get_many([f"card:{card}", f"user:{user}"])
    with pytest.raises(RuntimeError), store.transaction():
        states = store.read(card, user, merchant, -1)
        transaction_features(*states, float(replay[1]["ts"][0]), card, merchant, 0, -1, 10.0)
        store.write(card, user, merchant, -1, states)
        raise RuntimeError("the worker died before COMMIT")
    assert store.kv.get_many([f"card:{card}", f"user:{user}"]) == before


def test_a_second_writer_waits_for_the_first(store, tmp_path):
    other = sqlite3.connect(str(tmp_path / "velocity.db"), timeout=0, isolation_level=None)
    with store.transaction():
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")  # free again after COMMIT
    other.execute("ROLLBACK")
    other.close()


class AmountModel:
    """A stand-in scorer with a known output, so the decision can be checked by hand."""

    def predict_row(self, row):
        return min(row[0] / 1000.0, 1.0)


def test_the_service_answers_with_the_offline_policy(store, replay):
    _, tail, expected = replay
    rules = rules_engine.load_rules()
    service = FraudService(store, AmountModel(), rules, threshold=0.5, review_threshold=0.2)
    responses = [json.loads(service.handle(r)) for r in encode_requests(tail, np.arange(SERVED))]
    assert np.array_equal(np.array(service.rows), expected)
    model_action = np.select([tail["amount"] >= 500, tail["amount"] >= 200],
                             [rules_engine.DECLINE, rules_engine.REVIEW], rules_engine.APPROVE)
    want = np.maximum(model_action, rules_engine.actions(rules, expected))
    assert [r["action"] for r in responses] == [rules_engine.ACTION_NAMES[a] for a in want.tolist()]
    assert [r["txn_id"] for r in responses] == tail["txn_id"].tolist()
    assert all(len(ns) == SERVED for ns in service.timings.values())


def test_short_test_days_shrink_both_runs_alike():
    cfg = FraudConfig(serving_requests=4000, load_requests=2000)
    assert request_split(cfg, 100_000) == (4000, 2000)
    assert request_split(cfg, 3000) == (2000, 1000)
