"""Design 1: Image Caption Generator."""

from __future__ import annotations

from dataclasses import dataclass

from mlsd.config import require
from mlsd.registry import DesignInfo


@dataclass
class CaptioningConfig:
    """Every knob of the captioning design; `mlsd run captioning --set key=value` changes one."""

    n_train: int = 3000
    n_val: int = 300
    n_test: int = 500
    image_size: int = 32
    references: int = 5  # human captions per image
    dirty_share: float = 0.02  # share of rows the generator corrupts for the data checks to find
    epochs: int = 8
    batch_size: int = 64
    learning_rate: float = 0.003
    max_len: int = 20  # decoding stops here
    serving_requests: int = 200  # per offered-load level
    max_batch_size: int = 32
    max_queue_delay_ms: float = 10.0
    cache_requests: int = 2000
    cache_capacity: int = 100
    monitor_days: int = 10
    images_per_day: int = 200
    labelled_per_day: int = 40  # captioned by annotators, arriving a day later
    annotation_batch: int = 600  # images sent for captioning when the alarm fires
    retrain_epochs: int = 4
    production_images_per_day: float = 20e6
    peak_to_mean: float = 2.5  # evening upload peak
    gpu_effective_tflops: float = 20.0  # assumption for the GPU estimate, not a measurement

    def __post_init__(self) -> None:
        """Reject settings the stages cannot run with, naming the fix."""
        checks = [
            (self.n_train >= 300, "n_train must be at least 300"),
            (self.n_val >= 50 and self.n_test >= 100, "n_val must be at least 50 and n_test at least 100"),
            (16 <= self.image_size <= 64 and self.image_size % 4 == 0,
             "image_size must be a multiple of 4 between 16 and 64"),
            (2 <= self.references <= 5, "references must be between 2 and 5"),
            (0 <= self.dirty_share <= 0.2, "dirty_share must be in [0, 0.2]"),
            (self.epochs >= 1 and self.retrain_epochs >= 1, "epochs and retrain_epochs must be >= 1"),
            (self.batch_size >= 8 and self.learning_rate > 0, "batch_size must be >= 8, learning_rate > 0"),
            (self.max_len >= 8, "max_len must be at least 8"),
            (self.serving_requests >= 50, "serving_requests must be at least 50"),
            (self.max_batch_size >= 2 and self.max_queue_delay_ms >= 0,
             "max_batch_size must be >= 2 and max_queue_delay_ms >= 0"),
            (self.monitor_days >= 6, "monitor_days must be at least 6 (the shift comes half-way)"),
            (self.images_per_day >= 50 and 10 <= self.labelled_per_day <= self.images_per_day,
             "images_per_day must be >= 50 and labelled_per_day between 10 and images_per_day"),
            (self.annotation_batch >= 100, "annotation_batch must be at least 100"),
            (self.cache_requests >= 100 and self.cache_capacity >= 1, "cache_requests >= 100, cache_capacity >= 1"),
        ]
        require(checks)


DESIGN = DesignInfo(
    slug="captioning",
    title="Image Caption Generator",
    order=1,
    difficulty="medium",
    latency_budget_ms=500.0,
    latency_budget_text="~500 ms",
    primary_metrics=("BLEU-4", "CIDEr"),
    prerequisites=(),
    key_concepts=("CNN encoder", "attention decoder", "beam search", "dynamic batching", "BLEU vs human judgement"),
    patterns=("encoder-decoder", "beam search", "dynamic batching"),
    config=CaptioningConfig,
    scales={
        "tiny": {"n_train": 1300, "n_val": 150, "n_test": 200, "image_size": 24, "epochs": 8, "batch_size": 32,
                 "learning_rate": 0.005, "serving_requests": 80, "cache_requests": 300, "monitor_days": 8,
                 "images_per_day": 150, "labelled_per_day": 30, "annotation_batch": 250, "retrain_epochs": 2},
        "default": {},
        "large": {"n_train": 12000, "n_val": 1000, "n_test": 1000, "epochs": 10, "serving_requests": 600,
                  "images_per_day": 400, "labelled_per_day": 80, "annotation_batch": 2000},
    },
)
