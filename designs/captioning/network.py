"""The captioner: a small CNN encoder over spatial features and a GRU decoder with
additive attention over them, plus greedy and beam-search decoding.

The encoder keeps an 8x8 grid of feature vectors instead of pooling them away, so
the decoder can look at a different place for each word ("red" at the circle,
"left" between the two shapes): that is what the attention map shows. Two
coordinate channels are appended to the image so position words have something to
read. Everything runs batched: beam search treats (image, beam) pairs as one batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


class Vocabulary:
    """Word-level: the captions are short and their words few, so subwords buy nothing."""

    def __init__(self, words: list[str]) -> None:
        self.itos = list(SPECIALS) + sorted(set(words) - set(SPECIALS))
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, captions: list[str]) -> Vocabulary:
        return cls([w for c in captions for w in c.split()])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, caption: str, max_len: int) -> list[int]:
        ids = [self.stoi.get(w, UNK) for w in caption.split()][: max_len - 2]
        return [BOS, *ids, EOS] + [PAD] * (max_len - 2 - len(ids))

    def decode(self, ids: list[int]) -> str:
        words = []
        for i in ids:
            if i == EOS:
                break
            if i not in (PAD, BOS):
                words.append(self.itos[i])
        return " ".join(words)


@dataclass(frozen=True)
class NetConfig:
    """Sized for a CPU: about 35 ms per training step of 64 images on two cores."""

    channels: int = 48
    feature_dim: int = 96
    embed_dim: int = 48
    hidden_dim: int = 128
    attention_dim: int = 64


class Encoder(nn.Module):
    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        c = cfg.channels
        self.net = nn.Sequential(
            nn.Conv2d(5, c // 2, 3, padding=1, stride=2), nn.BatchNorm2d(c // 2), nn.ReLU(),
            nn.Conv2d(c // 2, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c, cfg.feature_dim, 3, padding=1), nn.BatchNorm2d(cfg.feature_dim), nn.ReLU(),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (B, H, W, 3) -> features (B, positions, feature_dim)."""
        x = images.permute(0, 3, 1, 2).float() / 127.5 - 1.0
        b, _, h, w = x.shape
        ys = torch.linspace(-1, 1, h).view(1, 1, h, 1).expand(b, 1, h, w)
        xs = torch.linspace(-1, 1, w).view(1, 1, 1, w).expand(b, 1, h, w)
        f = self.net(torch.cat([x, xs, ys], dim=1))
        return f.flatten(2).transpose(1, 2)


class Decoder(nn.Module):
    """Luong-style attention: the GRU reads the words, then each hidden state attends
    over the image grid to pick the next word. Training runs the GRU over the whole
    caption in one fused call, which is what makes it fast enough for a CPU."""

    def __init__(self, vocab_size: int, cfg: NetConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, cfg.embed_dim, padding_idx=PAD)
        self.init_h = nn.Linear(cfg.feature_dim, cfg.hidden_dim)
        self.att_f = nn.Linear(cfg.feature_dim, cfg.attention_dim)
        self.att_h = nn.Linear(cfg.hidden_dim, cfg.attention_dim)
        self.att_v = nn.Linear(cfg.attention_dim, 1)
        self.gru = nn.GRU(cfg.embed_dim, cfg.hidden_dim, batch_first=True)
        self.out = nn.Linear(cfg.hidden_dim + cfg.feature_dim, vocab_size)

    def start(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Initial hidden state, and the features' attention projection (computed once)."""
        return torch.tanh(self.init_h(features.mean(1))), self.att_f(features)

    def attend(self, states: torch.Tensor, features: torch.Tensor, projected: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (B, T, V) and attention weights (B, T, positions) for hidden states (B, T, H)."""
        scores = self.att_v(torch.tanh(projected.unsqueeze(1) + self.att_h(states).unsqueeze(2))).squeeze(3)
        alpha = torch.softmax(scores, dim=2)
        context = torch.bmm(alpha, features)
        return self.out(torch.cat([states, context], dim=2)), alpha

    def run(self, tokens: torch.Tensor, h: torch.Tensor, features: torch.Tensor, projected: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Teacher forcing over a whole (B, T) token sequence."""
        states, h = self.gru(self.embed(tokens), h.unsqueeze(0))
        logits, alpha = self.attend(states, features, projected)
        return logits, h.squeeze(0), alpha

    def step(self, tokens: torch.Tensor, h: torch.Tensor, features: torch.Tensor, projected: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One word: logits (B, V), the new hidden state, attention weights (B, positions)."""
        logits, h, alpha = self.run(tokens.unsqueeze(1), h, features, projected)
        return logits.squeeze(1), h, alpha.squeeze(1)


class Captioner(nn.Module):
    def __init__(self, vocab: Vocabulary, cfg: NetConfig | None = None) -> None:
        super().__init__()
        self.vocab = vocab
        self.cfg = cfg or NetConfig()
        self.encoder = Encoder(self.cfg)
        self.decoder = Decoder(len(vocab), self.cfg)

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits (B, T-1, V) for tokens[:, 1:] given tokens[:, :-1]."""
        features = self.encoder(images)
        h, projected = self.decoder.start(features)
        return self.decoder.run(tokens[:, :-1], h, features, projected)[0]

    @torch.no_grad()
    def greedy(self, images: torch.Tensor, max_len: int = 20) -> tuple[list[str], torch.Tensor, torch.Tensor]:
        """Captions, the mean log-probability of their words (the model's confidence),
        and the attention weights (B, steps, positions)."""
        features = self.encoder(images)
        h, projected = self.decoder.start(features)
        b = images.shape[0]
        tokens = torch.full((b,), BOS, dtype=torch.long)
        done = torch.zeros(b, dtype=torch.bool)
        out_ids, logp_sum, lengths, alphas = [], torch.zeros(b), torch.zeros(b), []
        for _ in range(max_len):
            logits, h, alpha = self.decoder.step(tokens, h, features, projected)
            logp = torch.log_softmax(logits, dim=1)
            best, tokens = logp.max(1)
            live = ~done
            logp_sum += torch.where(live, best, torch.zeros_like(best))
            lengths += live.float()
            out_ids.append(tokens)
            alphas.append(alpha)
            done |= tokens == EOS
            if bool(done.all()):
                break
        ids = torch.stack(out_ids, 1).tolist()
        return [self.vocab.decode(row) for row in ids], logp_sum / lengths.clamp(min=1), torch.stack(alphas, 1)

    @torch.no_grad()
    def beam(self, images: torch.Tensor, width: int = 3, max_len: int = 20, length_alpha: float = 0.7
             ) -> list[str]:
        """Beam search: keep the `width` best partial captions per image, score finished
        ones by log-probability / length**length_alpha (so short captions are not
        favoured just for having fewer words to be unsure of)."""
        if width == 1:
            return self.greedy(images, max_len)[0]
        features = self.encoder(images)
        b, positions, dim = features.shape
        features = features.unsqueeze(1).expand(b, width, positions, dim).reshape(b * width, positions, dim)
        h, projected = self.decoder.start(features)
        tokens = torch.full((b * width,), BOS, dtype=torch.long)
        scores = torch.full((b, width), float("-inf"))
        scores[:, 0] = 0.0  # all beams start identical: keep one alive
        history = torch.zeros((b, width, 0), dtype=torch.long)
        finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(b)]
        vocab = len(self.vocab)
        for step in range(max_len):
            logits, h, _ = self.decoder.step(tokens, h, features, projected)
            logp = torch.log_softmax(logits, dim=1).view(b, width, vocab)
            total = (scores.unsqueeze(2) + logp).view(b, width * vocab)
            top, index = total.topk(2 * width, dim=1)  # room for beams that end here
            beam_of, word = index // vocab, index % vocab
            # The bookkeeping runs on Python lists: indexing a tensor element by element costs
            # microseconds a time, and at batch 1 this loop is most of a request's latency.
            new_scores_l = [[float("-inf")] * width for _ in range(b)]
            new_beam_l = [[0] * width for _ in range(b)]
            new_word_l = [[PAD] * width for _ in range(b)]
            top_l, beam_l, word_l = top.tolist(), beam_of.tolist(), word.tolist()
            history_l = history.tolist()
            for i in range(b):
                kept = 0
                for j in range(2 * width):
                    score = top_l[i][j]
                    if score == float("-inf") or kept == width:
                        break
                    k, w = beam_l[i][j], word_l[i][j]
                    if w == EOS:
                        words = history_l[i][k]
                        finished[i].append((score / max(1, len(words) + 1) ** length_alpha, words))
                        continue
                    new_scores_l[i][kept], new_beam_l[i][kept], new_word_l[i][kept] = score, k, w
                    kept += 1
            new_scores, new_beam = torch.tensor(new_scores_l), torch.tensor(new_beam_l, dtype=torch.long)
            new_word = torch.tensor(new_word_l, dtype=torch.long)
            flat = (new_beam + torch.arange(b).unsqueeze(1) * width).view(-1)
            h = h[flat]
            history = torch.cat([history.view(b * width, -1)[flat].view(b, width, -1), new_word.unsqueeze(2)], 2)
            scores, tokens = new_scores, new_word.view(-1)
            best_open = (scores.max(1).values / (step + 2) ** length_alpha).tolist()
            if all(finished[i] and max(f[0] for f in finished[i]) >= best_open[i] for i in range(b)):
                break
        results = []
        for i in range(b):
            if not finished[i]:  # nothing ended within max_len: take the best open beam
                finished[i].append((0.0, history[i, int(scores[i].argmax())].tolist()))
            results.append(self.vocab.decode(max(finished[i], key=lambda f: f[0])[1]))
        return results


def multiply_adds(cfg: NetConfig, image_size: int, vocab_size: int, words: float, beam: int = 1) -> float:
    """Multiply-adds to caption one image, counted from the layer shapes: the encoder
    once, the decoder once per word and beam. Drives the GPU estimate."""
    c, f = cfg.channels, cfg.feature_dim
    s1, s2 = image_size // 2, image_size // 4
    encoder = s1 * s1 * (c // 2) * 5 * 9 + s1 * s1 * c * (c // 2) * 9 + s2 * s2 * f * c * 9
    positions = s2 * s2
    per_word = (3 * cfg.hidden_dim * (cfg.embed_dim + cfg.hidden_dim)          # GRU gates
                + cfg.hidden_dim * cfg.attention_dim + positions * cfg.attention_dim  # attention scores
                + positions * f                                                 # context
                + (cfg.hidden_dim + f) * vocab_size)                            # word logits
    return float(encoder + positions * f * cfg.attention_dim + words * beam * per_word)


def expand_vocabulary(model: Captioner, vocab: Vocabulary) -> Captioner:
    """A copy of the model that knows more words: every weight is kept, the rows of the
    word embedding and output layer are copied for the words both vocabularies share,
    and the new words start from the layer's own initialisation."""
    bigger = Captioner(vocab, model.cfg)
    state = model.state_dict()
    word_rows = ("decoder.embed.weight", "decoder.out.weight", "decoder.out.bias")
    bigger.load_state_dict({k: v for k, v in state.items() if k not in word_rows}, strict=False)
    shared = [(vocab.stoi[w], i) for i, w in enumerate(model.vocab.itos) if w in vocab.stoi]
    new_index, old_index = (torch.tensor(x) for x in zip(*shared))
    with torch.no_grad():
        for name in word_rows:
            target = bigger.state_dict()[name]
            target[new_index] = state[name][old_index]
    return bigger
