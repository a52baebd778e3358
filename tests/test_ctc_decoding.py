"""CTC decoding and the word bigram LM: greedy collapsing, prefix beam search against a
brute-force best labelling, LM shallow fusion, LM normalisation and perplexity, speed."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from mlsd.designs.speech.ctc_decoding import greedy, prefix_beam_search
from mlsd.designs.speech.ngram_lm import WordBigramLM

ALPHABET = ["_", " ", "a", "c", "e", "g", "h", "o", "p", "r", "s", "t", "d", "n", "u"]


def posteriors(frames: list[dict[str, float]], alphabet=ALPHABET, floor: float = 0.002) -> np.ndarray:
    """Log posteriors from per-frame {char: prob}; the rest of each row is a small floor."""
    index = {c: i for i, c in enumerate(alphabet)}
    rows = np.full((len(frames), len(alphabet)), floor)
    for t, frame in enumerate(frames):
        for c, p in frame.items():
            rows[t, index[c]] = p
    return np.log(rows / rows.sum(axis=1, keepdims=True))


def spell(text: str, ambiguous: dict[int, dict[str, float]] | None = None) -> list[dict[str, float]]:
    """One confident frame per character, each followed by a blank frame; position i of the
    text can be replaced by an ambiguous frame."""
    frames = []
    for i, c in enumerate(text):
        frames.append((ambiguous or {}).get(i, {c: 0.9}))
        frames.append({"_": 0.9})
    return frames


def collapse(path, blank=0):
    out, prev = [], None
    for s in path:
        if s != prev and s != blank:
            out.append(s)
        prev = s
    return tuple(out)


def brute_force_labellings(log_probs: np.ndarray) -> dict[tuple, float]:
    """Probability of every labelling, summing exp(path score) over all paths."""
    totals: dict[tuple, float] = {}
    frames, symbols = log_probs.shape
    for path in itertools.product(range(symbols), repeat=frames):
        p = math.exp(sum(log_probs[t, s] for t, s in enumerate(path)))
        key = collapse(path)
        totals[key] = totals.get(key, 0.0) + p
    return totals


def test_greedy_collapses_repeats_and_blank_separates_them():
    lp = posteriors([{"a": 0.9}, {"a": 0.9}, {"_": 0.9}, {"a": 0.9}, {"c": 0.9}, {"c": 0.9}])
    assert greedy(lp, ALPHABET) == "aac"
    lp = posteriors([{"a": 0.9}, {"a": 0.9}, {"a": 0.9}])
    assert greedy(lp, ALPHABET) == "a"
    assert greedy(posteriors([{"_": 0.9}] * 4), ALPHABET) == ""


def test_beam_search_finds_best_labelling_where_greedy_does_not():
    # Blank wins every frame, so the best path is the empty labelling (0.4^3 = 0.064), but
    # the many paths spelling "a" add up to far more (0.309).
    alphabet = ["_", "a", "b"]
    lp = np.log(np.array([[0.4, 0.35, 0.25]] * 3))
    totals = brute_force_labellings(lp)
    best = max(totals, key=totals.get)
    assert best == (1,)
    assert greedy(lp, alphabet) == ""
    assert prefix_beam_search(lp, alphabet, beam=16, prune=-50.0) == "a"


def test_beam_search_matches_brute_force_on_random_tiny_cases():
    rng = np.random.default_rng(0)
    alphabet = ["_", "a", "b"]
    disagreements = 0
    for _ in range(60):
        probs = rng.dirichlet(np.ones(3) * 1.5, size=3)
        lp = np.log(probs)
        totals = brute_force_labellings(lp)
        best = max(totals, key=totals.get)
        if sorted(totals.values())[-2] > totals[best] * (1 - 1e-9):
            continue  # a tie: either answer is right
        decoded = prefix_beam_search(lp, alphabet, beam=32, prune=-50.0)
        assert decoded == "".join(alphabet[s] for s in best)
        disagreements += greedy(lp, alphabet) != decoded
    assert disagreements > 0  # the random cases include ones where greedy is wrong


def test_beam_one_equals_greedy_on_peaked_posteriors():
    # One symbol carries ~90% of every frame, so the best path is also the best labelling.
    # (On flat posteriors beam 1 may legitimately differ: it keeps the best *prefix*.)
    rng = np.random.default_rng(1)
    for _ in range(20):
        probs = rng.dirichlet(np.ones(len(ALPHABET)), size=40) * 0.1
        probs[np.arange(40), rng.integers(0, len(ALPHABET), size=40)] += 0.9
        lp = np.log(probs)
        assert prefix_beam_search(lp, ALPHABET, beam=1) == greedy(lp, ALPHABET)


GRAMMAR = [f"{d} {n} {v}" for d in ("the", "a") for n in ("cat", "dog")
           for v in ("ran", "sat", "hopped")] + ["he wore a cap", "a red cap", "the cap is red"]


@pytest.fixture(scope="module")
def lm():
    return WordBigramLM().fit(GRAMMAR)


def test_lm_fusion_fixes_an_acoustically_ambiguous_word(lm):
    # "the ca? sat": the acoustics slightly prefer "p" over "t".
    text = "the cat sat"
    lp = posteriors(spell(text, {6: {"p": 0.5, "t": 0.45}}))
    assert greedy(lp, ALPHABET) == "the cap sat"
    assert prefix_beam_search(lp, ALPHABET) == "the cap sat"
    assert prefix_beam_search(lp, ALPHABET, lm=lm, lm_weight=0.5) == "the cat sat"
    assert lm.sentence_log_prob("the cat sat") > lm.sentence_log_prob("the cap sat")


def test_lm_fusion_scores_the_last_word_at_the_end(lm):
    # The ambiguity is in the final word, which no space closes.
    lp = posteriors(spell("the dog ran", {9: {"u": 0.5, "a": 0.45}}))
    assert prefix_beam_search(lp, ALPHABET) == "the dog run"
    assert prefix_beam_search(lp, ALPHABET, lm=lm, lm_weight=0.5) == "the dog ran"


def test_lm_probabilities_sum_to_one_with_the_unknown_floor(lm):
    targets = sorted(lm.vocab)  # every known word plus </s>
    assert "</s>" in targets and "<s>" not in targets
    for previous in ("<s>", "the", "cap", "never-seen-context"):
        known = sum(math.exp(lm.log_prob(w, previous)) for w in targets)
        # The known vocabulary carries 1 - unk_prob; one <unk> class carries the floor.
        assert known == pytest.approx(1.0 - lm.unk_prob, abs=1e-9)
        assert known + math.exp(lm.log_prob("zebra", previous)) == pytest.approx(1.0, abs=1e-9)


def test_lm_unknown_word_gets_the_floor(lm):
    assert lm.log_prob("zebra", "the") == pytest.approx(math.log(lm.unk_prob))
    assert lm.log_prob("zebra", "the") < min(lm.log_prob(w, "the") for w in lm.vocab)
    assert math.isfinite(lm.sentence_log_prob("the zebra sat"))


def test_lm_perplexity_lower_on_grammatical_than_shuffled_sentences(lm):
    rng = random.Random(0)
    shuffled = []
    for s in GRAMMAR:
        words = s.split()
        while words == s.split():
            rng.shuffle(words)
        shuffled.append(" ".join(words))
    assert lm.perplexity(GRAMMAR) < lm.perplexity(shuffled)
    assert lm.perplexity(GRAMMAR) > 1.0
