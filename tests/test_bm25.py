"""BM25 and TF-IDF: scores against a brute-force oracle and scikit-learn, ranking behaviour, speed."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from mlsd.designs.search_ranking.bm25 import BM25Index, TfidfVectors

VOCAB = 200


def oracle_bm25(docs, query, k1=1.5, b=0.75):
    """Lucene BM25 from raw counts with plain loops, written independently of mlsd.designs.search_ranking.bm25."""
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n
    df = Counter()
    for d in docs:
        for t in set(d):
            df[t] += 1
    out = []
    for d in docs:
        tf = Counter(d)
        total = 0.0
        for t in query:                      # repeated query terms count once per occurrence
            if tf[t] == 0:
                continue
            idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
            total += idf * tf[t] * (k1 + 1) / (tf[t] + k1 * (1 - b + b * len(d) / avgdl))
        out.append(total)
    return np.array(out)


@pytest.fixture(scope="module")
def corpus():
    rng = np.random.default_rng(7)
    docs = [rng.integers(0, VOCAB - 1, size=rng.integers(5, 81)).tolist() for _ in range(300)]
    absent = VOCAB - 1                       # no document holds the last token id
    queries = [rng.integers(0, VOCAB - 1, size=rng.integers(1, 5)).tolist() for _ in range(20)]
    queries += [[3, 3, 17], [absent], [absent, 5, 5, 9], [docs[0][0]] * 4]
    return docs, queries


def test_scores_match_oracle(corpus):
    docs, queries = corpus
    for k1, b in [(1.5, 0.75), (1.2, 0.0), (0.9, 1.0)]:
        index = BM25Index(k1=k1, b=b).fit(docs, VOCAB)
        for q in queries:
            got = index.scores(q)
            assert got.dtype == np.float32 and got.shape == (300,)
            np.testing.assert_allclose(got, oracle_bm25(docs, q, k1, b), rtol=1e-5, atol=1e-6)


def test_top_k_and_score_pairs(corpus):
    docs, queries = corpus
    index = BM25Index().fit(docs, VOCAB)
    rng = np.random.default_rng(1)
    for q in queries:
        expected = oracle_bm25(docs, q)
        order = np.lexsort((np.arange(len(docs)), -expected))   # best first, lower id on ties
        for k in (1, 10, 50, 300, 1000):
            ids, scores = index.top_k(q, k)
            np.testing.assert_array_equal(ids, order[:k])
            np.testing.assert_array_equal(scores, index.scores(q)[ids])
        subset = rng.choice(len(docs), size=40, replace=False)
        np.testing.assert_allclose(index.score_pairs(q, subset), index.scores(q)[subset], rtol=1e-6)
    assert index.n_docs == 300
    assert index.avg_doc_length == pytest.approx(np.mean([len(d) for d in docs]))
    np.testing.assert_array_equal(index.doc_lengths, [len(d) for d in docs])


def test_ties_go_to_lower_doc_id():
    docs = [[1, 2], [0, 2], [0, 2], [3, 4], [0, 2]]
    ids, scores = BM25Index().fit(docs, 5).top_k([0], 2)
    assert ids.tolist() == [1, 2] and scores[0] == scores[1] > 0
    ids, _ = BM25Index().fit(docs, 5).top_k([1], 3)     # zero-score ties, too
    assert ids.tolist() == [0, 1, 2]


def test_ranking_behaviour():
    filler = [[9] * 10 for _ in range(8)]                # keeps the query term's df low
    more_often = BM25Index().fit([[0, 0, 0, 5, 5, 5], [0, 5, 5, 5, 5, 5]] + filler, 10)
    s = more_often.scores([0])
    assert s[0] > s[1] > 0                               # same length, more occurrences

    docs = [[0, 5, 5], [0] + [5] * 20] + filler
    assert BM25Index(b=0.75).fit(docs, 10).scores([0])[0] > BM25Index(b=0.75).fit(docs, 10).scores([0])[1]
    flat = BM25Index(b=0.0).fit(docs, 10).scores([0])
    assert flat[0] == pytest.approx(flat[1])             # b=0: length does not matter

    everywhere = BM25Index().fit([[0, 1], [0, 2], [0, 3], [0, 1, 1]], 4)
    common, rare = everywhere.scores([0]), everywhere.scores([2])
    assert 0 < common.max() < 0.5 * rare.max()          # small but positive Lucene idf

    index = BM25Index().fit(docs, 10)
    assert not index.scores([]).any() and index.scores([]).shape == (10,)
    assert not index.score_pairs([], np.array([0, 1])).any()
    ids, scores = index.top_k([], 3)
    assert ids.tolist() == [0, 1, 2] and not scores.any()
    with pytest.raises(ValueError):
        index.scores([10])


def test_tfidf_cosine_matches_sklearn(corpus):
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs, queries = corpus
    as_text = lambda toks: " ".join(map(str, toks))
    vectorizer = TfidfVectorizer(analyzer=str.split, sublinear_tf=True)
    matrix = vectorizer.fit_transform([as_text(d) for d in docs])
    ours = TfidfVectors().fit(docs, VOCAB)
    rng = np.random.default_rng(2)
    for q in queries:
        subset = rng.choice(len(docs), size=50, replace=False)
        expected = (matrix[subset] @ vectorizer.transform([as_text(q)]).T).toarray().ravel()
        np.testing.assert_allclose(ours.cosine(q, subset), expected, atol=1e-6)
    assert np.allclose(ours.cosine(docs[4], [4]), 1.0)   # a document is its own nearest neighbour


def test_top_k_fills_k_on_a_skewed_corpus():
    """Speed is the benchmark's business (docs/benchmarks.md); here only that every query
    over a Zipf-skewed corpus gets k distinct documents back, best first."""
    rng = np.random.default_rng(0)
    words = rng.zipf(1.3, size=300_000) % 5000          # skewed like real text
    lengths = rng.integers(60, 141, size=2_000)
    docs = np.split(words[:lengths.sum()], np.cumsum(lengths)[:-1])
    queries = [rng.integers(0, 5000, size=rng.integers(1, 6)) for _ in range(50)]
    index = BM25Index().fit(docs, 5000)
    for q in queries:
        ids, scores = index.top_k(q, 1000)
        assert ids.size == 1000 == np.unique(ids).size
        assert np.all(np.diff(scores) <= 0)
