"""Focused checks of the fraud design's parts: generator, validation, streaming
features, rules engine, and the closed-form scorer against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from mlsd.designs.fraud import DESIGN, FraudConfig
from mlsd.designs.fraud import rules as rules_engine
from mlsd.designs.fraud.data import clean, validate
from mlsd.designs.fraud.features import FEATURES, VelocityState, recompute_features, stream_features
from mlsd.designs.fraud.scoring import LogisticScorer, recalibrate
from mlsd.designs.fraud.world import CRYPTO_CASHOUT, DAY, LEGIT, generate


@pytest.fixture(scope="module")
def world():
    return generate(FraudConfig(**DESIGN.scales["tiny"]), np.random.default_rng(7))


@pytest.fixture(scope="module")
def features(world):
    txns = clean(world.history)
    state = VelocityState(world.card_user, world.user_favourites, world.user_devices, world.user_log_amount)
    return txns, stream_features(state, txns)


def test_generator_is_deterministic_time_ordered_and_about_half_a_percent_fraud(world):
    again = generate(FraudConfig(**DESIGN.scales["tiny"]), np.random.default_rng(7))
    assert np.array_equal(again.history["amount"], world.history["amount"])
    assert np.all(np.diff(world.future["ts"]) >= 0)
    rate = world.history["is_fraud"].mean()
    assert 0.002 < rate < 0.01
    assert not (world.history["pattern"] == CRYPTO_CASHOUT).any()  # the new pattern only after the shift
    after = world.future["ts"] >= world.shift_day * DAY
    assert (world.future["pattern"][after] == CRYPTO_CASHOUT).any()
    assert np.all(world.future["label_time"][world.future["is_fraud"]] > world.future["ts"][world.future["is_fraud"]])


def test_validation_finds_exactly_the_injected_dirt(world):
    found = {row[0]: row[2] for row in validate(world.history, FraudConfig().days)}
    assert found["duplicate: txn_id"] == world.dirt["duplicates"]
    assert found["null: device id"] == world.dirt["null_device"]
    assert found["range: amount > 0"] == world.dirt["negative_amount"]
    cleaned = clean(world.history)
    assert np.unique(cleaned["txn_id"]).size == cleaned["txn_id"].size and (cleaned["amount"] > 0).all()


def test_streaming_features_equal_the_brute_force_recomputation(world, features):
    txns, X = features
    assert X.shape == (txns["ts"].size, len(FEATURES))
    for i in np.random.default_rng(0).choice(txns["ts"].size, 40, replace=False):
        np.testing.assert_allclose(X[i], recompute_features(world, txns, i), rtol=1e-9, atol=1e-9)


def test_features_do_not_see_the_transaction_itself(world, features):
    txns, X = features
    first_of_card = np.unique(txns["card"], return_index=True)[1]
    assert (X[first_of_card, FEATURES.index("card_cnt_24h")] == 0).all()


def test_rules_engine_row_and_matrix_paths_agree(features):
    _, X = features
    rules = rules_engine.load_rules()
    matrix = rules_engine.actions(rules, X)
    rows = [rules_engine.action_of_row(rules, row) for row in X.tolist()]
    assert matrix.tolist() == rows
    assert set(matrix.tolist()) == {rules_engine.APPROVE, rules_engine.REVIEW, rules_engine.DECLINE}


def test_rules_must_name_real_features_and_operators():
    with pytest.raises(ValueError, match="unknown feature"):
        rules_engine.parse_rules([{"name": "x", "when": [["no_such", ">", 1]], "action": "decline"}])
    with pytest.raises(ValueError, match="unknown operator"):
        rules_engine.parse_rules([{"name": "x", "when": [["amount", "=>", 1]], "action": "decline"}])
    with pytest.raises(ValueError, match="action"):
        rules_engine.parse_rules([{"name": "x", "when": [["amount", ">", 1]], "action": "block"}])


def test_closed_form_logistic_scorer_equals_scikit_learn(features):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    txns, X = features
    y = txns["is_fraud"]
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    scorer = LogisticScorer.from_pipeline(pipeline)
    np.testing.assert_allclose(scorer.predict(X[:500]), pipeline.predict_proba(X[:500])[:, 1], rtol=1e-9)
    assert scorer.predict_row(X[3].tolist()) == pytest.approx(pipeline.predict_proba(X[3:4])[0, 1])


def test_recalibration_undoes_negative_downsampling():
    rng = np.random.default_rng(0)
    p_true = rng.uniform(0.001, 0.05, 200000)
    y = rng.random(p_true.size) < p_true
    keep = y | (rng.random(y.size) < 0.1)
    # On the downsampled rows the odds are 10x; a perfectly fitted model would say:
    p_down = 10 * p_true / (10 * p_true + 1 - p_true)
    assert recalibrate(p_down, 0.1) == pytest.approx(p_true)
    assert y[keep].mean() > 5 * y.mean()


def test_legit_rows_carry_the_base_probability(world):
    legit = world.history["pattern"] == LEGIT
    assert np.allclose(world.history["p_true"][legit], world.history["p_true"][legit][0])
