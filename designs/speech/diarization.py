"""Speaker diarization scoring and clustering: who spoke when, and how wrong we were.

DER is scored on a frame grid (NIST md-eval style): frames make overlap, collars and the
speaker mapping simple sums. Hypothesis labels are arbitrary ("spk0"), so they are mapped
one-to-one onto reference speakers by the assignment maximising overlapping time.
Overlapping reference speech is scored, not dropped: per frame, with n_ref, n_hyp speakers
and n_correct mapped pairs speaking together, missed = max(0, n_ref - n_hyp), false alarm
= max(0, n_hyp - n_ref), confusion = min(n_ref, n_hyp) - n_correct; reference speech time
counts an overlapped second once per speaker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import AgglomerativeClustering


@dataclass(frozen=True)
class Segment:
    start: float  # seconds
    end: float
    speaker: str


@dataclass(frozen=True)
class DER:
    total: float  # (missed + false_alarm + confusion) / reference_speech
    missed: float  # seconds of reference speech with no hypothesis speaker
    false_alarm: float  # seconds of hypothesis speech where the reference is silent
    confusion: float  # seconds where both speak but the mapped speakers differ
    reference_speech: float  # seconds, an overlapped second counted per speaker
    mapping: dict[str, str]  # hypothesis speaker -> reference speaker


def _activity(
    segments: Sequence[Segment], centers: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """Speakers and a (speaker, frame) bool matrix; a frame belongs where its centre lies."""
    speakers = sorted({s.speaker for s in segments})
    active = np.zeros((len(speakers), len(centers)), dtype=bool)
    row = {name: i for i, name in enumerate(speakers)}
    for s in segments:
        active[row[s.speaker]] |= (centers >= s.start) & (centers < s.end)
    return speakers, active


def diarization_error_rate(
    reference: Sequence[Segment],
    hypothesis: Sequence[Segment],
    *,
    step: float = 0.01,
    collar: float = 0.0,
) -> DER:
    """Frame-based DER; frames within `collar` s of a reference boundary are not scored,
    since hand-labelled boundaries are themselves uncertain by a few hundred ms."""
    end = max((s.end for s in [*reference, *hypothesis]), default=0.0)
    centers = (np.arange(int(np.ceil(round(end / step, 6)))) + 0.5) * step
    scored = np.ones(len(centers), dtype=bool)
    if collar > 0:
        for b in {t for s in reference for t in (s.start, s.end)}:
            scored &= np.abs(centers - b) >= collar
    centers = centers[scored]
    ref_names, ref = _activity(reference, centers)
    hyp_names, hyp = _activity(hypothesis, centers)

    # (hyp, ref) seconds spoken together; scipy returns empty arrays for empty matrices
    overlap = hyp.astype(int) @ ref.T.astype(int)
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    mapping = {hyp_names[h]: ref_names[r] for h, r in zip(rows, cols)}
    mapped = np.zeros_like(ref)
    mapped[cols] = hyp[rows]

    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    n_correct = (ref & mapped).sum(axis=0)
    missed = float(np.maximum(0, n_ref - n_hyp).sum() * step)
    false_alarm = float(np.maximum(0, n_hyp - n_ref).sum() * step)
    confusion = float((np.minimum(n_ref, n_hyp) - n_correct).sum() * step)
    speech = float(n_ref.sum() * step)
    errors = missed + false_alarm + confusion
    total = errors / speech if speech > 0 else (0.0 if errors == 0 else float("inf"))
    return DER(total, missed, false_alarm, confusion, speech, mapping)


def cluster_segments(
    embeddings: np.ndarray,
    *,
    n_speakers: int | None = None,
    distance_threshold: float | None = None,
) -> np.ndarray:
    """Speaker labels for per-segment embeddings. Cosine distance because speaker embeddings
    (x-vectors, ECAPA) encode identity in direction, not norm; average linkage because it is
    robust to a few noisy segments. Give a known speaker count or a threshold when it is unknown."""
    if (n_speakers is None) == (distance_threshold is None):
        raise ValueError("give exactly one of n_speakers or distance_threshold")
    x = np.asarray(embeddings, dtype=float)
    if len(x) < 2:
        return np.zeros(len(x), dtype=int)
    model = AgglomerativeClustering(
        n_clusters=n_speakers,
        distance_threshold=distance_threshold,
        metric="cosine",
        linkage="average",
    )
    return model.fit_predict(x)
