"""Search-ranking pieces on their own: NDCG against scikit-learn, reciprocal rank
fusion, MRR, the click model's propensity estimate and click labels."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import ndcg_score

from mlsd.designs.search_ranking import world
from mlsd.designs.search_ranking.ranking import dcg, ndcg_at, reciprocal_rank, rrf


def queries_with(judged: dict[int, int]) -> world.Queries:
    ids = np.array(sorted(judged))
    return world.Queries([np.array([1, 2])], np.array([0]), [(ids, np.array([judged[i] for i in ids]))])


def test_ndcg_matches_scikit_learn_with_exponential_gains():
    rng = np.random.default_rng(0)
    for _ in range(20):
        grades = rng.integers(0, 4, 30)
        scores = rng.normal(size=30)
        judged = {i: int(g) for i, g in enumerate(grades) if g > 0}
        if not judged:
            continue
        ranked = np.argsort(-scores, kind="stable")
        mine = ndcg_at(ranked, queries_with(judged), 0, k=10)
        theirs = ndcg_score([2.0 ** grades - 1], [scores], k=10)
        assert abs(mine - theirs) < 1e-9


def test_ndcg_counts_relevant_documents_retrieval_missed():
    q = queries_with({1: 3, 2: 3, 3: 1})
    assert ndcg_at(np.array([1, 2, 3]), q, 0) == 1.0
    assert ndcg_at(np.array([1, 3]), q, 0) < 1.0  # document 2 was never retrieved
    assert dcg(np.array([3, 0]), 10) == 7.0


def test_reciprocal_rank_of_the_first_good_result():
    q = queries_with({5: 1, 7: 2})
    assert reciprocal_rank(np.array([5, 9, 7]), q, 0) == 1 / 3
    assert reciprocal_rank(np.array([5, 9]), q, 0) == 0.0


def test_rrf_rewards_agreement_and_needs_no_calibration():
    fused = rrf([np.array([1, 2, 3]), np.array([3, 1, 4])])
    assert fused[0] == 1 and fused[1] == 3  # near the top in both lists beats first in one
    assert set(fused) == {1, 2, 3, 4}


def test_propensity_is_recovered_and_ips_labels_undo_position_bias():
    rng = np.random.default_rng(1)
    docs = np.arange(10)
    judged = {int(d): 2 for d in docs}  # every result equally relevant: only position differs
    queries = queries_with(judged)
    log = world.simulate_clicks(queries, {0: docs}, 20000, 0.5, 1.0, rng)
    propensity = world.estimate_propensity(log, 10)
    assert np.allclose(propensity, 1 / np.arange(1, 11), atol=0.05)
    naive = world.click_labels(log, propensity, corrected=False)
    ips = world.click_labels(log, propensity, corrected=True)
    assert naive[(0, 0)] > 3 * naive[(0, 9)]  # raw CTR: the top result looks far better
    assert abs(ips[(0, 0)] - ips[(0, 9)]) < 0.15  # corrected: about equal, as they truly are
    assert world.grade_from_click_rate(ips[(0, 5)]) == 2


def test_relevance_depends_on_topic_words_and_quality():
    rng = np.random.default_rng(2)
    topics = world.make_topics(8, 600, rng)
    corpus = world.make_corpus(800, topics, 600, rng)
    counts = world.count_matrix(corpus)
    queries = world.make_queries(30, corpus, rng, np.arange(8), counts)
    for q in range(30):
        ids, grades = queries.judged[q]
        assert (corpus.topic_mix[ids, queries.topic[q]] > 0).all()  # only documents on the topic are relevant
    high = np.concatenate([corpus.quality[ids[g == 3]] for ids, g in queries.judged])
    low = np.concatenate([corpus.quality[ids[g == 1]] for ids, g in queries.judged])
    assert high.mean() > low.mean()
