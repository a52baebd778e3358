"""How captions are scored: BLEU-4 and CIDEr-D leave-one-out, object F1 against the truth.

The ceiling of a reference-based metric is human agreement: each of an image's k
references scored against the other k - 1 (COCO's practice). A system is scored against
the same k reduced reference sets and the k scores are averaged, so a model and the
humans are compared on equal terms; scored against all k, the model would have one more
reference to match than any human has.

BLEU is sacrebleu's corpus BLEU-4 (13a tokens, exponential smoothing, closest reference
length): per-caption sufficient statistics counted here once per distinct caption, summed
and scored by sacrebleu's formula in numpy (five folds, a thousand bootstrap resamples).
tests/test_captioning_scoring.py checks each fold against `sacrebleu.corpus_bleu` on the
reduced reference sets, and the formula against sacrebleu's `BLEU.compute_bleu`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mlsd.blocks.synthetic import scenes as scene_lib
from mlsd.designs.captioning.cider import cider_d

MAX_ORDER = 4  # BLEU-4


def without(references: Sequence[Sequence[str]], left_out: int) -> list[list[str]]:
    """Each image's references with the one at position `left_out` removed."""
    return [list(refs[:left_out]) + list(refs[left_out + 1:]) for refs in references]


@lru_cache(maxsize=2**16)
def _grams(caption: str) -> tuple[int, Counter]:
    """A caption's 13a token count and its n-gram counts, orders 1-4 (do not modify)."""
    tokens = _tokenizer_13a()(caption).split()
    return len(tokens), Counter(tuple(tokens[i:i + k]) for k in range(1, MAX_ORDER + 1)
                                for i in range(len(tokens) - k + 1))


@lru_cache(maxsize=1)
def _tokenizer_13a():
    """sacrebleu's default tokeniser, made once (importing sacrebleu is not free)."""
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    return Tokenizer13a()


def bleu_statistics(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> np.ndarray:
    """sacrebleu's per-caption sufficient statistics, one row per image: hypothesis
    length, closest reference length (the shorter on a tie), clipped n-gram matches and
    n-gram totals for orders 1-4."""
    stats = np.zeros((len(hypotheses), 2 + 2 * MAX_ORDER), dtype=np.int64)
    for i, (hypothesis, refs) in enumerate(zip(hypotheses, references)):
        length, counts = _grams(hypothesis)
        ref_grams = [_grams(r) for r in refs]
        stats[i, 0] = length
        stats[i, 1] = min((abs(n - length), n) for n, _ in ref_grams)[1]
        for gram, count in counts.items():
            most = max(ref_counts.get(gram, 0) for _, ref_counts in ref_grams)
            stats[i, 1 + len(gram)] += min(count, most)
        for order in range(1, MAX_ORDER + 1):
            stats[i, 1 + MAX_ORDER + order] = max(length - order + 1, 0)
    return stats


def bleu_from_totals(totals: np.ndarray) -> np.ndarray:
    """Corpus BLEU-4 (0-100, higher is better) of summed statistics, over the last axis
    and vectorised over the others: sacrebleu's `BLEU.compute_bleu` with exponential
    smoothing (an order with no match counts 1 / 2^k matches, k = such orders so far;
    no match at all, or an order with no n-grams, scores 0), in numpy so a bootstrap
    resample of five folds costs one array operation. Tested against sacrebleu."""
    totals = np.asarray(totals, dtype=np.float64)
    sys_len, ref_len = totals[..., 0], totals[..., 1]
    correct, counted = totals[..., 2:2 + MAX_ORDER], totals[..., 2 + MAX_ORDER:]
    unmatched = correct == 0
    safe = np.maximum(counted, 1.0)
    precision = np.where(unmatched, 100.0 / (2.0 ** np.cumsum(unmatched, axis=-1) * safe), 100.0 * correct / safe)
    score = np.exp(np.log(precision).sum(axis=-1) / MAX_ORDER)
    shorter = sys_len < ref_len
    brevity = np.exp(1 - ref_len / np.where(shorter, np.maximum(sys_len, 1.0), 1.0))
    score = score * np.where(shorter & (sys_len > 0), brevity, np.where(shorter, 0.0, 1.0))
    return np.where(unmatched.all(axis=-1) | (counted == 0).any(axis=-1), 0.0, score)


@dataclass(frozen=True)
class LeaveOneOutBleu:
    """BLEU-4 averaged over the folds (one per reference left out); callable on bootstrap
    weights (whole counts per image), so it plugs into `mlsd.blocks.uncertainty`."""

    stats: np.ndarray  # (folds, images, 2 + 2 * MAX_ORDER) from bleu_statistics

    def __call__(self, weights: np.ndarray | None = None) -> float:
        if weights is None:
            totals = self.stats.sum(axis=1)
        else:  # einsum on integers: no BLAS threads (see mlsd/blocks/uncertainty.py)
            totals = np.einsum("fni,n->fi", self.stats, np.rint(weights).astype(np.int64))
        return float(bleu_from_totals(totals).mean())

    @property
    def per_fold(self) -> list[float]:
        return bleu_from_totals(self.stats.sum(axis=1)).tolist()


def _folds(references: Sequence[Sequence[str]]) -> range:
    counts = {len(refs) for refs in references}
    if len(counts) != 1 or min(counts) < 2:
        raise ValueError(f"leave-one-out needs the same number (>= 2) of references per image, got {sorted(counts)}")
    return range(counts.pop())


def system_bleu(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> LeaveOneOutBleu:
    """A system's captions against each reduced reference set."""
    return LeaveOneOutBleu(np.stack([bleu_statistics(hypotheses, without(references, k)) for k in _folds(references)]))


def human_bleu(references: Sequence[Sequence[str]]) -> LeaveOneOutBleu:
    """Human agreement: reference k of every image against that image's other references."""
    return LeaveOneOutBleu(np.stack([bleu_statistics([refs[k] for refs in references], without(references, k))
                                     for k in _folds(references)]))


def system_cider(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """CIDEr-D averaged over the reduced reference sets (document frequencies per set)."""
    return float(np.mean([cider_d(hypotheses, without(references, k))[0] for k in _folds(references)]))


def human_cider(references: Sequence[Sequence[str]]) -> float:
    return float(np.mean([cider_d([refs[k] for refs in references], without(references, k))[0]
                          for k in _folds(references)]))


def object_f1s(captions: Sequence[str], scenes: Sequence[scene_lib.Scene]) -> np.ndarray:
    """Object F1 of each caption against its scene (0-1): the generator's truth."""
    return np.array([scene_lib.object_f1(c, s) for c, s in zip(captions, scenes)])


def scores(hypotheses: Sequence[str], split, *, cider: bool = True) -> dict[str, float]:
    """BLEU-4 (0-100) and CIDEr-D, both leave-one-out, and object F1 of a system's captions."""
    out = {"bleu": system_bleu(hypotheses, split.references)(),
           "object_f1": float(object_f1s(hypotheses, split.scenes).mean())}
    if cider:
        out["cider"] = system_cider(hypotheses, split.references)
    return out


def human_agreement(split) -> dict[str, float]:
    """The ceiling: each reference scored like a system against the other references;
    object F1 is the mean over every reference (it needs no references)."""
    return {"bleu": human_bleu(split.references)(), "cider": human_cider(split.references),
            "object_f1": float(np.mean([object_f1s([refs[k] for refs in split.references], split.scenes).mean()
                                        for k in _folds(split.references)]))}
