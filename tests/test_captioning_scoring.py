"""Leave-one-out scoring (designs/captioning/scoring.py) against sacrebleu and cider_d
called directly on the reduced reference sets, built here independently."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sacrebleu

from mlsd.blocks.synthetic import scenes
from mlsd.designs.captioning import scoring
from mlsd.designs.captioning.cider import cider_d

WORDS = "a the red blue green small large circle square cross to left of right above below and with".split()


def corpus(images: int = 120, references: int = 5, seed: int = 3):
    """Hypotheses and references over a small vocabulary, so n-grams of every order match."""
    rng = random.Random(seed)

    def sentence() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 11)))

    refs = [[sentence() for _ in range(references)] for _ in range(images)]
    hyps = [rng.choice(r) if rng.random() < 0.3 else sentence() for r in refs]  # some exact copies
    return hyps, refs


def reduced_streams(refs, left_out):
    """sacrebleu's streams (one list per reference position) without position `left_out`."""
    return [[r[k] for r in refs] for k in range(len(refs[0])) if k != left_out]


def test_each_fold_is_sacrebleu_on_the_reduced_references():
    hyps, refs = corpus()
    loo = scoring.system_bleu(hyps, refs)
    expected = [sacrebleu.corpus_bleu(hyps, reduced_streams(refs, k)).score for k in range(5)]
    np.testing.assert_allclose(loo.per_fold, expected, rtol=0, atol=1e-9)
    assert loo() == pytest.approx(np.mean(expected), abs=1e-9)
    every_reference = [[r[k] for r in refs] for k in range(5)]
    assert loo() < sacrebleu.corpus_bleu(hyps, every_reference).score  # fewer references to match


def test_human_agreement_scores_each_reference_against_the_others():
    _, refs = corpus(references=4, seed=5)
    expected = [sacrebleu.corpus_bleu([r[k] for r in refs], reduced_streams(refs, k)).score for k in range(4)]
    np.testing.assert_allclose(scoring.human_bleu(refs).per_fold, expected, rtol=0, atol=1e-9)
    cider = [cider_d([r[k] for r in refs], [[c for j, c in enumerate(r) if j != k] for r in refs])[0]
             for k in range(4)]
    assert scoring.human_cider(refs) == pytest.approx(np.mean(cider), abs=1e-12)


def test_system_cider_averages_cider_d_over_the_reduced_sets():
    hyps, refs = corpus(seed=8)
    expected = [cider_d(hyps, [[c for j, c in enumerate(r) if j != k] for r in refs])[0] for k in range(5)]
    assert scoring.system_cider(hyps, refs) == pytest.approx(np.mean(expected), abs=1e-12)


def test_bootstrap_weights_repeat_images():
    hyps, refs = corpus(images=40, seed=9)
    weights = np.random.default_rng(0).integers(0, 3, len(hyps)).astype(float)
    repeated = np.repeat(np.arange(len(hyps)), weights.astype(int))
    expected = np.mean([sacrebleu.corpus_bleu([hyps[i] for i in repeated],
                                              reduced_streams([refs[i] for i in repeated], k)).score
                        for k in range(5)])
    assert scoring.system_bleu(hyps, refs)(weights) == pytest.approx(expected, abs=1e-9)


def test_a_copy_of_every_reference_is_not_a_perfect_score_when_left_out():
    """The point of leaving one out: a human caption never counts as its own reference."""
    _, refs = corpus(seed=4)
    perfect = scoring.system_bleu([r[0] for r in refs], refs).per_fold
    assert perfect[1] == pytest.approx(100.0) and perfect[0] < 100.0


def test_human_object_f1_is_the_mean_over_every_reference():
    rng = np.random.default_rng(2)
    scene_list = scenes.sample_scenes(30, rng)
    refs = [scenes.captions(s, rng, 5) for s in scene_list]
    split = type("Split", (), {"references": refs, "scenes": scene_list})()
    expected = np.mean([scenes.object_f1(c, s) for r, s in zip(refs, scene_list) for c in r])
    assert scoring.human_agreement(split)["object_f1"] == pytest.approx(expected)


def test_leave_one_out_needs_the_same_number_of_references():
    with pytest.raises(ValueError, match="same number"):
        scoring.system_bleu(["a red circle", "a blue square"], [["a red circle", "a circle"], ["a blue square"]])


def test_the_bleu_formula_is_sacrebleus_compute_bleu():
    from sacrebleu.metrics.bleu import BLEU

    rng = np.random.default_rng(1)
    counted = rng.integers(0, 60, (400, 4))
    correct = np.minimum(counted, rng.integers(0, 40, (400, 4))) * (rng.random((400, 4)) > 0.2)
    lengths = rng.integers(0, 80, (400, 2))
    totals = np.hstack([lengths, correct, counted])
    totals[:5] = [[10, 12, 0, 0, 0, 0, 9, 8, 7, 6], [0, 5, 0, 0, 0, 0, 0, 0, 0, 0],  # no match; empty output
                  [7, 7, 7, 6, 0, 0, 7, 6, 5, 4], [3, 9, 3, 2, 1, 0, 3, 2, 1, 0],     # unmatched orders; no 4-grams
                  [12, 8, 11, 9, 7, 5, 12, 11, 10, 9]]                              # longer than the reference
    expected = [BLEU.compute_bleu(t[2:6].tolist(), t[6:].tolist(), int(t[0]), int(t[1]),
                                  smooth_method="exp", max_ngram_order=4).score for t in totals]
    np.testing.assert_allclose(scoring.bleu_from_totals(totals), expected, rtol=1e-12, atol=1e-9)
