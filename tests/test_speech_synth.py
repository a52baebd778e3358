"""The speech synthesizer on its own (the speech design's stages build on it): it is
deterministic, its phone spans match its audio, its noise level matches the asked SNR,
and its sentences follow the grammar a language model can learn."""

from __future__ import annotations

import numpy as np

from mlsd.designs.speech import world


def test_same_seed_same_audio_and_text():
    a = world.generate(3, world.make_speakers(2, np.random.default_rng(0)), np.random.default_rng(1), 20)
    b = world.generate(3, world.make_speakers(2, np.random.default_rng(0)), np.random.default_rng(1), 20)
    assert [u.text for u in a] == [u.text for u in b]
    assert all(np.array_equal(x.audio, y.audio) for x, y in zip(a, b))


def test_phone_spans_follow_the_transcript_inside_the_audio():
    speakers = world.make_speakers(3, np.random.default_rng(2))
    for u in world.generate(5, speakers, np.random.default_rng(3), 30):
        assert "".join(p for p, _, _ in u.phones) == u.text.replace(" ", "")
        starts = [s for _, s, _ in u.phones]
        assert starts == sorted(starts)
        assert 0 < u.phones[0][1] and u.phones[-1][2] < len(u.audio) / world.SAMPLE_RATE


def test_noise_level_follows_the_snr():
    speaker = world.make_speakers(1, np.random.default_rng(4))[0]
    quiet = world.synthesize("kita tone samu", 0, speaker, np.random.default_rng(5), snr_db=30)
    loud = world.synthesize("kita tone samu", 0, speaker, np.random.default_rng(5), snr_db=0)
    silence = slice(0, int(0.08 * world.SAMPLE_RATE))  # the leading 100 ms carry only noise
    ratio = np.std(loud.audio[silence]) / np.std(loud.audio) / (np.std(quiet.audio[silence]) / np.std(quiet.audio))
    assert ratio > 10  # 30 dB apart in power is about 31x in amplitude, before normalisation effects


def test_sentences_follow_the_grammar():
    rng = np.random.default_rng(6)
    for _ in range(50):
        words = world.sentence(rng).split()
        assert words[0] in world.GRAMMAR["subject"] and words[1] in world.GRAMMAR["verb"]
        assert words[2] in world.GRAMMAR["object"] and len(words) in (3, 4)
