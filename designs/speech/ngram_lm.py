"""A small word bigram language model for shallow fusion in speech-recognition decoding.

Interpolated absolute discounting with a Kneser-Ney continuation unigram:

    P(w | v) = max(c(v, w) - D, 0) / c(v) + D * N1+(v, .) / c(v) * P_cont(w)
    P_cont(w) = N1+(., w) / N1+(., .)

where c(v) counts bigrams starting at v, N1+(v, .) the distinct words seen after v and
N1+(., w) the distinct words seen before w. A context never seen as a history (c(v) = 0)
backs off to P_cont alone. The predicted vocabulary is every training word plus </s>.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise

BOS, EOS = "<s>", "</s>"


class WordBigramLM:
    """A word bigram LM with interpolated absolute discounting (Kneser-Ney continuation
    counts for the unigram), trained on whitespace-tokenised sentences with <s> and </s>.

    Unknown words get a fixed floor probability `unk_prob`, so a hypothesis with an unseen word
    is penalised but not impossible. That mass is reserved: the known distribution is scaled by
    (1 - unk_prob), so for any context the probabilities of the known vocabulary plus </s> sum
    to 1 - unk_prob, and adding one <unk> class of mass unk_prob makes exactly 1.
    """

    def __init__(self, discount: float = 0.75, unk_prob: float = 1e-5):
        if not 0.0 < discount < 1.0:
            raise ValueError("discount must lie in (0, 1)")
        if not 0.0 < unk_prob < 1.0:
            raise ValueError("unk_prob must lie in (0, 1)")
        self.discount = discount
        self.unk_prob = unk_prob
        self.vocab: set[str] = set()

    def fit(self, sentences: Iterable[str]) -> WordBigramLM:
        bigrams: Counter[tuple[str, str]] = Counter()
        for sentence in sentences:
            tokens = [BOS, *sentence.split(), EOS]
            bigrams.update(pairwise(tokens))
        if not bigrams:
            raise ValueError("fit needs at least one sentence")
        self.bigrams = bigrams
        self.history = Counter()  # c(v)
        self.followers: Counter[str] = Counter()  # N1+(v, .)
        self.preceders: Counter[str] = Counter()  # N1+(., w)
        for (v, w), n in bigrams.items():
            self.history[v] += n
            self.followers[v] += 1
            self.preceders[w] += 1
        self.total_types = len(bigrams)  # N1+(., .)
        self.vocab = set(self.preceders)  # every word that can be predicted, </s> included
        self._cache: dict[tuple[str, str], float] = {}
        return self

    def _p_known(self, word: str, previous: str) -> float:
        p_cont = self.preceders[word] / self.total_types
        c_v = self.history.get(previous, 0)
        if c_v == 0:
            return p_cont
        d = self.discount
        return (max(self.bigrams.get((previous, word), 0) - d, 0.0) / c_v
                + d * self.followers[previous] / c_v * p_cont)

    def log_prob(self, word: str, previous: str) -> float:
        """Natural-log P(word | previous); previous is "<s>" at sentence start, word "</s>" at
        the end. An unknown word gets log(unk_prob) whatever the context."""
        if word not in self.vocab:
            return math.log(self.unk_prob)
        key = (word, previous)
        if key not in self._cache:
            self._cache[key] = math.log((1.0 - self.unk_prob) * self._p_known(word, previous))
        return self._cache[key]

    def sentence_log_prob(self, sentence: str) -> float:
        tokens = [BOS, *sentence.split(), EOS]
        return sum(self.log_prob(w, v) for v, w in pairwise(tokens))

    def perplexity(self, sentences: Iterable[str]) -> float:
        """exp of the mean negative log-probability per predicted token (words plus </s>)."""
        total, count = 0.0, 0
        for sentence in sentences:
            total += self.sentence_log_prob(sentence)
            count += len(sentence.split()) + 1
        if count == 0:
            raise ValueError("perplexity needs at least one sentence")
        return math.exp(-total / count)
