"""Sparse BM25 and TF-IDF retrieval over token-id documents, for the search-ranking designs.

Every per-(document, term) weight is computed once at fit time into a scipy sparse matrix,
so a query costs a few column (or row) slices instead of a loop over documents.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp


def _counts(docs: Sequence[Sequence[int]], vocab_size: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Term counts as a (docs x vocab) CSR matrix, and every document's length in tokens."""
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
    tokens = (np.concatenate([np.asarray(d, dtype=np.int64).ravel() for d in docs])
              if lengths.sum() else np.zeros(0, dtype=np.int64))
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise ValueError(f"token ids must lie in [0, {vocab_size})")
    rows = np.repeat(np.arange(len(docs)), lengths)
    counts = sp.csr_matrix((np.ones(tokens.size), (rows, tokens)), shape=(len(docs), vocab_size))
    counts.sum_duplicates()
    return counts, lengths


def _query_terms(query: Sequence[int], vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The query's distinct term ids and how often each occurs in it."""
    q = np.asarray(query, dtype=np.int64).ravel()
    if q.size and (q.min() < 0 or q.max() >= vocab_size):
        raise ValueError(f"query token ids must lie in [0, {vocab_size})")
    return np.unique(q, return_counts=True)


class BM25Index:
    """Okapi BM25 in the Lucene variant (bm25s calls it "lucene"), with k1=1.5 and b=0.75 by default.

    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)) is positive even for a term in every
    document, unlike the original Robertson idf, so common terms never push a score down.
    A term's weight in a document is idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)):
    k1 saturates repeated terms, b normalises for document length (b=0: none).
    """

    def __init__(self, k1: float = 1.5, b: float = 0.75):
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError("need k1 >= 0 and 0 <= b <= 1")
        self.k1, self.b = float(k1), float(b)

    def fit(self, docs: Sequence[Sequence[int]], vocab_size: int) -> "BM25Index":
        counts, self._lengths = _counts(docs, vocab_size)
        n, self._vocab_size = len(docs), vocab_size
        self._avgdl = float(self._lengths.mean()) if n else 0.0
        df = np.bincount(counts.indices, minlength=vocab_size)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        tf = counts.data
        dl = np.repeat(self._lengths, np.diff(counts.indptr)).astype(np.float64)
        norm = 1 - self.b + self.b * dl / (self._avgdl or 1.0)
        weights = idf[counts.indices] * tf * (self.k1 + 1) / (tf + self.k1 * norm)
        rows = sp.csr_matrix((weights.astype(np.float32), counts.indices, counts.indptr),
                             shape=counts.shape)
        self._rows, self._cols = rows, rows.tocsc()   # rows for score_pairs, columns for scores
        return self

    @property
    def doc_lengths(self) -> np.ndarray:
        return self._lengths

    @property
    def avg_doc_length(self) -> float:
        return self._avgdl

    @property
    def n_docs(self) -> int:
        return self._rows.shape[0]

    def scores(self, query: Sequence[int]) -> np.ndarray:
        """BM25 of every document; a term repeated in the query counts once per occurrence."""
        terms, reps = _query_terms(query, self._vocab_size)
        ptr, cols = self._cols.indptr, self._cols
        starts, stops = ptr[terms], ptr[terms + 1]
        if not terms.size or not (stops - starts).sum():
            return np.zeros(self.n_docs, dtype=np.float32)
        pos = np.concatenate([np.arange(a, z) for a, z in zip(starts, stops)])
        mult = np.repeat(reps, stops - starts)
        total = np.bincount(cols.indices[pos], weights=cols.data[pos] * mult, minlength=self.n_docs)
        return total.astype(np.float32)

    def score_pairs(self, query: Sequence[int], doc_ids: np.ndarray) -> np.ndarray:
        """BM25 of the given documents only (re-ranking candidates), touching just their rows."""
        terms, reps = _query_terms(query, self._vocab_size)
        doc_ids = np.asarray(doc_ids, dtype=np.int64).ravel()
        if not terms.size or not doc_ids.size:
            return np.zeros(doc_ids.size, dtype=np.float32)
        sub = self._rows[doc_ids][:, terms]
        return np.asarray(sub @ reps.astype(np.float64), dtype=np.float32).ravel()

    def top_k(self, query: Sequence[int], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best documents and their scores, best first, ties going to the lower doc id."""
        s = self.scores(query)
        k = min(int(k), s.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        kth = s[np.argpartition(-s, k - 1)[k - 1]]
        above = np.flatnonzero(s > kth)
        # argpartition picks arbitrary members of a tie at the cut; take the lowest ids instead.
        cand = np.concatenate([above, np.flatnonzero(s == kth)[:k - above.size]])
        order = np.lexsort((cand, -s[cand]))
        return cand[order], s[cand[order]]


class TfidfVectors:
    """L2-normalised TF-IDF document vectors for cosine similarity, matching scikit-learn's
    TfidfVectorizer(sublinear_tf=True): tf = 1 + ln(count), idf = ln((1 + N) / (1 + df)) + 1.
    """

    def fit(self, docs: Sequence[Sequence[int]], vocab_size: int) -> "TfidfVectors":
        counts, _ = _counts(docs, vocab_size)
        n, self._vocab_size = len(docs), vocab_size
        self._df = np.bincount(counts.indices, minlength=vocab_size)
        self.idf = np.log((1 + n) / (1 + self._df)) + 1
        counts.data = (1 + np.log(counts.data)) * self.idf[counts.indices]
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        self.matrix = sp.csr_matrix(sp.diags(1 / np.where(norms > 0, norms, 1)) @ counts)
        return self

    def cosine(self, query: Sequence[int], doc_ids: np.ndarray) -> np.ndarray:
        """Cosine of the query with each given document; terms in no document are dropped, as
        scikit-learn's transform drops words outside its vocabulary."""
        terms, reps = _query_terms(query, self._vocab_size)
        doc_ids = np.asarray(doc_ids, dtype=np.int64).ravel()
        keep = self._df[terms] > 0
        terms, weights = terms[keep], (1 + np.log(reps[keep])) * self.idf[terms[keep]]
        if not terms.size or not doc_ids.size:
            return np.zeros(doc_ids.size)
        weights /= np.linalg.norm(weights)
        return np.asarray(self.matrix[doc_ids][:, terms] @ weights).ravel()
