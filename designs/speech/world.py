"""Speech-like audio synthesized from known transcripts: the synthetic data of the
speech design.

A small alphabet of "phones", each a characteristic spectral shape: vowels are
harmonics of the speaker's pitch shaped by two formant peaks, fricatives band-limited
noise, stops a short burst. Words are phone strings from a lexicon built to confuse
(words that differ in one vowel, short words that run together into longer ones), and
utterances are connected word sequences drawn from a word bigram grammar, with pauses
between words short enough to vanish. Speakers differ in pitch, timbre (formant scale)
and speaking rate, neighbouring phones blend (coarticulation), and background noise is
added at a chosen SNR. The generator keeps every phone's time span, so frame labels and
speaker turns are known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

SAMPLE_RATE = 8000
# phone -> (kind, parameters): vowels/nasals/liquids (F1, F2 Hz), fricatives (band Hz), stops (burst band Hz)
PHONES: dict[str, tuple[str, tuple[float, float]]] = {
    "a": ("voiced", (750, 1200)), "e": ("voiced", (450, 1900)), "i": ("voiced", (300, 2300)),
    "o": ("voiced", (500, 900)), "u": ("voiced", (320, 800)),
    "m": ("nasal", (250, 1000)), "n": ("nasal", (250, 1600)), "l": ("voiced", (380, 1100)),
    "r": ("voiced", (420, 1350)), "s": ("noise", (2800, 3900)), "f": ("noise", (1200, 2600)),
    "t": ("burst", (2000, 3800)), "k": ("burst", (900, 2200)),
}
# Ten families of four: a root syllable, two words that differ only in their last vowel,
# and a longer word. Some words run together into another ("ki to" sounds like "kito"
# when the pause between them vanishes, so do "li sa", "ma nu", "se li", "mano li",
# "tone sa", "nuko re", "li samu"): the lexicon is built to confuse.
LEXICON = (
    "ki", "kita", "kito", "kitamo", "ma", "mano", "manu", "manoli", "se", "sela", "seli", "selaku",
    "ru", "rumi", "rume", "rumifa", "to", "tone", "toni", "tonesa", "li", "lisa", "liso", "lisamu",
    "fe", "fera", "fero", "ferami", "nu", "nuko", "nuku", "nukore", "sa", "samu", "samo", "samuti",
    "re", "reti", "rete", "retino",
)
FAMILY_SIZE = 4
SUCCESSORS = 12           # the grammar lets each word be followed by 12 of the 40 words
WORDS_PER_UTTERANCE = (3, 5)  # inclusive
PAUSE_S = (0.0, 0.04)     # between words: connected speech, where a 10 ms frame may never fall silent
GRAMMAR_SEED = 20_240_601  # the grammar is part of the language, the same in every run, not drawn per seed


@cache
def grammar() -> dict[str, tuple[str, ...]]:
    """Word -> the SUCCESSORS words that may follow it, drawn once. A bigram language
    model learnt from transcripts can rule out most confusions (after "ki", "kita" may
    follow but "kito" not), not all (both members of a pair are sometimes grammatical)."""
    rng = np.random.default_rng(GRAMMAR_SEED)
    return {word: tuple(str(w) for w in rng.choice(LEXICON, SUCCESSORS, replace=False)) for word in LEXICON}


@dataclass(frozen=True)
class Speaker:
    pitch: float        # Hz
    timbre: float       # formant scale
    rate: float         # speaking rate, 1 = normal


@dataclass
class Utterance:
    audio: np.ndarray             # float32, SAMPLE_RATE Hz
    text: str
    speaker: int
    phones: list[tuple[str, float, float]]  # (phone, start s, end s); silence is not listed


def make_speakers(n: int, rng: np.random.Generator) -> list[Speaker]:
    return [Speaker(float(rng.uniform(90, 240)), float(rng.uniform(0.85, 1.15)), float(rng.uniform(0.8, 1.2)))
            for _ in range(n)]


def sentence(rng: np.random.Generator) -> str:
    """A word sequence: any first word, then each next word among those the grammar allows."""
    words = [str(rng.choice(LEXICON))]
    for _ in range(int(rng.integers(WORDS_PER_UTTERANCE[0], WORDS_PER_UTTERANCE[1] + 1)) - 1):
        words.append(str(rng.choice(grammar()[words[-1]])))
    return " ".join(words)


def _band_noise(n: int, band: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(size=n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spectrum[(freqs < band[0]) | (freqs > band[1])] = 0
    out = np.fft.irfft(spectrum, n)
    return out / (np.abs(out).max() + 1e-9)


def _voiced(n: int, formants: tuple[float, float], speaker: Speaker, nasal: bool, rng) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    pitch = speaker.pitch * (1 + 0.03 * np.sin(2 * np.pi * rng.uniform(2, 5) * t))  # a little vibrato
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    f1, f2 = (f * speaker.timbre for f in formants)
    k = np.arange(1, int(3800 / speaker.pitch))  # every harmonic below 3.8 kHz
    f = k * speaker.pitch
    gain = np.exp(-((f - f1) ** 2) / (2 * 90.0**2)) + 0.6 * np.exp(-((f - f2) ** 2) / (2 * 140.0**2))
    if nasal:
        gain = 0.5 * gain + 0.5 * np.exp(-((f - 250) ** 2) / (2 * 60.0**2))
    offsets = rng.uniform(0, 2 * np.pi, size=len(k))  # the same draws, in the same order, as one per harmonic
    audible = gain > 1e-4 * gain.max()  # harmonics far from every formant add nothing a 20 dB noise floor shows
    # Summed over harmonics in order (axis 0), so the audio is the same to the last bit as a loop's.
    out = (gain[audible, None] * np.sin(k[audible, None] * phase[None, :] + offsets[audible, None])).sum(axis=0)
    return out / (np.abs(out).max() + 1e-9)


def _phone_audio(phone: str, speaker: Speaker, rng: np.random.Generator) -> np.ndarray:
    kind, params = PHONES[phone]
    seconds = (0.09 if kind in ("voiced", "nasal") else 0.07) / speaker.rate * rng.uniform(0.85, 1.2)
    n = int(seconds * SAMPLE_RATE)
    if kind == "noise":
        return 0.6 * _band_noise(n, params, rng)
    if kind == "burst":
        out = np.zeros(n)
        burst = int(0.025 * SAMPLE_RATE)
        out[n - burst:] = 0.8 * _band_noise(burst, params, rng)
        return out
    return _voiced(n, params, speaker, kind == "nasal", rng)


def synthesize(text: str, speaker_id: int, speaker: Speaker, rng: np.random.Generator, snr_db: float) -> Utterance:
    """One utterance: phones blended over 8 ms, pauses of 0-40 ms between words (connected
    speech: often too short to mark the boundary), noise at `snr_db`."""
    fade = int(0.008 * SAMPLE_RATE)
    pieces: list[np.ndarray] = [np.zeros(int(0.1 * SAMPLE_RATE))]
    cursor = len(pieces[0])
    spans = []
    for w, word in enumerate(text.split()):
        if w:
            gap = np.zeros(int(rng.uniform(*PAUSE_S) * SAMPLE_RATE))
            pieces.append(gap)
            cursor += len(gap)
        for phone in word:
            audio = _phone_audio(phone, speaker, rng)
            ramp = np.minimum(1, np.minimum(np.arange(len(audio)), np.arange(len(audio))[::-1]) / fade)
            pieces.append(audio * ramp)
            spans.append((phone, cursor / SAMPLE_RATE, (cursor + len(audio)) / SAMPLE_RATE))
            cursor += len(audio)
    pieces.append(np.zeros(int(0.1 * SAMPLE_RATE)))
    return Utterance(_noisy(np.concatenate(pieces), snr_db, rng), text, speaker_id, spans)


def _noisy(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at `snr_db` below the audio's power, then the peak scaled to 0.3."""
    noisy = audio + rng.normal(0, np.sqrt(np.mean(audio**2) / 10 ** (snr_db / 10)), len(audio))
    return (0.3 * noisy / np.abs(noisy).max()).astype(np.float32)


def with_noise(utterance: Utterance, snr_db: float, rng: np.random.Generator) -> Utterance:
    """A noisy copy of a recorded utterance (noise augmentation): same words, same timing."""
    return Utterance(_noisy(utterance.audio.astype(float), snr_db, rng), utterance.text, utterance.speaker,
                     utterance.phones)


def generate(n: int, speakers: list[Speaker], rng: np.random.Generator, snr_db: float,
             exclude: frozenset[str] = frozenset()) -> list[Utterance]:
    """`n` utterances by speakers drawn from `speakers`; a sentence in `exclude` is drawn
    again, so held-out sets can keep their word sequences out of training."""
    out = []
    for _ in range(n):
        text = sentence(rng)
        while text in exclude:
            text = sentence(rng)
        s = int(rng.integers(len(speakers)))
        out.append(synthesize(text, s, speakers[s], rng, snr_db))
    return out
