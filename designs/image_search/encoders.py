"""A CLIP-style dual encoder: an image tower and a text tower that map into one unit
sphere, trained with the symmetric InfoNCE loss (each image's text against the batch's
other texts, and each text's image against the batch's other images) and a learned
temperature. The towers never see each other's input, so gallery images are embedded
once, offline, and a query costs one text (or image) forward pass and an index search.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from mlsd.threads import training_threads

MAX_LOGIT_SCALE = math.log(100.0)  # CLIP clamps the learned temperature at 1/100
EMBED_CHUNK = 512  # images per forward pass when embedding a gallery


class WordVocabulary:
    """Words and adjacent word pairs of the training texts. Pairs carry what a bag of
    words loses: "red circle and blue square" is not "blue circle and red square"."""

    def __init__(self, texts: list[str]) -> None:
        grams = sorted({g for t in texts for g in self.grams(t)})
        self.index = {g: i + 1 for i, g in enumerate(grams)}  # 0: unknown

    @staticmethod
    def grams(text: str) -> list[str]:
        words = text.split()
        return words + [f"{a}_{b}" for a, b in zip(words, words[1:])]

    def __len__(self) -> int:
        return len(self.index) + 1

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat ids and offsets, as nn.EmbeddingBag takes them."""
        ids, offsets = [], []
        for t in texts:
            offsets.append(len(ids))
            ids += [self.index.get(g, 0) for g in self.grams(t)]
        return torch.tensor(ids), torch.tensor(offsets)

    def unknown_share(self, texts: list[str]) -> float:
        grams = [g for t in texts for g in t.split()]
        return sum(g not in self.index for g in grams) / max(len(grams), 1)


class ImageTower(nn.Module):
    """Three convolutions; the last feature map is flattened, not pooled, so where an
    object sits survives ("to the left of")."""

    def __init__(self, image_size: int, dim: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(),
        )
        self.project = nn.Linear(32 * (image_size // 4) ** 2, dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.permute(0, 3, 1, 2).float() / 127.5 - 1.0  # uint8 NHWC -> [-1, 1] NCHW
        return nn.functional.normalize(self.project(self.features(x).flatten(1)), dim=1)


class TextTower(nn.Module):
    def __init__(self, vocab_size: int, dim: int, hidden: int = 128) -> None:
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab_size, hidden, mode="mean")
        self.project = nn.Sequential(nn.ReLU(), nn.Linear(hidden, dim))

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.project(self.bag(ids, offsets)), dim=1)


class DualEncoder(nn.Module):
    def __init__(self, vocab: WordVocabulary, image_size: int, dim: int) -> None:
        super().__init__()
        self.vocab = vocab
        self.image = ImageTower(image_size, dim)
        self.text = TextTower(len(vocab), dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))  # CLIP's starting temperature

    def loss(self, images: torch.Tensor, texts: list[str]) -> torch.Tensor:
        """Symmetric InfoNCE: the matching pair is the right class among the batch, both ways."""
        img = self.image(images)
        txt = self.text(*self.vocab.encode(texts))
        logits = self.logit_scale.clamp(max=MAX_LOGIT_SCALE).exp() * img @ txt.T
        target = torch.arange(len(texts))
        return (nn.functional.cross_entropy(logits, target) + nn.functional.cross_entropy(logits.T, target)) / 2

    @torch.no_grad()
    def embed_images(self, images: np.ndarray) -> np.ndarray:
        self.eval()
        parts = [self.image(torch.from_numpy(images[i:i + EMBED_CHUNK])) for i in range(0, len(images), EMBED_CHUNK)]
        return torch.cat(parts).numpy()

    @torch.no_grad()
    def embed_texts(self, texts: list[str]) -> np.ndarray:
        self.eval()
        return self.text(*self.vocab.encode(texts)).numpy()


def train(model: DualEncoder, images: np.ndarray, texts_for, *, epochs: int, batch_size: int,
          learning_rate: float, progress, description: str) -> list[float]:
    """`texts_for(epoch)` gives one text per image for that epoch (a caption or a
    search-style description, drawn afresh), so the towers see many phrasings.
    Returns the mean loss per epoch."""
    tensor = torch.from_numpy(images)
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
    steps = [(e, s) for e in range(epochs) for s in range(0, len(images) - batch_size + 1, batch_size)]
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=learning_rate, pct_start=0.15,
                                                   total_steps=len(steps))
    losses: list[float] = []
    order, texts, total, seen = None, None, 0.0, 0
    model.train()
    for epoch, start in progress.track(steps, total=len(steps), description=description):
        if start == 0:
            torch.set_num_threads(training_threads())  # re-decided each epoch: load may come and go
            order, texts = torch.randperm(len(images)), texts_for(epoch)
            if seen:
                losses.append(total / seen)
            total, seen = 0.0, 0
        index = order[start:start + batch_size]  # full batches only: the loss depends on the batch size
        loss = model.loss(tensor[index], [texts[i] for i in index.tolist()])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        total, seen = total + float(loss.detach()), seen + 1
    losses.append(total / max(seen, 1))
    model.eval()
    return losses
