"""A small cross-encoder for the last re-ranking step: it reads the query and the
document together. Every query word is compared with every document word (cosine of
learned embeddings) and the similarities are soft-counted by RBF kernels at several
levels, exact match included (K-NRM, Xiong et al. 2017); a linear layer turns the
kernel counts and the previous stage's score into the final score. Trained pairwise:
for two candidates of one query, the more relevant must score higher.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mlsd.threads import training_threads

KERNEL_MUS = (-0.9, -0.7, -0.5, -0.3, -0.1, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
DOC_TOKENS = 120  # the start of a document is enough to judge it, and bounds the cost


class CrossEncoder(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 32) -> None:
        super().__init__()
        self.pad = vocab_size
        self.embed = nn.Embedding(vocab_size + 1, dim, padding_idx=vocab_size)
        self.register_buffer("mu", torch.tensor(KERNEL_MUS).view(1, 1, 1, -1))
        sigma = torch.full((len(KERNEL_MUS),), 0.1)
        sigma[-1] = 0.001  # the exact-match kernel
        self.register_buffer("sigma", sigma.view(1, 1, 1, -1))
        self.out = nn.Linear(len(KERNEL_MUS) + 1, 1)

    def forward(self, query: torch.Tensor, doc: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
        q = nn.functional.normalize(self.embed(query), dim=-1)
        d = nn.functional.normalize(self.embed(doc), dim=-1)
        sim = torch.bmm(q, d.transpose(1, 2)).unsqueeze(-1)            # (B, Lq, Ld, 1)
        k = torch.exp(-((sim - self.mu) ** 2) / (2 * self.sigma ** 2))  # (B, Lq, Ld, K)
        k = k * (doc != self.pad).float().view(doc.shape[0], 1, -1, 1)
        soft_tf = torch.log1p(k.sum(2)) * (query != self.pad).float().unsqueeze(-1)  # (B, Lq, K)
        return self.out(torch.cat([soft_tf.sum(1), prior.unsqueeze(1)], dim=1)).squeeze(1)


def pad(sequences: list[np.ndarray], length: int, value: int) -> torch.Tensor:
    out = np.full((len(sequences), length), value, dtype=np.int64)
    for i, s in enumerate(sequences):
        s = s[:length]
        out[i, : len(s)] = s
    return torch.from_numpy(out)


class Reranker:
    """Batches (query, document, prior) triples for the model; what serving calls."""

    def __init__(self, model: CrossEncoder, docs: list[np.ndarray]) -> None:
        self.model, self.docs = model, docs

    @torch.no_grad()
    def scores(self, query: np.ndarray, doc_ids: np.ndarray, prior: np.ndarray) -> np.ndarray:
        self.model.eval()
        n = len(doc_ids)
        q = pad([query] * n, len(query), self.model.pad)
        d = pad([self.docs[i] for i in doc_ids], DOC_TOKENS, self.model.pad)
        return self.model(q, d, torch.as_tensor(standardise(prior), dtype=torch.float32)).numpy()


def rerank_head(reranker: Reranker, query: np.ndarray, docs: np.ndarray, prior: np.ndarray, depth: int) -> np.ndarray:
    """LambdaMART's order with its top `depth` re-ordered by the cross-encoder."""
    head = docs[:depth]
    order = np.argsort(-reranker.scores(query, head, prior[:depth]), kind="stable")
    return np.concatenate([head[order], docs[depth:]])


def standardise(x: np.ndarray) -> np.ndarray:
    """Scores of one query's candidates on a common scale: the prior's level is arbitrary."""
    return (x - x.mean()) / (x.std() + 1e-6)


def train_cross_encoder(docs: list[np.ndarray], vocab_size: int, groups: list[tuple[np.ndarray, np.ndarray, np.ndarray,
                        np.ndarray]], *, pairs: int, epochs: int, rng: np.random.Generator, progress) -> CrossEncoder:
    """`groups`: per training query (query tokens, candidate ids, their grades, prior
    scores). Pairs are drawn within a query between candidates of different grades."""
    model = CrossEncoder(vocab_size)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    triples = []
    for g, (_, _, grades, _) in enumerate(groups):
        for _ in range(max(1, pairs // len(groups))):
            i, j = rng.integers(len(grades), size=2)
            if grades[i] != grades[j]:
                triples.append((g, i, j) if grades[i] > grades[j] else (g, j, i))
    priors = [standardise(p) for _, _, _, p in groups]
    batch = 256
    steps = [(e, s) for e in range(epochs) for s in range(0, len(triples), batch)]
    model.train()
    for _, start in progress.track(steps, total=len(steps), description="training the cross-encoder"):
        if start == 0:
            torch.set_num_threads(training_threads())  # re-decided each epoch: load may come and go
        chunk = triples[start:start + batch]
        q = pad([groups[g][0] for g, _, _ in chunk], 4, model.pad)
        scores = []
        for side in (1, 2):  # the better candidate, then the worse
            d = pad([docs[groups[c[0]][1][c[side]]] for c in chunk], DOC_TOKENS, model.pad)
            prior = torch.tensor([priors[c[0]][c[side]] for c in chunk], dtype=torch.float32)
            scores.append(model(q, d, prior))
        loss = nn.functional.softplus(scores[1] - scores[0]).mean()  # RankNet: the better one must win
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    return model
