"""Design 2: Image Search."""

from __future__ import annotations

from dataclasses import dataclass

from mlsd.config import require, setting
from mlsd.registry import DesignInfo


@dataclass
class ImageSearchConfig:
    """Every knob of the image-search design; `mlsd run image-search --set key=value` changes one."""

    image_size: int = setting(24, 16, 64)
    n_train: int = setting(4000, 300, 100_000)  # captioned images the dual encoder learns from
    n_gallery: int = setting(5000, 500, 200_000)  # indexed images the model stage searches
    n_queries: int = setting(400, 50, 20_000)  # test queries per direction (text and image)
    n_val_queries: int = setting(200, 50, 20_000)  # validation queries: every choice is made on these
    duplicate_share: float = setting(0.04, 0, 0.3)  # re-uploads the generator plants for the dedup step
    embed_dim: int = setting(64, 8, 512)
    small_embed_dim: int = setting(8, 2, 256)  # the side-by-side variant: a narrower shared space
    epochs: int = setting(8, 1, 100)
    batch_size: int = setting(128, 8, 2048)  # in-batch negatives per step = batch_size - 1
    learning_rate: float = setting(0.003, 1e-05, 1)
    hnsw_m: int = setting(16, 4, 128)  # neighbours per HNSW node
    ivf_lists_per_sqrt_n: float = setting(4.0, 0.5, 64)  # nlist = this x sqrt(N), the usual rule of thumb
    pq_sub_quantizers: int = setting(8, 2, 64)  # PQ code: this many sub-vectors, 8 bits each (fewer on a small corpus)
    scale_small: int = setting(25_000, 2000, 2_000_000)  # corpus sizes of the cost-growth study
    scale_large: int = setting(100_000, 5000, 5_000_000)
    latent_dim: int = setting(12, 2, 128)  # intrinsic dimension of the production-like embeddings
    latent_clusters: int = setting(300, 10, 100_000)
    recall_objective: float = setting(0.95, 0.5, 1.0)  # ANN Recall@10 a configuration must reach to ship
    serving_requests: int = setting(300, 60, 100_000)
    monitor_days: int = setting(10, 6, 60)
    uploads_per_day: int = setting(500, 50, 100_000)
    new_content_share: float = setting(0.5, 0.05, 1.0)  # of uploads from the new-content day on
    production_images: float = setting(1e9, 1e3, 1e13)
    production_searches_per_day: float = setting(50e6, 1, 1e12)
    peak_to_mean: float = setting(3.0, 1, 100)  # evening peak over the daily mean

    def __post_init__(self) -> None:
        """Reject combinations the stages cannot run with, naming the fix (ranges are on the fields)."""
        require([
            (self.image_size % 4 == 0, "image_size must be a multiple of 4 (the image tower halves it twice)"),
            (self.scale_small < self.scale_large, "scale_small must be below scale_large"),
            (self.small_embed_dim < self.embed_dim, "small_embed_dim must be below embed_dim"),
            (self.latent_dim <= self.embed_dim, "latent_dim cannot exceed embed_dim"),
            (self.embed_dim % self.pq_sub_quantizers == 0, "embed_dim must be a multiple of pq_sub_quantizers (PQ splits the vector)"),
        ])


DESIGN = DesignInfo(
    slug="image-search",
    title="Image Search",
    order=2,
    difficulty="medium",
    latency_budget_ms=200.0,
    latency_budget_text="< 200 ms",
    primary_metrics=("Recall@K", "latency"),
    prerequisites=("captioning",),
    key_concepts=("image embeddings", "contrastive dual encoder", "approximate nearest neighbours",
                  "FAISS index choice", "how search cost grows with the corpus"),
    patterns=("vector embeddings", "two-stage retrieval+ranking"),
    config=ImageSearchConfig,
    scales={
        "tiny": {"n_train": 1500, "n_gallery": 2000, "n_queries": 200, "n_val_queries": 100, "epochs": 6,
                 "batch_size": 64, "scale_small": 5000, "scale_large": 20_000, "latent_clusters": 100,
                 "serving_requests": 120, "monitor_days": 8, "uploads_per_day": 250},
        "default": {},
        "large": {"n_train": 12_000, "n_gallery": 20_000, "n_queries": 1000, "epochs": 10,
                  "scale_small": 100_000, "scale_large": 1_000_000, "latent_clusters": 2000},
    },
)
