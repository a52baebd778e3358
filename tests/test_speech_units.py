"""Speech pieces: feature shapes, the model's output length formula (CTC relies on
it), the data checks, and the frame-classifier baseline's label plumbing."""

from __future__ import annotations

import numpy as np
import torch

from mlsd.designs.speech import world
from mlsd.designs.speech.asr import ALPHABET, N_MELS, Recogniser, features, pad
from mlsd.designs.speech.data import check, plant_dirt
from mlsd.designs.speech.problem import collapse, frame_labels


def corpus(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return world.generate(n, world.make_speakers(3, rng), rng, 20)


def test_features_are_normalised_log_mels_every_10_ms():
    utterances = corpus(3)
    feats = features([u.audio for u in utterances])
    for u, f in zip(utterances, feats):
        assert f.shape[1] == N_MELS
        assert abs(f.shape[0] - len(u.audio) / 80) <= 2
        assert torch.allclose(f.mean(0), torch.zeros(N_MELS), atol=1e-4)


def test_output_lengths_match_what_the_model_produces():
    torch.manual_seed(0)
    model = Recogniser(dim=32, layers=1).eval()
    feats = features([u.audio for u in corpus(4)])
    x, lengths = pad(feats)
    with torch.no_grad():
        log_probs, out_lengths = model(x, lengths)
    assert log_probs.shape[2] == len(ALPHABET)
    assert out_lengths.max() == log_probs.shape[1]
    assert torch.equal(out_lengths, Recogniser.output_lengths(lengths))


def test_checks_find_every_planted_problem():
    utterances = corpus(60, seed=1)
    planted = plant_dirt(utterances, 0.05, np.random.default_rng(2))
    kept, report = check(utterances)
    assert [row[2] for row in report] == [len(planted[k]) for k in ("clipped", "silent", "mismatched")] == [3, 3, 3]
    assert len(kept) == 51


def test_frame_labels_collapse_back_to_the_transcript():
    u = corpus(1, seed=3)[0]
    labels = frame_labels(u, int(len(u.audio) / 80))
    assert collapse(labels) == u.text


def test_the_noise_level_is_read_from_the_audio_within_a_few_db():
    """Monitoring fine-tunes at the SNR it reads from the audio, never the generator's:
    the estimate must order conditions correctly and land near the truth."""
    from mlsd.designs.speech.monitoring import estimated_snr_db

    rng = np.random.default_rng(4)
    speakers = world.make_speakers(3, rng)
    estimates = {}
    for snr in (20.0, 3.0, -3.0):
        utterances = world.generate(10, speakers, rng, snr)
        estimates[snr] = float(np.median([estimated_snr_db(u.audio) for u in utterances]))
    assert estimates[20.0] > estimates[3.0] > estimates[-3.0]
    for snr, estimate in estimates.items():
        assert abs(estimate - snr) < 4.0, estimates


def test_diarization_finds_the_speaker_count_without_being_told():
    from types import SimpleNamespace

    from mlsd.designs.speech.monitoring import CLUSTER_THRESHOLDS, diarize

    rng = np.random.default_rng(5)
    cfg = SimpleNamespace(recordings=4, snr_db=20.0)
    rows, result = diarize(cfg, world.make_speakers(6, rng), rng)
    assert result["der"] < result["one_speaker"] / 2  # far better than one speaker for everything
    assert result["threshold"] in CLUSTER_THRESHOLDS  # chosen on the development recordings
    assert 0 <= result["count_right"] <= 1 and len(rows) == 4
