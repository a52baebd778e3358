"""The search world: documents written from topics, queries with graded relevance the
generator knows, and a click log from a position-biased click model.

Relevance (the hidden utility) depends on what no single signal sees whole: how much a
document is about the query's topic (dense embeddings see it), whether it uses the
query's words (BM25 sees it), and its quality and freshness. Quality is hidden: a
ranker sees only noisy proxies of it (a link prior here, click history in the logs),
and it sees a document's age, not the freshness term. Judges are noisy too: a judged
grade is the utility plus judge noise, cut into grades, while users click by the
noiseless grade. So BM25 and dense retrieval each miss what the other catches, their
fusion beats both, and a learned ranker over the observable features beats the fusion
without reaching the generator's truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BACKGROUND_SHARE = 0.35      # of a document's words: common words of no topic
TOPIC_CORE_WORDS = 40
CLICK_PROBABILITY = np.array([0.05, 0.25, 0.55, 0.9])  # by relevance grade 0-3, once examined
GRADE_CUTS = (0.3, 0.47, 0.62)  # utility -> grade 1, 2, 3 (judges add their noise before the cut)
QUERY_WORD_RANKS = 22            # queries use a topic's 4th to 25th most typical words


@dataclass
class Corpus:
    docs: list[np.ndarray]          # token ids
    topic_mix: np.ndarray           # (docs, topics) share of each topic
    quality: np.ndarray             # 0-1, hidden: no feature reads it
    age_days: np.ndarray            # observable (publication date)
    link_prior: np.ndarray          # observable: quality + noise, a PageRank-like authority score
    topic_words: np.ndarray         # (topics, TOPIC_CORE_WORDS) word ids, most typical first
    vocab_size: int

    @property
    def n_docs(self) -> int:
        return len(self.docs)


@dataclass
class Queries:
    tokens: list[np.ndarray]
    topic: np.ndarray
    judged: list[tuple[np.ndarray, np.ndarray]]  # per query: (doc ids, judged grades 1-3); every other doc is 0
    truth: list[tuple[np.ndarray, np.ndarray]]   # per query: (ids of the documents on its topic, their utility)

    def grades(self, q: int, doc_ids: np.ndarray) -> np.ndarray:
        """Judged grades (with judge noise): the labels training and evaluation read."""
        return _lookup(self.judged[q], doc_ids).astype(np.int64)

    def utility(self, q: int, doc_ids: np.ndarray) -> np.ndarray:
        """The generator's hidden utility (0 off the query's topic): only oracles read it."""
        return _lookup(self.truth[q], doc_ids)

    def true_grades(self, q: int, doc_ids: np.ndarray) -> np.ndarray:
        """Grades without judge noise: what simulated users click by."""
        return np.searchsorted(GRADE_CUTS, self.utility(q, doc_ids), side="right")

    def subset(self, chosen: np.ndarray) -> Queries:
        return Queries([self.tokens[i] for i in chosen], self.topic[chosen], [self.judged[i] for i in chosen],
                       [self.truth[i] for i in chosen])

    def __add__(self, other: Queries) -> Queries:
        return Queries(self.tokens + other.tokens, np.concatenate([self.topic, other.topic]),
                       self.judged + other.judged, self.truth + other.truth)


def _lookup(table: tuple[np.ndarray, np.ndarray], doc_ids: np.ndarray) -> np.ndarray:
    """Values of a sorted (ids, values) table at doc_ids; 0 where an id is absent."""
    ids, values = table
    doc_ids = np.asarray(doc_ids, dtype=np.int64)
    out = np.zeros(len(doc_ids), dtype=values.dtype)
    if len(ids):
        at = np.minimum(np.searchsorted(ids, doc_ids), len(ids) - 1)
        found = ids[at] == doc_ids
        out[found] = values[at[found]]
    return out


def make_topics(n_topics: int, vocab_size: int, rng: np.random.Generator) -> np.ndarray:
    """Each topic's core words: drawn from the whole vocabulary, so topics share some words."""
    content = np.arange(vocab_size // 10, vocab_size)  # the first tenth are the common words
    return np.stack([rng.choice(content, TOPIC_CORE_WORDS, replace=False) for _ in range(n_topics)])


def _zipf(n: int, exponent: float) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1) ** exponent
    return p / p.sum()


def make_corpus(n_docs: int, topic_words: np.ndarray, vocab_size: int, rng: np.random.Generator,
                topics: np.ndarray | None = None, link_noise: float = 0.15) -> Corpus:
    """Documents mixing a main topic (60-100%) with a second one; lengths log-normal.
    The link prior is quality plus Gaussian noise of sd `link_noise` (quality's own sd is 0.22)."""
    n_topics = topic_words.shape[0]
    topics = np.arange(n_topics) if topics is None else topics
    main = rng.choice(topics, n_docs)
    second = rng.choice(np.arange(n_topics), n_docs)
    weight = rng.uniform(0.6, 1.0, n_docs)
    mix = np.zeros((n_docs, n_topics))
    mix[np.arange(n_docs), second] += 1 - weight
    mix[np.arange(n_docs), main] += weight
    lengths = np.clip(rng.lognormal(np.log(80), 0.5, n_docs).astype(int), 15, 400)
    common = _zipf(vocab_size // 10, 1.0)
    within = _zipf(TOPIC_CORE_WORDS, 0.8)
    docs = []
    for d in range(n_docs):
        n = lengths[d]
        background = rng.random(n) < BACKGROUND_SHARE
        from_main = rng.random(n) < weight[d]
        topic_of = np.where(from_main, main[d], second[d])
        words = topic_words[topic_of, rng.choice(TOPIC_CORE_WORDS, n, p=within)]
        words[background] = rng.choice(vocab_size // 10, int(background.sum()), p=common)
        docs.append(words.astype(np.int32))
    quality = rng.beta(2, 2, n_docs)
    link_prior = quality + rng.normal(0, link_noise, n_docs)
    return Corpus(docs, mix, quality, rng.exponential(180, n_docs), link_prior, topic_words, vocab_size)


def utility(corpus: Corpus, topic: int, query: np.ndarray, counts) -> np.ndarray:
    """The generator's truth: topical share, how much the document uses each query word
    (saturating in its count), quality, freshness."""
    topical = corpus.topic_mix[:, topic]
    words = np.unique(query)
    tf = counts[:, words].toarray()
    coverage = (1 - np.exp(-tf / 1.5)).mean(axis=1)
    fresh = 0.85 + 0.15 * np.exp(-corpus.age_days / 90)
    return topical ** 1.5 * (0.55 + 0.45 * coverage) * (0.5 + 0.5 * corpus.quality) * fresh


def count_matrix(corpus: Corpus):
    """How often each document uses each word (scipy CSC, docs x vocabulary)."""
    from scipy import sparse

    rows = np.repeat(np.arange(corpus.n_docs), [len(d) for d in corpus.docs])
    cols = np.concatenate(corpus.docs)
    m = sparse.csc_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)),
                          shape=(corpus.n_docs, corpus.vocab_size))
    m.sum_duplicates()
    return m


def make_queries(n: int, corpus: Corpus, rng: np.random.Generator, topics: np.ndarray, counts,
                 judge_noise: float = 0.05) -> Queries:
    """Queries of 2-3 words of one topic (not its most common ones), with every
    document's utility and judged grade. A judge grades a document on the query's topic
    by its utility plus Gaussian noise of sd `judge_noise`, cut at GRADE_CUTS; a document
    off the topic is grade 0, as unpooled documents are in TREC-style judging."""
    chosen = rng.choice(topics, n, p=_zipf(len(topics), 0.6))
    tokens, judged, truth = [], [], []
    for t in chosen:
        words = corpus.topic_words[t, 3 + rng.choice(QUERY_WORD_RANKS, rng.integers(2, 4), replace=False)]
        u = utility(corpus, int(t), words, counts)
        on_topic = np.flatnonzero(u > 0)
        grades = np.searchsorted(GRADE_CUTS, u[on_topic] + rng.normal(0, judge_noise, len(on_topic)), side="right")
        tokens.append(words.astype(np.int32))
        judged.append((on_topic[grades > 0], grades[grades > 0]))
        truth.append((on_topic, u[on_topic]))
    return Queries(tokens, chosen, judged, truth)


@dataclass
class ClickLog:
    query: np.ndarray       # per impression: query index
    doc: np.ndarray
    rank: np.ndarray        # 1-based position shown
    click: np.ndarray       # 0/1
    randomized: np.ndarray  # the session's top results were shuffled (for propensity estimation)


def simulate_clicks(queries: Queries, shown: dict[int, np.ndarray], sessions: int, randomize_share: float,
                    examination_exponent: float, rng: np.random.Generator) -> ClickLog:
    """Sessions over the production ranker's top results. A user examines rank r with
    probability 1 / r**exponent and clicks an examined result by its true grade (users
    feel the utility; judge noise is the judges' own)."""
    qs = np.array(sorted(shown))
    pick = rng.choice(qs, sessions, p=_zipf(len(qs), 0.8))
    cols: dict[str, list] = {"query": [], "doc": [], "rank": [], "click": [], "randomized": []}
    for q in pick:
        docs = shown[int(q)].copy()
        shuffled = rng.random() < randomize_share
        if shuffled:
            rng.shuffle(docs)
        ranks = np.arange(1, len(docs) + 1)
        examined = rng.random(len(docs)) < 1.0 / ranks ** examination_exponent
        clicks = examined & (rng.random(len(docs)) < CLICK_PROBABILITY[queries.true_grades(int(q), docs)])
        for name, values in (("query", np.full(len(docs), q)), ("doc", docs), ("rank", ranks),
                             ("click", clicks.astype(np.int8)), ("randomized", np.full(len(docs), shuffled))):
            cols[name].append(values)
    return ClickLog(*(np.concatenate(cols[k]) for k in ("query", "doc", "rank", "click", "randomized")))


def estimate_propensity(log: ClickLog, depth: int) -> np.ndarray:
    """Examination probability by rank relative to rank 1, from the randomized sessions:
    there relevance is independent of position, so CTR by rank is examination by rank."""
    r = log.randomized
    ctr = np.array([log.click[r & (log.rank == k)].mean() for k in range(1, depth + 1)])
    return ctr / ctr[0]


def click_labels(log: ClickLog, propensity: np.ndarray, corrected: bool) -> dict[tuple[int, int], float]:
    """Per (query, document) shown: CTR (naive), or clicks weighted by 1/propensity of the
    rank they were shown at (inverse-propensity scoring), over impressions."""
    weights = 1.0 / propensity[log.rank - 1] if corrected else np.ones(len(log.rank))
    totals: dict[tuple[int, int], list[float]] = {}
    for q, d, c, w in zip(log.query.tolist(), log.doc.tolist(), log.click.tolist(), weights.tolist()):
        entry = totals.setdefault((q, d), [0.0, 0.0])
        entry[0] += c * w
        entry[1] += 1
    return {key: clicks / shown for key, (clicks, shown) in totals.items()}


def grade_from_click_rate(rate: float) -> int:
    """The grade whose click probability is nearest: a click-derived relevance label."""
    return int(np.argmin(np.abs(CLICK_PROBABILITY - rate)))
