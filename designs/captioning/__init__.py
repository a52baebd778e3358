"""Design 1: Image Caption Generator."""

from __future__ import annotations

from dataclasses import dataclass

from mlsd.config import require, setting
from mlsd.registry import DesignInfo


@dataclass
class CaptioningConfig:
    """Every knob of the captioning design; `mlsd run captioning --set key=value` changes one."""

    n_train: int = setting(3000, 300, 50_000)
    n_val: int = setting(300, 50, 5000)
    n_test: int = setting(500, 100, 10_000)
    image_size: int = setting(32, 16, 64)
    references: int = setting(5, 2, 5)  # human captions per image
    dirty_share: float = setting(0.02, 0, 0.2)  # share of rows the generator corrupts for the data checks to find
    epochs: int = setting(8, 1, 100)
    batch_size: int = setting(64, 8, 1024)
    learning_rate: float = setting(0.003, 1e-05, 1)
    max_len: int = setting(20, 8, 60)  # decoding stops here
    serving_requests: int = setting(200, 50, 10_000)  # closed-loop latency probes; the images the load test cycles
    load_seconds: float = setting(0.7, 0.05, 60)  # arrivals per offered rate; 0.41 x this > p99 objective (serving.py)
    max_batch_size: int = setting(32, 2, 256)
    max_queue_delay_ms: float = setting(10.0, 0, 1000)
    cache_requests: int = setting(2000, 100, 100_000)
    cache_capacity: int = setting(100, 1, 100_000)
    monitor_days: int = setting(10, 6, 60)
    images_per_day: int = setting(200, 50, 5000)
    labelled_per_day: int = setting(40, 10, 5000)  # captioned by annotators, arriving a day later
    annotation_batch: int = setting(600, 100, 10_000)  # images sent for captioning when the alarm fires
    retrain_epochs: int = setting(4, 1, 100)
    production_images_per_day: float = setting(20e6, 1, 1e12)
    peak_to_mean: float = setting(2.5, 1, 100)  # evening upload peak
    gpu_effective_tflops: float = setting(20.0, 0.1, 10_000)  # assumption for the GPU estimate, not a measurement

    def __post_init__(self) -> None:
        """Reject combinations the stages cannot run with, naming the fix (ranges are on the fields)."""
        checks = [
            (self.image_size % 4 == 0, "image_size must be a multiple of 4 (the encoder halves it twice)"),
            (self.labelled_per_day <= self.images_per_day, "labelled_per_day cannot exceed images_per_day"),
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
        "tiny": {"n_train": 1300, "n_val": 150, "n_test": 200, "image_size": 24, "epochs": 7, "batch_size": 32,
                 "learning_rate": 0.005, "serving_requests": 50, "load_seconds": 0.15, "cache_requests": 300,
                 "monitor_days": 8, "images_per_day": 150, "labelled_per_day": 30, "annotation_batch": 250,
                 "retrain_epochs": 2},
        "default": {},
        "large": {"n_train": 12000, "n_val": 1000, "n_test": 1000, "epochs": 10, "serving_requests": 600,
                  "images_per_day": 400, "labelled_per_day": 80, "annotation_batch": 2000},
    },
)
