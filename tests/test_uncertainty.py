"""The bootstrap block against independent computations: its weighted PR-AUC and ROC-AUC
equal scikit-learn's with the same sample weights, a mean's interval matches the normal
approximation, and a system compared with itself differs by exactly nothing."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from mlsd.blocks.uncertainty import (average_precision, bootstrap, corpus_bleu, mean_of, paired_difference,
                                     ratio_of_sums, resample_weights, roc_auc)


@pytest.mark.parametrize("ties", [False, True])
def test_weighted_pr_auc_and_roc_auc_equal_scikit_learn(ties):
    rng = np.random.default_rng(3)
    labels = (rng.random(2000) < 0.05).astype(int)
    scores = rng.random(2000) + labels * 0.3
    if ties:
        scores = np.round(scores, 1)  # few distinct values, as the rules engine's three actions
    ap, auc = average_precision(labels, scores), roc_auc(labels, scores)
    for weights in list(resample_weights(labels.size, seed=1, samples=5)) + [np.ones(labels.size)]:
        assert ap(weights) == pytest.approx(average_precision_score(labels, scores, sample_weight=weights), abs=1e-9)
        assert auc(weights) == pytest.approx(roc_auc_score(labels, scores, sample_weight=weights), abs=1e-9)


def test_the_interval_of_a_mean_matches_the_normal_approximation():
    values = np.random.default_rng(0).normal(size=400)
    interval = bootstrap(mean_of(values), values.size, seed=0)
    half_width = 1.96 * values.std() / np.sqrt(values.size)
    assert interval.low == pytest.approx(values.mean() - half_width, abs=0.02)
    assert interval.high == pytest.approx(values.mean() + half_width, abs=0.02)


def test_a_system_against_itself_differs_by_nothing_and_a_clear_gap_is_significant():
    errors, words = np.arange(50.0) % 3, np.full(50, 10.0)
    same = paired_difference(ratio_of_sums(errors, words), ratio_of_sums(errors, words), 50, seed=0)
    assert (same.low, same.high) == (0.0, 0.0) and not same.excludes_zero()
    better = paired_difference(ratio_of_sums(errors, words), ratio_of_sums(errors + 2, words), 50, seed=0)
    assert better.excludes_zero() and better.high < 0


def test_the_same_seed_draws_the_same_resamples():
    first = [w.copy() for w in resample_weights(30, seed=7, samples=3)]
    again = list(resample_weights(30, seed=7, samples=3))
    assert all((a == b).all() and a.sum() == 30 for a, b in zip(first, again))


def test_corpus_bleu_from_sentence_statistics_equals_sacrebleu_on_the_repeated_corpus():
    import sacrebleu

    rng = np.random.default_rng(5)
    words = "a the small large red blue green circle square triangle left right of above below".split()

    def sentence() -> str:
        return " ".join(rng.choice(words, size=rng.integers(3, 9)))

    hyps = [sentence() for _ in range(40)]
    streams = [[sentence() for _ in range(40)] for _ in range(3)]
    bleu = corpus_bleu(hyps, streams)
    assert bleu(np.ones(40)) == pytest.approx(sacrebleu.corpus_bleu(hyps, streams).score, abs=1e-9)
    weights = rng.integers(0, 3, size=40).astype(float)  # a resample: each sentence drawn 0, 1 or 2 times
    repeated = [i for i in range(40) for _ in range(int(weights[i]))]
    expected = sacrebleu.corpus_bleu([hyps[i] for i in repeated], [[s[i] for i in repeated] for s in streams])
    assert bleu(weights) == pytest.approx(expected.score, abs=1e-9)
