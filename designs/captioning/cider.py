"""CIDEr-D, the image-captioning metric of Vedantam, Zitnick and Parikh (CVPR 2015).

It is defined by the COCO caption evaluation code (pycocoevalcap, cider/cider_scorer.py),
and this module gives the same scores as that code on the same tokens. We carry our own
copy because the pycocoevalcap package ships Java jars (tokenizer, METEOR, SPICE) that we
do not want to depend on.

The arithmetic runs on sparse matrices (one row per caption, one column per n-gram), not
in per-caption loops: leave-one-out scoring calls `cider_d` once per reference left out,
for every system, and a caption's row is built once per process and then reused.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

# A word is a run of letters or digits, with apostrophes allowed inside it ("don't").
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# Every n-gram seen gets one column for the life of the process, so cached rows stay valid.
_COLUMNS: dict[tuple[str, ...], int] = {}
_ORDERS: list[int] = []  # the n-gram order of each column


def tokenize(text: str) -> list[str]:
    """Lowercase, drop punctuation and split, a small stand-in for the Java PTB tokenizer."""
    return _WORD.findall(text.lower())


def _ngrams(tokens: list[str], n: int) -> Counter:
    """Counts of every n-gram of orders 1..n in one sentence."""
    return Counter(tuple(tokens[i:i + k])
                   for k in range(1, n + 1) for i in range(len(tokens) - k + 1))


def _column(gram: tuple[str, ...]) -> int:
    if gram not in _COLUMNS:
        _COLUMNS[gram] = len(_ORDERS)
        _ORDERS.append(len(gram))
    return _COLUMNS[gram]


@lru_cache(maxsize=2**16)
def _row(text: str, n: int) -> tuple[np.ndarray, np.ndarray, int]:
    """One caption's n-gram columns, their counts and its length in words (do not modify)."""
    tokens = tokenize(text)
    counts = _ngrams(tokens, n)
    columns = np.fromiter((_column(g) for g in counts), dtype=np.int64, count=len(counts))
    return columns, np.fromiter(counts.values(), dtype=np.float64, count=len(counts)), len(tokens)


def _counts(texts: Sequence[str], n: int):
    """Term counts (CSR, caption x n-gram column; columns as many as seen so far) and lengths."""
    from scipy.sparse import csr_matrix

    rows = [_row(t, n) for t in texts]
    indptr = np.concatenate([[0], np.cumsum([len(columns) for columns, _, _ in rows])])
    indices = np.concatenate([columns for columns, _, _ in rows])
    data = np.concatenate([counts for _, counts, _ in rows])
    lengths = np.array([length for _, _, length in rows], dtype=np.float64)
    return csr_matrix((data, indices, indptr), shape=(len(texts), len(_ORDERS))), lengths


def cider_d(hypotheses: Sequence[str], references: Sequence[Sequence[str]], *,
            n: int = 4, sigma: float = 6.0) -> tuple[float, np.ndarray]:
    """Corpus CIDEr-D and the per-image scores (0 and up, higher is better; about 10
    for a caption identical to every reference of its image).

    references[i] is the list of reference captions of image i (any number >= 1). Document
    frequencies come from the references of this corpus only, as in pycocoevalcap, so a
    score depends on which other images are scored with it.
    """
    from scipy.sparse import csr_matrix

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

    images = len(hypotheses)
    image_of_ref = np.repeat(np.arange(images), [len(refs) for refs in references])
    # Build every row first: the column count is fixed only once all n-grams are seen.
    for text in [*hypotheses, *(r for refs in references for r in refs)]:
        _row(text, n)
    hyp_tf, hyp_len = _counts(hypotheses, n)
    ref_tf, ref_len = _counts([r for refs in references for r in refs], n)
    orders = csr_matrix((np.ones(len(_ORDERS)), (np.arange(len(_ORDERS)), np.array(_ORDERS) - 1)),
                        shape=(len(_ORDERS), n))  # sums a row's columns order by order

    # Document frequency: in how many images' reference sets each n-gram occurs.
    owner = csr_matrix((np.ones(len(image_of_ref)), (image_of_ref, np.arange(len(image_of_ref)))),
                       shape=(images, len(image_of_ref)))
    df = np.asarray(((owner @ (ref_tf > 0)) > 0).sum(axis=0)).ravel()
    # pycocoevalcap: idf = log(images) - log(max(1, df)); an n-gram in no reference set gets log(images)
    idf = np.log(images) - np.log(np.maximum(df, 1.0))
    hyp_w, ref_w = hyp_tf.multiply(idf).tocsr(), ref_tf.multiply(idf).tocsr()
    hyp_norm = np.sqrt((hyp_w.multiply(hyp_w) @ orders).toarray())
    ref_norm = np.sqrt((ref_w.multiply(ref_w) @ orders).toarray())

    # Per (reference, order): the clipped dot product min(w_hyp, w_ref) * w_ref, as
    # pycocoevalcap clips it (not symmetric), over both norms where neither is zero.
    paired = hyp_w[image_of_ref]
    clipped = (paired.minimum(ref_w).multiply(ref_w) @ orders).toarray()
    norms = hyp_norm[image_of_ref] * ref_norm
    cosine = np.divide(clipped, norms, out=clipped.copy(), where=norms > 0)
    # pycocoevalcap measures length in bigrams (len - 1 for non-empty sentences); we count
    # words. The difference in length is the same unless a sentence is empty, and then the
    # similarity is 0 whatever the penalty, so the scores agree.
    penalty = np.exp(-((hyp_len[image_of_ref] - ref_len) ** 2) / (2 * sigma ** 2))
    per_reference = (cosine * penalty[:, None]).mean(axis=1)
    scores = np.bincount(image_of_ref, weights=per_reference, minlength=images)
    scores = scores / np.bincount(image_of_ref, minlength=images) * 10.0
    return float(scores.mean()), scores
