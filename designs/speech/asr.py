"""The recogniser: log-mel features, a convolutional front end that subsamples time by
4, a small Conformer encoder (torchaudio), and a linear layer to characters, trained
with CTC. SpecAugment (frequency and time masks) and additive noise are the two
augmentations whose effect the model stage measures.

Mel settings are set explicitly (torchaudio's defaults, n_fft 400 / hop 200 / 128 mels,
suit 16 kHz music better than 8 kHz speech): 25 ms windows, a 10 ms hop, 40 mels, and
no centre padding, so frame t depends only on samples [80 t, 80 t + 256) and a stream
computes the same frames as a whole recording. The recogniser's features are normalised
causally (running statistics, `RunningNorm`), so streaming sees what training saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchaudio
from torch import nn

from mlsd import threads
from mlsd.designs.speech.world import PHONES, SAMPLE_RATE

ALPHABET = ["_", " "] + sorted(PHONES)  # "_" is the CTC blank
INDEX = {c: i for i, c in enumerate(ALPHABET)}
N_MELS = 40
HOP = 80  # samples: 10 ms at 8 kHz
N_FFT = 256  # samples a frame spans (a 200-sample window, zero-padded to the FFT size)
SUBSAMPLE = 4


def mel_transform() -> torchaudio.transforms.MelSpectrogram:
    return torchaudio.transforms.MelSpectrogram(sample_rate=SAMPLE_RATE, n_fft=N_FFT, win_length=200, hop_length=HOP,
                                                n_mels=N_MELS, center=False)


def log_mel(audio: np.ndarray, mel) -> torch.Tensor:
    """(frames, N_MELS) log-mel frames, frame t from samples [HOP t, HOP t + N_FFT)."""
    if len(audio) < N_FFT:
        return torch.zeros(0, N_MELS)
    return torch.log(mel(torch.from_numpy(np.ascontiguousarray(audio))) + 1e-6).T


@dataclass(frozen=True)
class RunningNorm:
    """Causal mean and variance normalisation: frame t is normalised by the mean and
    variance of frames 0..t, started from the training set's statistics counted as
    `prior_frames` frames. It removes the recording's gain and channel as the
    per-utterance version does, but a stream can compute it as audio arrives, and a
    frame's value never changes once computed."""

    mean: torch.Tensor   # (N_MELS,) training log-mel mean, float64
    var: torch.Tensor    # (N_MELS,) training log-mel variance, float64
    prior_frames: float = 10.0  # the training statistics weigh as much as 0.1 s of audio: noise moves them fast

    @classmethod
    def fit(cls, frames: list[torch.Tensor]) -> RunningNorm:
        pooled = torch.cat(frames).double()
        return cls(pooled.mean(0), pooled.var(0))

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames.double()
        count = self.prior_frames + torch.arange(1, len(x) + 1, dtype=torch.float64)[:, None]
        mean = (self.prior_frames * self.mean + x.cumsum(0)) / count
        second = (self.prior_frames * (self.var + self.mean**2) + (x**2).cumsum(0)) / count
        return ((x - mean) / (second - mean**2).clamp_min(1e-6).sqrt()).float()


def features(audio: list[np.ndarray], norm: RunningNorm | None = None, mel=None) -> list[torch.Tensor]:
    """Log-mel frames per utterance. With `norm`, normalised causally (the recogniser's
    input, the same offline and streaming); without, each mel band to mean 0 and
    variance 1 over the whole utterance (the offline baseline and diarization)."""
    mel = mel or mel_transform()
    out = []
    for a in audio:
        m = log_mel(a, mel)
        out.append(norm(m) if norm is not None else (m - m.mean(0)) / (m.std(0) + 1e-5))
    return out


class Recogniser(nn.Module):
    def __init__(self, dim: int = 96, layers: int = 2) -> None:
        super().__init__()
        self.front = nn.Sequential(nn.Conv1d(N_MELS, dim, 5, stride=2, padding=2), nn.ReLU(),
                                   nn.Conv1d(dim, dim, 5, stride=2, padding=2), nn.ReLU())
        self.encoder = torchaudio.models.Conformer(input_dim=dim, num_heads=4, ffn_dim=2 * dim, num_layers=layers,
                                                   depthwise_conv_kernel_size=15)
        self.out = nn.Linear(dim, len(ALPHABET))

    @staticmethod
    def output_lengths(lengths: torch.Tensor) -> torch.Tensor:
        return ((lengths + 1) // 2 + 1) // 2

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(batch, frames, mels) -> log posteriors (batch, frames / 4, symbols) and lengths."""
        h = self.front(x.transpose(1, 2)).transpose(1, 2)
        out_lengths = self.output_lengths(lengths).clamp(max=h.shape[1])
        h, out_lengths = self.encoder(h, out_lengths)
        return self.out(h).log_softmax(-1), out_lengths


def pad(feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return nn.utils.rnn.pad_sequence(feats, batch_first=True), torch.tensor([len(f) for f in feats])


def encode_text(text: str) -> torch.Tensor:
    return torch.tensor([INDEX[c] for c in text])


def train(model: Recogniser, feats: list[torch.Tensor], texts: list[str], *, epochs: int, batch_size: int, lr: float,
          spec_augment: bool, rng: np.random.Generator, progress, description: str) -> list[float]:
    """CTC training; returns the mean loss per epoch. Batches are drawn at random, not
    bucketed by length: the padding that random batches carry makes the model robust to
    audio cut off at a window's edge, which streaming needs (bucketed training took
    streaming WER from 14% to 44% on the tiny scale)."""
    # fused: one kernel over every parameter instead of a dozen small ops each, ~10% of a CPU step
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    masks = nn.Sequential(torchaudio.transforms.FrequencyMasking(6), torchaudio.transforms.TimeMasking(10))
    steps = [(e, s) for e in range(epochs) for s in range(0, len(feats), batch_size)]
    losses: list[float] = []
    order = rng.permutation(len(feats))
    total, count = 0.0, 0
    model.train()
    for epoch, start in progress.track(steps, total=len(steps), description=description):
        if start == 0:
            order = rng.permutation(len(feats))
            torch.set_num_threads(threads.training_threads())  # re-decided each epoch: load may come and go
        idx = order[start:start + batch_size]
        x, lengths = pad([feats[i] for i in idx])
        if spec_augment:
            x = masks(x.transpose(1, 2)).transpose(1, 2)
        targets = [encode_text(texts[i]) for i in idx]
        log_probs, out_lengths = model(x, lengths)
        loss = ctc(log_probs.transpose(0, 1), torch.cat(targets), out_lengths, torch.tensor([len(t) for t in targets]))
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        total, count = total + float(loss.detach()), count + 1
        if start + batch_size >= len(feats):
            losses.append(total / count)
            total, count = 0.0, 0
    model.eval()
    return losses


@torch.no_grad()
def posteriors(model: Recogniser, feats: list[torch.Tensor], batch_size: int = 64) -> list[np.ndarray]:
    """Per-utterance (frames, symbols) log posteriors, in the order given. Batches are
    cut from the utterances sorted by length, so they carry little padding."""
    model.eval()
    order = np.argsort([len(f) for f in feats], kind="stable")
    out: list[np.ndarray | None] = [None] * len(feats)
    for start in range(0, len(feats), batch_size):
        index = order[start:start + batch_size]
        x, lengths = pad([feats[i] for i in index])
        log_probs, out_lengths = model(x, lengths)
        for row, i in enumerate(index):
            out[i] = log_probs[row, : out_lengths[row]].numpy()
    return out


def tidy(text: str) -> str:
    return " ".join(text.split())
