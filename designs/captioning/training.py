"""Training with teacher forcing, decoding in chunks, and the model's own confidence
(how captions are scored is `scoring`)."""

from __future__ import annotations

import numpy as np
import torch

from mlsd.designs.captioning.world import Split
from mlsd.designs.captioning.network import PAD, Captioner, Vocabulary
from mlsd.threads import training_threads

DECODE_CHUNK = 256


def token_tensor(split: Split, vocab: Vocabulary, max_len: int) -> torch.Tensor:
    """(images, references, max_len) token ids with <bos>/<eos> and padding."""
    return torch.tensor([[vocab.encode(c, max_len) for c in refs] for refs in split.references])


def train(model: Captioner, split: Split, cfg, *, epochs: int, progress, description: str,
          val: Split | None = None) -> list[tuple[int, float, float | None]]:
    """Teacher forcing: each epoch shows every image once with one of its references
    drawn at random, so the model sees every phrasing. Returns (epoch, train loss,
    validation loss) per epoch."""
    images = torch.from_numpy(split.images)
    tokens = token_tensor(split, model.vocab, cfg.max_len)
    # fused: one kernel over every parameter instead of a dozen small ops each, ~10% of a CPU step here
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, fused=True)
    steps_per_epoch = -(-len(split) // cfg.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=cfg.learning_rate, pct_start=0.15,
                                                   total_steps=epochs * steps_per_epoch)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD)
    history = []
    batches = [(epoch, start) for epoch in range(epochs) for start in range(0, len(split), cfg.batch_size)]
    order = torch.randperm(len(split))
    epoch_loss, seen = 0.0, 0
    model.train()
    for epoch, start in progress.track(batches, total=len(batches), description=description):
        if start == 0:
            order = torch.randperm(len(split))
            torch.set_num_threads(training_threads())  # re-decided each epoch: load may come and go
        index = order[start:start + cfg.batch_size]
        pick = torch.randint(0, tokens.shape[1], (len(index),))
        target = tokens[index, pick]
        target = target[:, : int((target != PAD).sum(1).max())]
        logits = model(images[index], target)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), target[:, 1:].reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        schedule.step()
        epoch_loss += float(loss.detach()) * len(index)
        seen += len(index)
        if start + cfg.batch_size >= len(split):
            history.append((epoch + 1, epoch_loss / seen, validation_loss(model, val, cfg) if val else None))
            epoch_loss, seen = 0.0, 0
            model.train()
    model.eval()
    return history


@torch.no_grad()
def validation_loss(model: Captioner, split: Split, cfg) -> float:
    """Mean cross-entropy per word over one fixed reference per image, rotating through
    the reference positions so every annotator's phrasing is represented: a fifth of the
    cost of scoring all five, and the same references every epoch, so epochs compare."""
    model.eval()
    tokens = token_tensor(split, model.vocab, cfg.max_len)
    target = tokens[torch.arange(len(split)), torch.arange(len(split)) % tokens.shape[1]]
    target = target[:, : int((target != PAD).sum(1).max())]  # no steps past the longest caption
    logits = model(torch.from_numpy(split.images), target)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD, reduction="sum")
    total = float(loss_fn(logits.reshape(-1, logits.shape[-1]), target[:, 1:].reshape(-1)))
    return total / int((target[:, 1:] != PAD).sum())


def decode(model: Captioner, images: np.ndarray, width: int, max_len: int) -> list[str]:
    """Captions for many images, greedy (width 1) or beam search, in chunks."""
    out: list[str] = []
    for start in range(0, len(images), DECODE_CHUNK):
        chunk = torch.from_numpy(images[start:start + DECODE_CHUNK])
        out += model.beam(chunk, width=width, max_len=max_len)
    return out


def confidence(model: Captioner, images: np.ndarray, max_len: int) -> tuple[list[str], np.ndarray]:
    """Greedy captions and the mean log-probability of their words: the model's own
    confidence, available before any human has captioned the image."""
    captions, scores = [], []
    for start in range(0, len(images), DECODE_CHUNK):
        chunk_captions, chunk_scores, _ = model.greedy(torch.from_numpy(images[start:start + DECODE_CHUNK]), max_len)
        captions += chunk_captions
        scores.append(chunk_scores.numpy())
    return captions, np.concatenate(scores)

