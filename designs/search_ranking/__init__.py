"""Design 4: Search Ranking."""

from __future__ import annotations

from dataclasses import dataclass

from mlsd.config import require, setting
from mlsd.registry import DesignInfo


@dataclass
class SearchConfig:
    """Every knob of the search design; `mlsd run search-ranking --set key=value` changes one."""

    n_docs: int = setting(15000, 2000, 200_000)
    vocab_size: int = setting(3000, 500, 50_000)
    n_topics: int = setting(40, 8, 500)
    new_topics: int = setting(4, 1, 250)  # held out of the corpus and the logs until monitoring's launch
    train_queries: int = setting(500, 100, 10_000)
    val_queries: int = setting(100, 20, 5000)
    test_queries: int = setting(200, 50, 5000)
    dense_dim: int = setting(64, 10, 256)
    judge_noise: float = setting(0.05, 0, 0.3)  # sd of a judge's error on the utility scale (grade cuts ~0.16 apart)
    link_noise: float = setting(0.15, 0, 1)  # sd of the link prior around the hidden quality (quality's own sd: 0.22)
    candidates: int = setting(300, 20, 10_000)  # the hybrid retriever's cut LambdaMART is trained on and serves
    shown: int = setting(10, 5, 50)  # results per page in the click log
    sessions: int = setting(20000, 1000, 1_000_000)
    randomize_share: float = setting(0.1, 0.01, 1)  # sessions whose top results are shuffled, to measure position bias
    examination_exponent: float = setting(1.0, 0, 5)  # P(examine rank r) = 1 / r**exponent
    n_trees: int = setting(150, 1, 3000)
    cross_encoder_pairs: int = setting(20000, 1000, 500_000)
    cross_encoder_epochs: int = setting(2, 1, 50)
    rerank_depth: int = setting(20, 10, 100)
    serving_queries: int = setting(200, 50, 10_000)
    cache_requests: int = setting(1000, 100, 100_000)
    cache_capacity: int = setting(50, 1, 100_000)
    query_zipf: float = setting(1.0, 0, 3)  # cache stream: the r-th most asked query has weight r**-query_zipf
    monitor_days: int = setting(8, 6, 60)
    queries_per_day: int = setting(300, 50, 10_000)
    judged_per_day: int = setting(60, 10, 10_000)
    new_docs: int = setting(1500, 100, 50_000)  # documents on the new topics, arriving with the launch
    interleaving_budget: int = setting(4000, 200, 100_000)
    production_qps: float = setting(2000.0, 1, 1e9)

    def __post_init__(self) -> None:
        """Reject combinations the stages cannot run with, naming the fix (ranges are on the fields)."""
        checks = [
            (self.new_topics < self.n_topics // 2, "new_topics must be below n_topics / 2"),
            (self.candidates <= self.n_docs, "candidates cannot exceed n_docs"),
            (self.rerank_depth <= self.candidates, "rerank_depth cannot exceed candidates"),
            (self.judged_per_day <= self.queries_per_day, "judged_per_day cannot exceed queries_per_day"),
        ]
        require(checks)


DESIGN = DesignInfo(
    slug="search-ranking",
    title="Search Ranking",
    order=4,
    difficulty="medium",
    latency_budget_ms=200.0,
    latency_budget_text="< 200 ms",
    primary_metrics=("NDCG@10", "MRR"),
    prerequisites=("recommendation",),
    key_concepts=("BM25", "hybrid retrieval", "LambdaMART", "position bias", "interleaving"),
    patterns=("two-stage retrieval+ranking", "vector embeddings", "A/B testing"),
    config=SearchConfig,
    scales={
        "tiny": {"n_docs": 5000, "vocab_size": 2000, "n_topics": 24, "new_topics": 3, "train_queries": 250,
                 "val_queries": 50, "test_queries": 100, "dense_dim": 48, "sessions": 8000, "n_trees": 100,
                 "candidates": 200, "cross_encoder_pairs": 8000, "serving_queries": 80, "cache_requests": 400,
                 "queries_per_day": 300, "judged_per_day": 40, "new_docs": 600, "interleaving_budget": 3000},
        "default": {},
        "large": {"n_docs": 60000, "vocab_size": 8000, "n_topics": 120, "train_queries": 2000, "val_queries": 300,
                  "test_queries": 500, "sessions": 80000},
    },
)
