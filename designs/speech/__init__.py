"""Design 10: Speech Recognition."""

from __future__ import annotations

from dataclasses import dataclass

from mlsd.config import require, setting
from mlsd.registry import DesignInfo


@dataclass
class SpeechConfig:
    """Every knob of the speech design; `mlsd run speech --set key=value` changes one."""

    n_speakers: int = setting(12, 3, 200)          # voices in training
    heldout_speakers: int = setting(6, 1, 100)     # more voices in each of validation and test, never in training
    n_train: int = setting(600, 100, 20_000)
    n_val: int = setting(100, 20, 5000)
    n_test: int = setting(200, 50, 5000)
    frame_train_utterances: int = setting(150, 20, 20_000)  # the frame-classifier baseline learns from these
    snr_db: float = setting(20.0, -10, 60)         # the normal recording conditions
    noisy_snr_db: float = setting(3.0, -10, 60)    # the noisy test set
    dirty_share: float = setting(0.02, 0, 0.2)    # rows the generator corrupts for the data checks to find
    epochs: int = setting(6, 1, 100)
    batch_size: int = setting(32, 4, 512)
    learning_rate: float = setting(0.002, 1e-05, 1)
    beam: int = setting(8, 1, 64)
    word_bonus: float = setting(1.0, -10, 10)
    chunk_ms: int = setting(160, 80, 5000)          # streaming: audio per step
    lookahead_ms: int = setting(100, 0, 2000)      # streaming: future audio each step may see
    left_context_ms: int = setting(1200, 0, 10_000)  # streaming: past audio re-encoded with each step
    concurrent_streams: int = setting(16, 2, 256)
    streamed_utterances: int = setting(100, 10, 5000)  # test utterances streamed per chunk size
    monitor_days: int = setting(8, 6, 60)
    utterances_per_day: int = setting(60, 20, 5000)
    labelled_per_day: int = setting(20, 5, 5000)
    shifted_snr_db: float = setting(3.0, -10, 60)  # incoming audio after the shift (a new noisy device)
    finetune_epochs: int = setting(3, 1, 100)
    recordings: int = setting(12, 2, 500)          # multi-speaker recordings for diarization
    production_audio_hours_per_day: float = setting(100_000.0, 1, 1e9)

    def __post_init__(self) -> None:
        """Reject combinations the stages cannot run with, naming the fix (ranges are on the fields)."""
        checks = [
            (self.labelled_per_day <= self.utterances_per_day, "labelled_per_day cannot exceed utterances_per_day"),
        ]
        require(checks)


DESIGN = DesignInfo(
    slug="speech",
    title="Speech Recognition",
    order=10,
    difficulty="hard",
    latency_budget_ms=300.0,
    latency_budget_text="< 300 ms, RTF",
    primary_metrics=("WER", "RTF"),
    prerequisites=("translation",),
    key_concepts=("log-mel features", "CTC", "LM fusion", "streaming with look-ahead", "diarization"),
    patterns=("encoder-decoder", "beam search", "dynamic batching", "streaming inference"),
    config=SpeechConfig,
    scales={
        "tiny": {"n_train": 250, "n_val": 30, "n_test": 80, "epochs": 5, "utterances_per_day": 30, "beam": 4,
                 "frame_train_utterances": 80,
                 "labelled_per_day": 15, "recordings": 6, "concurrent_streams": 8, "finetune_epochs": 2,
                 "streamed_utterances": 30},
        "default": {},
        "large": {"n_train": 3000, "n_val": 300, "n_test": 500, "epochs": 12},
    },
)
