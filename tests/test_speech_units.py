"""Speech pieces: feature shapes, running normalisation against a plain loop, streaming
features and posteriors against offline ones, the model's output length formula (CTC
relies on it), the data checks, and the frame-classifier baseline's label plumbing."""

from __future__ import annotations

import numpy as np
import torch

from mlsd.designs.speech import world
from mlsd.designs.speech.asr import (ALPHABET, HOP, N_FFT, N_MELS, Recogniser, RunningNorm, features, log_mel,
                                     mel_transform, pad, posteriors)
from mlsd.designs.speech.data import check, plant_dirt
from mlsd.designs.speech.problem import collapse, frame_labels


def corpus(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return world.generate(n, world.make_speakers(3, rng), rng, 20)


def test_features_are_normalised_log_mels_every_10_ms():
    utterances = corpus(3)
    feats = features([u.audio for u in utterances])
    for u, f in zip(utterances, feats):
        assert f.shape == ((len(u.audio) - N_FFT) // HOP + 1, N_MELS)  # no centre padding: whole windows only
        assert torch.allclose(f.mean(0), torch.zeros(N_MELS), atol=1e-4)


def test_running_normalisation_matches_a_plain_loop():
    """Frame t by the mean and variance of frames 0..t, with the prior counted as frames."""
    mel = mel_transform()
    raw = [log_mel(u.audio, mel) for u in corpus(4, seed=9)]
    norm = RunningNorm.fit(raw[:3])
    x = raw[3].double().numpy()
    prior = norm.prior_frames
    expected = np.empty_like(x)
    for t in range(len(x)):
        n = prior + t + 1
        mean = (prior * norm.mean.numpy() + x[: t + 1].sum(0)) / n
        second = (prior * (norm.var.numpy() + norm.mean.numpy() ** 2) + (x[: t + 1] ** 2).sum(0)) / n
        expected[t] = (x[t] - mean) / np.sqrt(second - mean**2)
    assert np.allclose(norm(raw[3]).numpy(), expected, atol=1e-4)
    assert torch.equal(norm(raw[3][:50]), norm(raw[3])[:50])  # causal: later audio never changes a frame


def test_streaming_sees_the_offline_features_and_posteriors():
    """With left context and look-ahead covering the whole utterance, every streaming step
    encodes exactly the offline input, so the stitched posteriors are the offline ones:
    the frames computed as audio arrives, their normalisation and the stitching agree."""
    from mlsd.designs.speech.serving import stream_posteriors

    torch.manual_seed(0)
    model = Recogniser(dim=32, layers=1).eval()
    mel = mel_transform()
    train, u = corpus(4, seed=10)[:3], corpus(1, seed=11)[0]
    norm = RunningNorm.fit([log_mel(t.audio, mel) for t in train])
    offline = posteriors(model, features([u.audio], norm, mel))[0]
    streamed, steps = stream_posteriors(model, u.audio, 0.16, 10.0, 10.0, norm, mel)
    assert len(steps) == -(-len(u.audio) // int(0.16 * world.SAMPLE_RATE))
    assert abs(len(streamed) - len(offline)) <= 1
    n = min(len(streamed), len(offline))
    assert np.allclose(streamed[:n], offline[:n], atol=1e-4)


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
    """The letters come back in order; words merge only where no frame fell in the pause
    between them (connected speech), never split inside a word."""
    for u in corpus(5, seed=3):
        labels = frame_labels(u, (len(u.audio) - N_FFT) // HOP + 1)
        words = collapse(labels).split()
        assert "".join(words) == u.text.replace(" ", "")
        ends = set(np.cumsum([len(w) for w in u.text.split()]).tolist())
        assert set(np.cumsum([len(w) for w in words]).tolist()) <= ends


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
