"""The speech synthesizer on its own (the speech design's stages build on it): it is
deterministic, its phone spans match its audio, its noise level matches the asked SNR,
its sentences follow the grammar a language model can learn, and held-out sets keep
their word sequences out of training."""

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
    low, high = world.WORDS_PER_UTTERANCE
    for _ in range(200):
        words = world.sentence(rng).split()
        assert low <= len(words) <= high and words[0] in world.LEXICON
        assert all(b in world.grammar()[a] for a, b in zip(words, words[1:]))


def test_the_lexicon_confuses_by_construction():
    """Pairs of words differ in one phone, and some pairs of words spell a third."""
    lexicon = set(world.LEXICON)
    one_phone_apart = [(a, b) for a in lexicon for b in lexicon
                       if a < b and len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1]
    run_together = [(a, b) for a in lexicon for b in lexicon if a + b in lexicon]
    assert len(one_phone_apart) >= 10 and len(run_together) >= 5


def test_held_out_sets_redraw_sentences_seen_in_training():
    rng = np.random.default_rng(7)
    speakers = world.make_speakers(2, rng)
    train = world.generate(40, speakers, rng, 20)
    seen = frozenset(u.text for u in train)
    held_out = world.generate(40, speakers, rng, 20, exclude=seen)
    assert not seen & {u.text for u in held_out}


def test_a_noisy_copy_keeps_words_and_timing():
    rng = np.random.default_rng(8)
    u = world.generate(1, world.make_speakers(1, rng), rng, 30)[0]
    noisy = world.with_noise(u, 0.0, rng)
    assert (noisy.text, noisy.phones, len(noisy.audio)) == (u.text, u.phones, len(u.audio))
    silence = slice(0, int(0.08 * world.SAMPLE_RATE))  # the leading 100 ms carry only noise
    assert np.std(noisy.audio[silence]) > 10 * np.std(u.audio[silence])
