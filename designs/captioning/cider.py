"""CIDEr-D, the image-captioning metric of Vedantam, Zitnick and Parikh (CVPR 2015).

It is defined by the COCO caption evaluation code (pycocoevalcap, cider/cider_scorer.py),
and this module gives the same scores as that code on the same tokens. We carry our own
copy because the pycocoevalcap package ships Java jars (tokenizer, METEOR, SPICE) that we
do not want to depend on.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

# A word is a run of letters or digits, with apostrophes allowed inside it ("don't").
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def tokenize(text: str) -> list[str]:
    """Lowercase, drop punctuation and split, a small stand-in for the Java PTB tokenizer."""
    return _WORD.findall(text.lower())


def _ngrams(tokens: list[str], n: int) -> Counter:
    """Counts of every n-gram of orders 1..n in one sentence."""
    return Counter(tuple(tokens[i:i + k])
                   for k in range(1, n + 1) for i in range(len(tokens) - k + 1))


def _tfidf(counts: Counter, idf: dict, max_idf: float, n: int):
    """Per-order tf-idf vectors and their L2 norms.

    An n-gram in no reference set gets the largest idf, log(images), as pycocoevalcap's
    log(max(1, df)) gives it.
    """
    vec: list[dict] = [{} for _ in range(n)]
    for gram, tf in counts.items():
        vec[len(gram) - 1][gram] = tf * idf.get(gram, max_idf)
    return vec, [math.sqrt(sum(w * w for w in v.values())) for v in vec]


def _similarity(hyp, ref, delta: int, sigma: float) -> list[float]:
    """Per-order clipped cosine similarity times the Gaussian length penalty.

    The clipping follows pycocoevalcap: min(w_hyp, w_ref) * w_ref, which is not symmetric.
    """
    penalty = math.exp(-(delta ** 2) / (2 * sigma ** 2))
    out = []
    for h, h_norm, r, r_norm in zip(*hyp, *ref):
        val = sum(min(w, r.get(g, 0.0)) * r.get(g, 0.0) for g, w in h.items())
        if h_norm and r_norm:  # a zero norm means val is 0 too, so no NaN
            val /= h_norm * r_norm
        out.append(val * penalty)
    return out


def cider_d(hypotheses: Sequence[str], references: Sequence[Sequence[str]], *,
            n: int = 4, sigma: float = 6.0) -> tuple[float, np.ndarray]:
    """Corpus CIDEr-D and the per-image scores.

    references[i] is the list of reference captions of image i (any number >= 1). Document
    frequencies come from the references of this corpus only, as in pycocoevalcap, so a
    score depends on which other images are scored with it.
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} reference sets; "
                         "there must be exactly one hypothesis per image")
    if not hypotheses:
        raise ValueError("CIDEr-D needs at least one image")
    if n < 1 or sigma <= 0:
        raise ValueError(f"need n >= 1 and sigma > 0, got n={n}, sigma={sigma}")
    for i, refs in enumerate(references):
        if isinstance(refs, str) or len(refs) == 0:
            raise ValueError(f"image {i} needs a list of at least one reference caption, "
                             f"got {refs!r}")

    hyp_tokens = [tokenize(h) for h in hypotheses]
    ref_tokens = [[tokenize(r) for r in refs] for refs in references]
    hyp_counts = [_ngrams(t, n) for t in hyp_tokens]
    ref_counts = [[_ngrams(t, n) for t in refs] for refs in ref_tokens]

    df: Counter = Counter()  # in how many images' reference sets each n-gram occurs
    for counts in ref_counts:
        df.update(set().union(*counts))
    log_images = math.log(len(hypotheses))  # pycocoevalcap's ref_len
    idf = {gram: log_images - math.log(count) for gram, count in df.items()}

    # pycocoevalcap measures length in bigrams (len - 1 for non-empty sentences); we count
    # words. The difference in length is the same unless a sentence is empty, and then the
    # similarity is 0 whatever the penalty, so the scores agree.
    scores = np.zeros(len(hypotheses))
    for i, (h_tok, h_cnt) in enumerate(zip(hyp_tokens, hyp_counts)):
        hyp = _tfidf(h_cnt, idf, log_images, n)
        total = np.zeros(n)
        for r_tok, r_cnt in zip(ref_tokens[i], ref_counts[i]):
            ref = _tfidf(r_cnt, idf, log_images, n)
            total += _similarity(hyp, ref, len(h_tok) - len(r_tok), sigma)
        scores[i] = total.mean() / len(ref_counts[i]) * 10.0
    return float(scores.mean()), scores
