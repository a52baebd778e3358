"""Design 10: Speech Recognition."""

from __future__ import annotations

from dataclasses import dataclass

from mlsd.config import require
from mlsd.registry import DesignInfo


@dataclass
class SpeechConfig:
    """Every knob of the speech design; `mlsd run speech --set key=value` changes one."""

    n_speakers: int = 8
    n_train: int = 800
    n_val: int = 100
    n_test: int = 200
    snr_db: float = 20.0         # the normal recording conditions
    noisy_snr_db: float = 3.0    # the noisy test set
    dirty_share: float = 0.02    # rows the generator corrupts for the data checks to find
    epochs: int = 8
    batch_size: int = 32
    learning_rate: float = 0.002
    beam: int = 8
    word_bonus: float = 1.0
    chunk_ms: int = 160          # streaming: audio per step
    lookahead_ms: int = 100      # streaming: future audio each step may see
    left_context_ms: int = 1200  # streaming: past audio re-encoded with each step
    concurrent_streams: int = 16
    monitor_days: int = 8
    utterances_per_day: int = 60
    labelled_per_day: int = 20
    shifted_snr_db: float = -3.0  # incoming audio after the shift (a new noisy device)
    finetune_epochs: int = 3
    recordings: int = 12          # multi-speaker recordings for diarization
    production_audio_hours_per_day: float = 100_000.0

    def __post_init__(self) -> None:
        """Reject settings the stages cannot run with, naming the fix."""
        checks = [
            (self.n_speakers >= 3, "n_speakers must be at least 3"),
            (self.n_train >= 100 and self.n_val >= 20 and self.n_test >= 50,
             "n_train >= 100, n_val >= 20, n_test >= 50"),
            (self.epochs >= 1 and self.finetune_epochs >= 1, "epochs and finetune_epochs must be >= 1"),
            (self.beam >= 1 and self.batch_size >= 4, "beam >= 1 and batch_size >= 4"),
            (self.chunk_ms >= 80 and self.lookahead_ms >= 0 and self.left_context_ms >= 0,
             "chunk_ms >= 80, lookahead_ms and left_context_ms >= 0"),
            (self.monitor_days >= 6, "monitor_days must be at least 6 (the shift comes half-way)"),
            (self.utterances_per_day >= 20 and 5 <= self.labelled_per_day <= self.utterances_per_day,
             "utterances_per_day >= 20 and labelled_per_day between 5 and utterances_per_day"),
            (self.recordings >= 2 and self.concurrent_streams >= 2, "recordings >= 2, concurrent_streams >= 2"),
            (0 <= self.dirty_share <= 0.2, "dirty_share must be in [0, 0.2]"),
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
        "tiny": {"n_train": 350, "n_val": 40, "n_test": 80, "epochs": 7, "utterances_per_day": 30,
                 "labelled_per_day": 15, "recordings": 6, "concurrent_streams": 8, "finetune_epochs": 2},
        "default": {},
        "large": {"n_train": 3000, "n_val": 300, "n_test": 500, "epochs": 12},
    },
)
