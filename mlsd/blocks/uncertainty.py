"""How sure a headline figure is: percentile bootstrap intervals over the test units
(transactions, queries, utterances), for one metric and for the difference between two
systems scored on the same units.

Test sets here are small (58-105 frauds, 100-200 queries, a few hundred utterances), so
a gap between a model and its baseline can be noise. Resampling the units with
replacement and recomputing the metric shows how far the figure moves; the paired
version resamples the same units for both systems, which is what a comparison needs
(the two systems' errors on one unit are correlated).

A metric here is a function of resampling weights: how many times each unit was drawn.
That keeps one resample cheap (a weighted sum, no copy of the data), so 1,000 resamples
of a 30,000-transaction test set take well under a second. The weighted sums are
element-wise products summed (`_dot`), never `@`: a long `@` goes to OpenBLAS, whose own
threads spin for cores a busy machine does not give them (the feature platform's model
stage took 10x its idle time beside seven competing processes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

SAMPLES = 1000          # resamples: enough for stable 2.5th and 97.5th percentiles
CONFIDENCE = 0.95

Statistic = Callable[[np.ndarray], float]   # weights per unit -> the metric on that resample


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def excludes_zero(self) -> bool:
        """A difference whose interval does not straddle 0 is significant at this level."""
        return self.low > 0 or self.high < 0

    def fields(self, prefix: str) -> dict[str, float]:
        """As metric-record fields: ci_low/ci_high, or vs_baseline_low/vs_baseline_high."""
        return {f"{prefix}_low": self.low, f"{prefix}_high": self.high}


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b on this thread (see the module docstring for why not `a @ b`)."""
    return float(np.multiply(a, b).sum())


def resample_weights(n_units: int, seed: int, samples: int = SAMPLES) -> Iterator[np.ndarray]:
    """How often each unit is drawn, per resample; the same sequence for the same seed,
    so two metrics computed from it are paired."""
    rng = np.random.default_rng(seed)
    for _ in range(samples):
        yield np.bincount(rng.integers(0, n_units, n_units), minlength=n_units).astype(float)


def _percentiles(values: list[float]) -> Interval:
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.nanpercentile(np.array(values, dtype=float), [tail, 100 - tail])
    return Interval(float(low), float(high))


def bootstrap(metric: Statistic, n_units: int, seed: int, samples: int = SAMPLES) -> Interval:
    """The CONFIDENCE interval of a metric over resampled units. A resample where the
    metric is undefined (no positive drawn, for a PR-AUC) is NaN and left out."""
    return _percentiles([metric(w) for w in resample_weights(n_units, seed, samples)])


def paired_difference(metric_a: Statistic, metric_b: Statistic, n_units: int, seed: int,
                      samples: int = SAMPLES) -> Interval:
    """The CONFIDENCE interval of metric_a − metric_b, both on the same resampled units."""
    return _percentiles([metric_a(w) - metric_b(w) for w in resample_weights(n_units, seed, samples)])


def mean_of(values: np.ndarray) -> Statistic:
    """A per-unit average (NDCG@10 over queries)."""
    values = np.asarray(values, dtype=float)
    return lambda w: _dot(w, values) / float(w.sum())


def ratio_of_sums(numerators: np.ndarray, denominators: np.ndarray) -> Statistic:
    """Summed over units, then divided: WER is errors over reference words, per utterance."""
    numerators, denominators = np.asarray(numerators, float), np.asarray(denominators, float)
    return lambda w: _dot(w, numerators) / max(_dot(w, denominators), 1e-12)


def average_precision(labels: np.ndarray, scores: np.ndarray) -> Statistic:
    """PR-AUC as scikit-learn's average_precision_score computes it (a step function over
    the distinct scores, ties as one threshold), with resampling weights as sample
    weights; sorted once, so each resample costs a few vector operations.
    tests/test_uncertainty.py checks it against scikit-learn."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="mergesort")
    sorted_scores = np.asarray(scores, dtype=float)[order]
    positive = np.asarray(labels, dtype=float)[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]

    def metric(weights: np.ndarray) -> float:
        w = weights[order]
        true_pos = np.cumsum(w * positive)[last_of_tie]
        flagged = np.cumsum(w)[last_of_tie]
        if true_pos[-1] <= 0:
            return float("nan")
        recall_gain = np.diff(np.r_[0.0, true_pos]) / true_pos[-1]
        precision = np.divide(true_pos, flagged, out=np.zeros_like(true_pos), where=flagged > 0)
        return _dot(recall_gain, precision)

    return metric


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> Statistic:
    """ROC-AUC as scikit-learn's roc_auc_score computes it (ties count half), with
    resampling weights as sample weights: the weighted share of (positive, negative)
    pairs ordered correctly. tests/test_uncertainty.py checks it against scikit-learn."""
    order = np.argsort(np.asarray(scores, dtype=float), kind="mergesort")
    sorted_scores = np.asarray(scores, dtype=float)[order]
    positive = np.asarray(labels, dtype=float)[order]
    group = np.r_[0, np.cumsum(np.diff(sorted_scores) != 0)]   # tie group of each sorted unit

    def metric(weights: np.ndarray) -> float:
        w = weights[order]
        pos_w, neg_w = w * positive, w * (1 - positive)
        neg_per_group = np.bincount(group, weights=neg_w)
        neg_below = np.cumsum(neg_per_group) - neg_per_group       # negatives strictly lower
        total_pos, total_neg = pos_w.sum(), neg_w.sum()
        if total_pos <= 0 or total_neg <= 0:
            return float("nan")
        correct = _dot(pos_w, neg_below[group] + 0.5 * neg_per_group[group])
        return float(correct / (total_pos * total_neg))

    return metric


def _ngram_counts(tokens: list[str], order: int) -> Counter:
    return Counter(tuple(tokens[i:i + order]) for i in range(len(tokens) - order + 1))


def corpus_bleu(hypotheses: list[str], streams: list[list[str]], max_order: int = 4) -> Statistic:
    """sacrebleu's corpus BLEU-4 (13a tokens, exponential smoothing, closest reference
    length) from per-sentence sufficient statistics: clipped n-gram matches, n-gram
    totals and lengths, summed with the resampling weights and scored by sacrebleu's own
    BLEU.compute_bleu. `streams` is one list per reference position, as corpus_bleu takes.
    tests/test_uncertainty.py checks it against sacrebleu.corpus_bleu on repeated data."""
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    tokenize = Tokenizer13a()
    n = len(hypotheses)
    correct, total = np.zeros((n, max_order)), np.zeros((n, max_order))
    sys_len, ref_len = np.zeros(n), np.zeros(n)
    for i, hypothesis in enumerate(hypotheses):
        hyp = tokenize(hypothesis).split()
        refs = [tokenize(stream[i]).split() for stream in streams]
        sys_len[i] = len(hyp)
        ref_len[i] = min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]  # closest, the shorter on a tie
        for order in range(1, max_order + 1):
            most_in_a_reference: Counter = Counter()
            for r in refs:
                most_in_a_reference |= _ngram_counts(r, order)
            hyp_counts = _ngram_counts(hyp, order)
            correct[i, order - 1] = sum(min(c, most_in_a_reference[g]) for g, c in hyp_counts.items())
            total[i, order - 1] = max(len(hyp) - order + 1, 0)

    def metric(weights: np.ndarray) -> float:
        counts = np.rint(weights).astype(int)[:, None]  # resampling weights are whole counts; sacrebleu wants ints
        return float(BLEU.compute_bleu((counts * correct).sum(0).astype(int).tolist(),
                                       (counts * total).sum(0).astype(int).tolist(),
                                       int(_dot(counts[:, 0], sys_len)), int(_dot(counts[:, 0], ref_len)),
                                       smooth_method="exp", max_ngram_order=max_order).score)

    return metric
