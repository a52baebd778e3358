"""Retrieval quality: Recall@K as image retrieval defines it (the share of queries with
at least one matching image in the top K, the measure CLIP and metric-learning papers
report), precision@10, and exact search with faiss as the ranking every system here is
judged by."""

from __future__ import annotations

import numpy as np

KS = (1, 5, 10)


def exact_top(queries: np.ndarray, gallery: np.ndarray, k: int) -> np.ndarray:
    """(queries, k) gallery rows by inner product, best first: faiss IndexFlatIP."""
    import faiss

    index = faiss.IndexFlatIP(gallery.shape[1])
    index.add(np.ascontiguousarray(gallery, dtype=np.float32))
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)[1]


def top_by_score(scores: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """(queries, k) rows with the highest scores, ties broken at random (the oracle's
    and the random baseline's ranking)."""
    jitter = rng.random(scores.shape) * 1e-6  # below any real score gap
    return np.argsort(-(scores + jitter), axis=1)[:, :k]


def hits(top: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """(queries, k) bool: whether each returned image matches its query."""
    return np.take_along_axis(relevant, top, axis=1)


def recall_at(top: np.ndarray, relevant: np.ndarray, k: int) -> np.ndarray:
    """Per query, 1.0 when a matching image is among the first k, else 0.0 (range 0-1,
    higher is better). Queries with no matching image in the gallery are left out by
    the caller: no system can find one."""
    return hits(top[:, :k], relevant).any(axis=1).astype(np.float64)


def precision_at(top: np.ndarray, relevant: np.ndarray, k: int) -> np.ndarray:
    """Per query, the share of the first k results that match (range 0-1)."""
    return hits(top[:, :k], relevant).mean(axis=1)


def quality_row(name: str, top: np.ndarray, relevant: np.ndarray) -> list:
    return [name] + [round(float(recall_at(top, relevant, k).mean()), 3) for k in KS] + [
        round(float(precision_at(top, relevant, 10).mean()), 3)]


QUALITY_COLUMNS = ["system", "Recall@1", "Recall@5", "Recall@10", "precision@10"]
