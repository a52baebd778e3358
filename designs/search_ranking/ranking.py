"""Retrieval, fusion, the ranking metrics and the oracles every search stage shares.

Sparse: BM25 (`mlsd.designs.search_ranking.bm25`, Lucene variant, k1 1.5, b 0.75). Dense: LSA, a truncated
SVD of the TF-IDF matrix, searched with a FAISS inner-product index. Fusion:
reciprocal rank fusion. Metrics: NDCG@10 with exponential gains (2^grade - 1) and the
ideal ranking taken over every judged document of the query, not just the retrieved
ones, so a relevant document retrieval missed costs NDCG; MRR of the first document
of grade 2 or more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlsd.designs.search_ranking.bm25 import BM25Index, TfidfVectors
from mlsd.designs.search_ranking.world import Corpus, Queries

RRF_K = 60
RELEVANT_GRADE = 2


@dataclass
class Retrievers:
    bm25: BM25Index
    tfidf: TfidfVectors
    svd: object             # sklearn TruncatedSVD over TF-IDF
    doc_vectors: np.ndarray  # (docs, dim) L2-normalised LSA vectors
    index: object           # faiss.IndexFlatIP over doc_vectors
    corpus: Corpus
    log_length: np.ndarray  # per document, computed once: features read it for every candidate

    @classmethod
    def fit(cls, corpus: Corpus, dense_dim: int, seed: int) -> Retrievers:
        import faiss
        from sklearn.decomposition import TruncatedSVD

        bm25 = BM25Index().fit(corpus.docs, corpus.vocab_size)
        tfidf = TfidfVectors().fit(corpus.docs, corpus.vocab_size)
        svd = TruncatedSVD(dense_dim, random_state=seed).fit(tfidf.matrix)
        vectors = _normalise(svd.transform(tfidf.matrix)).astype(np.float32)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return cls(bm25, tfidf, svd, vectors, index, corpus, np.log([len(d) for d in corpus.docs]))

    def query_vector(self, query: np.ndarray) -> np.ndarray:
        """The query in the LSA space: its TF-IDF row through the same SVD."""
        terms, reps = np.unique(query, return_counts=True)
        weights = (1 + np.log(reps)) * self.tfidf.idf[terms]
        vector = self.svd.components_[:, terms] @ weights  # what svd.transform computes, without its checks
        return _normalise(vector[None]).astype(np.float32)[0]

    def bm25_top(self, query: np.ndarray, k: int) -> np.ndarray:
        return self.bm25.top_k(query, k)[0]

    def dense_top(self, query: np.ndarray, k: int) -> np.ndarray:
        _, ids = self.index.search(self.query_vector(query)[None], k)
        return ids[0]

    def hybrid_top(self, query: np.ndarray, k: int) -> np.ndarray:
        return rrf([self.bm25_top(query, k), self.dense_top(query, k)])[:k]


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def rrf(rankings: list[np.ndarray], k: int = RRF_K) -> np.ndarray:
    """Reciprocal rank fusion: score(d) = sum over rankings of 1 / (k + rank); robust
    because it needs no score calibration between BM25 and cosine."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, d in enumerate(ranking.tolist(), start=1):
            scores[d] = scores.get(d, 0.0) + 1.0 / (k + rank)
    return np.array(sorted(scores, key=lambda d: (-scores[d], d)), dtype=np.int64)


def dcg(grades: np.ndarray, k: int) -> float:
    g = grades[:k]
    return float(np.sum((2.0 ** g - 1) / np.log2(np.arange(2, len(g) + 2))))


def ndcg_at(ranked: np.ndarray, queries: Queries, q: int, k: int = 10) -> float:
    """NDCG@k of a ranked list against every judged document of the query."""
    _, judged = queries.judged[q]
    ideal = dcg(np.sort(judged)[::-1], k)
    return dcg(queries.grades(q, ranked[:k]), k) / ideal if ideal > 0 else 0.0


def reciprocal_rank(ranked: np.ndarray, queries: Queries, q: int) -> float:
    hits = np.flatnonzero(queries.grades(q, ranked) >= RELEVANT_GRADE)
    return 1.0 / (hits[0] + 1) if hits.size else 0.0


def evaluate(rankings: dict[int, np.ndarray], queries: Queries) -> tuple[float, float]:
    """Mean NDCG@10 and MRR over the queries ranked."""
    return (float(np.mean([ndcg_at(r, queries, q) for q, r in rankings.items()])),
            float(np.mean([reciprocal_rank(r, queries, q) for q, r in rankings.items()])))


def oracle_ranking(queries: Queries, q: int, candidates: np.ndarray | None = None) -> np.ndarray:
    """The generator's best order: by hidden utility, over every document on the query's
    topic or over given candidates. The expected judged grade rises with the utility, so
    this is also the order by expected grade: the best any ranker can do before the
    judges' noise, which no ranker can predict."""
    ids, utility = queries.truth[q] if candidates is None else (candidates, queries.utility(q, candidates))
    return ids[np.argsort(-utility, kind="stable")]


def judged_order(queries: Queries, q: int, candidates: np.ndarray) -> np.ndarray:
    """Candidates sorted by their own judged grades. It reads the test labels, judge noise
    included: a ceiling of this retrieval that no ranker can reach, not an oracle."""
    return candidates[np.argsort(-queries.grades(q, candidates), kind="stable")]
