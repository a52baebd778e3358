"""faiss index families side by side: exact (Flat), IVF-Flat over nprobe, HNSW over
efSearch, and IVF with PQ codes whose top 100 are re-ranked with exact vectors.
Every figure is measured: build time, faiss's serialised bytes per vector, Recall@10
against exact search, and queries per second on one thread."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from mlsd.threads import single_threaded

K = 10
IVF_TRAIN_PER_LIST = 40  # k-means points per list: faiss warns below 39
KMEANS_ITERATIONS = 10  # faiss defaults to 25; the centroids barely move after 10 here
HNSW_EF_CONSTRUCTION = 40
NPROBES = (1, 2, 4, 8, 16, 32)
EF_SEARCHES = (16, 32, 64, 128)
RERANK_DEPTH = 100  # PQ candidates re-scored with exact vectors


@dataclass
class Family:
    """One index family at one corpus size, with its swept setting."""

    name: str
    index: object
    setting: str  # the parameter swept ("nprobe", "efSearch", "")
    values: tuple[int, ...]
    build_s: float
    bytes_per_vector: float

    def set(self, value: int) -> None:
        import faiss

        if self.setting == "efSearch":
            self.index.hnsw.efSearch = value
        elif self.setting == "nprobe":
            faiss.extract_index_ivf(self.index).nprobe = value


@dataclass(frozen=True)
class Point:
    """One configuration's measurements on one query set."""

    family: str
    value: int | None
    recall: float
    qps: float


def ivf_lists(n: int, per_sqrt_n: float) -> int:
    """per_sqrt_n x sqrt(N) lists, but never so many that k-means gets under 39 points a list."""
    return max(8, min(int(per_sqrt_n * math.sqrt(n)), n // 39))


def pq_bits(n: int) -> int:
    """8-bit codebooks (256 centroids) need 39 x 256 training points; a smaller corpus gets
    fewer bits per sub-quantizer rather than codebooks fitted to too few points."""
    return int(min(8, max(4, math.floor(math.log2(n / 39)))))


def _sized(index, n: int) -> float:
    import faiss

    return len(faiss.serialize_index(index)) / n


def trained_ivf(index, vectors: np.ndarray, nlist: int, rng: np.random.Generator, add: bool = True):
    sample = vectors[rng.choice(len(vectors), size=min(len(vectors), IVF_TRAIN_PER_LIST * nlist), replace=False)]
    index.cp.niter = KMEANS_ITERATIONS
    index.train(sample)
    if add:
        index.add(vectors)
    return index


def build_families(vectors: np.ndarray, cfg, rng: np.random.Generator) -> list[Family]:
    """Flat, IVF-Flat, HNSW and IVF-PQ fast-scan with exact re-ranking over `vectors`."""
    import faiss

    n, d = vectors.shape
    nlist = ivf_lists(n, cfg.ivf_lists_per_sqrt_n)
    families = []

    def timed(build):
        start = time.perf_counter()
        index = build()
        return index, time.perf_counter() - start

    flat, s = timed(lambda: _added(faiss.IndexFlatIP(d), vectors))
    families.append(Family("Flat", flat, "", (0,), s, _sized(flat, n)))
    ivf, s = timed(lambda: trained_ivf(faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT),
                                        vectors, nlist, rng))
    families.append(Family(f"IVF{nlist}", ivf, "nprobe", NPROBES, s, _sized(ivf, n)))

    def hnsw_index():
        index = faiss.IndexHNSWFlat(d, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        return _added(index, vectors)

    hnsw, s = timed(hnsw_index)
    families.append(Family(f"HNSW{cfg.hnsw_m}", hnsw, "efSearch", EF_SEARCHES, s, _sized(hnsw, n)))

    def compressed():
        # the IVF-Flat index's trained coarse quantizer is shared: only the PQ codebooks are trained here
        base = faiss.IndexIVFPQ(faiss.downcast_index(ivf.quantizer), d, nlist, cfg.pq_sub_quantizers, pq_bits(n),
                                faiss.METRIC_INNER_PRODUCT)
        base.own_fields = False
        base.do_polysemous_training = False  # on by default and slow; only Hamming-distance filtering uses it
        base.pq.cp.niter = KMEANS_ITERATIONS
        sample = vectors[rng.choice(n, size=min(n, IVF_TRAIN_PER_LIST * 2 ** pq_bits(n)), replace=False)]
        base.train(sample)
        refine = faiss.IndexRefineFlat(base)  # exact vectors for re-ranking: on SSD in production, so
        refine.k_factor = RERANK_DEPTH / K  # the memory figure below counts the codes alone
        refine.add(vectors)
        return refine

    pq, s = timed(compressed)
    families.append(Family(f"IVF{nlist}-PQ{cfg.pq_sub_quantizers}x{pq_bits(n)}+rerank", pq, "nprobe", NPROBES,
                           s, _sized(faiss.downcast_index(pq.base_index), n)))
    return families


def _added(index, vectors: np.ndarray):
    index.add(vectors)
    return index


def recall_against(found: np.ndarray, exact: np.ndarray) -> float:
    """Share of the exact top 10 the index returned (range 0-1): ANN recall."""
    return float(np.mean([len(set(a) & set(b)) / exact.shape[1] for a, b in zip(found, exact)]))


def sweep(family: Family, queries: np.ndarray, exact: np.ndarray) -> list[Point]:
    """Recall@10 and one-thread queries per second at each value of the family's setting."""
    points = []
    with single_threaded():
        for value in family.values:
            family.set(value)
            family.index.search(queries[:20], K)  # warm-up: first touches of the lists
            start = time.perf_counter()
            found = family.index.search(queries, K)[1]
            qps = len(queries) / (time.perf_counter() - start)
            points.append(Point(family.name, value if family.setting else None, recall_against(found, exact), qps))
    return points


def cheapest_meeting(points: list[Point], objective: float) -> Point | None:
    """The lowest setting (fewest lists probed, smallest candidate queue) whose recall
    meets the objective on the set given: cost grows with the setting, and choosing by
    the setting rather than by a timing keeps the choice the same on every machine."""
    meeting = [p for p in points if p.recall >= objective]
    return min(meeting, key=lambda p: p.value or 0) if meeting else None
