"""Design 4: Search Ranking."""

from __future__ import annotations

from dataclasses import dataclass

from mlsd.config import require
from mlsd.registry import DesignInfo


@dataclass
class SearchConfig:
    """Every knob of the search design; `mlsd run search-ranking --set key=value` changes one."""

    n_docs: int = 15000
    vocab_size: int = 3000
    n_topics: int = 40
    new_topics: int = 4  # held out of the corpus and the logs until monitoring's launch
    train_queries: int = 500
    val_queries: int = 100
    test_queries: int = 200
    dense_dim: int = 64
    candidates: int = 100  # the hybrid retriever's cut the ranker is trained and evaluated on
    shown: int = 10  # results per page in the click log
    sessions: int = 20000
    randomize_share: float = 0.1  # sessions whose top results are shuffled, to measure position bias
    examination_exponent: float = 1.0  # P(examine rank r) = 1 / r**exponent
    n_trees: int = 300
    cross_encoder_pairs: int = 20000
    cross_encoder_epochs: int = 2
    rerank_depth: int = 20
    serving_queries: int = 200
    retrieve_k: int = 1000
    rank_k: int = 100
    cache_requests: int = 1000
    cache_capacity: int = 50
    monitor_days: int = 8
    queries_per_day: int = 300
    judged_per_day: int = 60
    new_docs: int = 1500  # documents on the new topics, arriving with the launch
    interleaving_budget: int = 4000
    production_qps: float = 2000.0

    def __post_init__(self) -> None:
        """Reject settings the stages cannot run with, naming the fix."""
        checks = [
            (self.n_docs >= 2000, "n_docs must be at least 2000"),
            (self.vocab_size >= 500 and self.n_topics >= 8, "vocab_size must be >= 500 and n_topics >= 8"),
            (1 <= self.new_topics < self.n_topics // 2, "new_topics must be between 1 and n_topics / 2"),
            (self.train_queries >= 100 and self.val_queries >= 20 and self.test_queries >= 50,
             "train_queries >= 100, val_queries >= 20, test_queries >= 50"),
            (10 <= self.dense_dim <= 256, "dense_dim must be between 10 and 256"),
            (20 <= self.candidates <= self.rank_k <= self.retrieve_k <= self.n_docs,
             "need 20 <= candidates <= rank_k <= retrieve_k <= n_docs"),
            (self.rerank_depth >= 10 and self.shown >= 5, "rerank_depth must be >= 10 and shown >= 5"),
            (self.sessions >= 1000 and 0 < self.randomize_share <= 1, "sessions >= 1000, randomize_share in (0, 1]"),
            (self.monitor_days >= 6, "monitor_days must be at least 6 (the launch comes half-way)"),
            (self.queries_per_day >= 50 and 10 <= self.judged_per_day <= self.queries_per_day,
             "queries_per_day >= 50 and judged_per_day between 10 and queries_per_day"),
            (self.serving_queries >= 50 and self.cache_requests >= 100, "serving_queries >= 50, cache_requests >= 100"),
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
                 "val_queries": 50, "test_queries": 100, "dense_dim": 48, "sessions": 8000, "n_trees": 150,
                 "cross_encoder_pairs": 8000, "serving_queries": 80, "retrieve_k": 500, "cache_requests": 400,
                 "queries_per_day": 300, "judged_per_day": 40, "new_docs": 600, "interleaving_budget": 3000},
        "default": {},
        "large": {"n_docs": 60000, "vocab_size": 8000, "n_topics": 120, "train_queries": 2000, "val_queries": 300,
                  "test_queries": 500, "sessions": 80000},
    },
)
