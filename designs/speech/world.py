"""Speech-like audio synthesized from known transcripts: the synthetic data of the
speech design.

A small alphabet of "phones", each a characteristic spectral shape: vowels are
harmonics of the speaker's pitch shaped by two formant peaks, fricatives band-limited
noise, stops a short burst. Words are phone strings, utterances follow a simple
grammar (subject verb object, sometimes an adverb), several speakers differ in pitch,
timbre (formant scale) and speaking rate, neighbouring phones blend (coarticulation),
and background noise is added at a chosen SNR. The generator keeps every phone's
time span, so frame labels and speaker turns are known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

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
GRAMMAR = {
    "subject": ("kita", "mano", "sela", "rumi"),
    "verb": ("tone", "lisa", "fera", "nuko"),
    "object": ("samu", "reti", "kole", "mina"),
    "adverb": ("tasu", "lone", "fiko", "rasa"),
}
WORDS = tuple(w for group in GRAMMAR.values() for w in group)


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
    parts = [rng.choice(GRAMMAR[k]) for k in ("subject", "verb", "object")]
    if rng.random() < 0.4:
        parts.append(rng.choice(GRAMMAR["adverb"]))
    return " ".join(parts)


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
    # Summed over harmonics in order (axis 0), so the audio is the same to the last bit as a loop's.
    out = (gain[:, None] * np.sin(k[:, None] * phase[None, :] + offsets[:, None])).sum(axis=0)
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
    """One utterance: phones blended over 8 ms, 40-80 ms pauses between words, noise at `snr_db`."""
    fade = int(0.008 * SAMPLE_RATE)
    pieces: list[np.ndarray] = [np.zeros(int(0.1 * SAMPLE_RATE))]
    cursor = len(pieces[0])
    spans = []
    for w, word in enumerate(text.split()):
        if w:
            gap = np.zeros(int(rng.uniform(0.04, 0.08) * SAMPLE_RATE))
            pieces.append(gap)
            cursor += len(gap)
        for phone in word:
            audio = _phone_audio(phone, speaker, rng)
            ramp = np.minimum(1, np.minimum(np.arange(len(audio)), np.arange(len(audio))[::-1]) / fade)
            pieces.append(audio * ramp)
            spans.append((phone, cursor / SAMPLE_RATE, (cursor + len(audio)) / SAMPLE_RATE))
            cursor += len(audio)
    pieces.append(np.zeros(int(0.1 * SAMPLE_RATE)))
    clean = np.concatenate(pieces)
    power = np.mean(clean**2)
    noisy = clean + rng.normal(0, np.sqrt(power / 10 ** (snr_db / 10)), len(clean))
    return Utterance((0.3 * noisy / np.abs(noisy).max()).astype(np.float32), text, speaker_id, spans)


def generate(n: int, speakers: list[Speaker], rng: np.random.Generator, snr_db: float) -> list[Utterance]:
    out = []
    for _ in range(n):
        s = int(rng.integers(len(speakers)))
        out.append(synthesize(sentence(rng), s, speakers[s], rng, snr_db))
    return out
