"""CTC decoding for the speech-recognition design: greedy best path and prefix beam search
(Hannun et al. 2014) with shallow fusion of a word bigram language model.

Inputs are (frames, symbols) natural-log posteriors; alphabet[i] is the character of symbol i
(alphabet[blank] is ignored).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

import numpy as np

from mlsd.designs.speech.ngram_lm import BOS, EOS, WordBigramLM

NEG_INF = float("-inf")


def _logaddexp(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    if a < b:
        a, b = b, a
    return a + math.log1p(math.exp(b - a))


def greedy(log_probs: np.ndarray, alphabet: Sequence[str], blank: int = 0) -> str:
    """Best path: argmax per frame, merge repeats, drop blanks. log_probs: (frames, symbols)
    natural-log posteriors."""
    best = np.asarray(log_probs).argmax(axis=1)
    out, previous = [], None
    for s in best.tolist():
        if s != previous and s != blank:
            out.append(alphabet[s])
        previous = s
    return "".join(out)


def prefix_beam_search(log_probs: np.ndarray, alphabet: Sequence[str], *, beam: int = 8,
                       blank: int = 0, lm: WordBigramLM | None = None, lm_weight: float = 0.0,
                       word_bonus: float = 0.0, space: str = " ", prune: float = -12.0) -> str:
    """CTC prefix beam search (Hannun et al. 2014) with shallow fusion of a word LM: when a
    prefix completes a word (a space is appended, or at the end of the utterance), add
    lm_weight * log P(word | previous word) + word_bonus. Tracks p_blank and p_non_blank per
    prefix in log space (logsumexp); symbols with log prob below `prune` at a frame are skipped
    for speed. At the end, add the LM score of the last word and of </s>.

    The LM score of a prefix depends only on its text, so it is kept beside the acoustic
    scores (p_blank, p_non_blank) rather than folded into them; beams are ranked by
    logsumexp(p_blank, p_non_blank) + LM score.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.ndim != 2 or log_probs.shape[1] != len(alphabet):
        raise ValueError("log_probs must be (frames, len(alphabet))")

    def word_score(prefix: str, closing: str = "") -> float:
        """Score of the last word of `prefix` given the word before it, plus that of `closing`
        (EOS) after it; 0 when the prefix does not end in a word."""
        words = prefix.split(space)
        score = 0.0
        if words[-1]:
            history = [w for w in words[:-1] if w]
            previous = history[-1] if history else BOS
            if lm is not None:
                score += lm_weight * lm.log_prob(words[-1], previous)
            score += word_bonus
        if closing and lm is not None:
            last = [w for w in words if w]
            score += lm_weight * lm.log_prob(closing, last[-1] if last else BOS)
        return score

    lm_score: dict[str, float] = {"": 0.0}
    beams: dict[str, tuple[float, float]] = {"": (0.0, NEG_INF)}  # prefix -> (p_blank, p_non_blank)
    for row in log_probs:
        kept = np.flatnonzero(row >= prune)
        if kept.size == 0:
            kept = np.array([row.argmax()])
        symbols = [(int(s), float(row[s])) for s in kept]
        nxt: dict[str, list[float]] = {}  # prefix -> [p_blank, p_non_blank] after this frame
        for prefix, (p_b, p_nb) in beams.items():
            total = _logaddexp(p_b, p_nb)
            last = prefix[-1] if prefix else None
            for s, p in symbols:
                if s == blank:
                    entry = nxt.setdefault(prefix, [NEG_INF, NEG_INF])
                    entry[0] = _logaddexp(entry[0], total + p)
                    continue
                c = alphabet[s]
                extended = prefix + c
                if extended not in lm_score:
                    lm_score[extended] = lm_score[prefix] + (word_score(prefix) if c == space else 0.0)
                new = nxt.setdefault(extended, [NEG_INF, NEG_INF])
                if c == last:  # a repeat only extends the prefix after a blank
                    new[1] = _logaddexp(new[1], p_b + p)
                    same = nxt.setdefault(prefix, [NEG_INF, NEG_INF])
                    same[1] = _logaddexp(same[1], p_nb + p)
                else:
                    new[1] = _logaddexp(new[1], total + p)
        best = heapq.nlargest(beam, nxt.items(),
                              key=lambda kv: _logaddexp(*kv[1]) + lm_score[kv[0]])
        beams = {prefix: (p_b, p_nb) for prefix, (p_b, p_nb) in best}

    def final(prefix: str) -> float:
        return _logaddexp(*beams[prefix]) + lm_score[prefix] + word_score(prefix, EOS)

    return max(beams, key=final)
