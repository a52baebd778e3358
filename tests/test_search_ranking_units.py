"""Search-ranking pieces on their own: NDCG against scikit-learn, reciprocal rank
fusion, MRR, the click model's propensity estimate and click labels, the click prior
(left out for a query's own sessions), out-of-fold scores, judge noise and the oracle,
the cascade's ship rule and the cache's repeat rate."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import ndcg_score

from mlsd.designs.search_ranking import world
from mlsd.designs.search_ranking.cascade import check_stage
from mlsd.designs.search_ranking.features import PRIOR_IMPRESSIONS, ClickPrior
from mlsd.designs.search_ranking.lambdamart import OUT_OF_FOLD_SPLITS, out_of_fold_scores
from mlsd.designs.search_ranking.ranking import dcg, judged_order, ndcg_at, oracle_ranking, reciprocal_rank, rrf
from mlsd.designs.search_ranking.serving import lru_hit_rate, repeat_rate


def queries_with(judged: dict[int, int], utility: dict[int, float] | None = None) -> world.Queries:
    ids = np.array(sorted(judged))
    utility = utility or {d: world.GRADE_CUTS[g - 1] + 0.01 for d, g in judged.items()}
    on_topic = np.array(sorted(utility))
    return world.Queries([np.array([1, 2])], np.array([0]), [(ids, np.array([judged[i] for i in ids]))],
                         [(on_topic, np.array([utility[d] for d in on_topic]))])


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
    queries = world.make_queries(30, corpus, rng, np.arange(8), counts, judge_noise=0.0)
    for q in range(30):
        ids, grades = queries.judged[q]
        assert (corpus.topic_mix[ids, queries.topic[q]] > 0).all()  # only documents on the topic are relevant
        assert (queries.true_grades(q, ids) == grades).all()  # without judge noise, judged = true grade
    high = np.concatenate([corpus.quality[ids[g == 3]] for ids, g in queries.judged])
    low = np.concatenate([corpus.quality[ids[g == 1]] for ids, g in queries.judged])
    assert high.mean() > low.mean()
    # the link prior is an observable, noisy proxy of quality: correlated, never equal
    assert 0.5 < np.corrcoef(corpus.link_prior, corpus.quality)[0, 1] < 0.99


def test_judge_noise_flips_grades_near_the_cuts_only_and_the_oracle_reads_utility():
    rng = np.random.default_rng(3)
    topics = world.make_topics(8, 600, rng)
    corpus = world.make_corpus(800, topics, 600, rng)
    counts = world.count_matrix(corpus)
    queries = world.make_queries(30, corpus, rng, np.arange(8), counts, judge_noise=0.05)
    flipped = far = far_flipped = 0
    for q in range(30):
        ids, utility = queries.truth[q]
        judged, true = queries.grades(q, ids), queries.true_grades(q, ids)
        flipped += int(np.sum(judged != true))
        distance = np.min(np.abs(utility[:, None] - np.array(world.GRADE_CUTS)[None]), axis=1)
        far += int(np.sum(distance > 0.25))
        far_flipped += int(np.sum((judged != true) & (distance > 0.25)))  # five noise sds from every cut
        oracle = oracle_ranking(queries, q)
        assert (np.diff(queries.utility(q, oracle)) <= 0).all()  # by utility, not by the noisy judged grade
    assert flipped > 0 and far > 100 and far_flipped == 0


def test_judged_order_is_the_label_ceiling_and_can_differ_from_the_utility_oracle():
    q = queries_with({1: 1, 2: 3}, {1: 0.5, 2: 0.4, 3: 0.1})  # judges over-graded 2 and under-graded 1
    assert list(oracle_ranking(q, 0)) == [1, 2, 3]
    assert list(judged_order(q, 0, np.array([1, 2, 3]))) == [2, 1, 3]
    assert ndcg_at(judged_order(q, 0, np.array([1, 2, 3])), q, 0) == 1.0 > ndcg_at(oracle_ranking(q, 0), q, 0)


def test_click_prior_is_shrunk_corrected_and_leaves_a_query_out_of_its_own_prior():
    log = world.ClickLog(query=np.array([0, 0, 1, 1, 1]), doc=np.array([3, 4, 3, 3, 4]),
                         rank=np.array([1, 2, 1, 2, 1]), click=np.array([1, 1, 0, 1, 0]),
                         randomized=np.zeros(5, dtype=bool))
    propensity = np.array([1.0, 0.5])
    prior = ClickPrior.from_log(log, propensity, n_docs=6)
    weighted = log.click / propensity[log.rank - 1]  # independent recomputation: 1, 2, 0, 2, 0
    mean = weighted.mean()

    def shrunk(clicks, shown):
        return (clicks + PRIOR_IMPRESSIONS * mean) / (shown + PRIOR_IMPRESSIONS)

    assert np.allclose(prior.of(np.array([3, 4, 5])), [shrunk(1 + 0 + 2, 3), shrunk(2 + 0, 2), mean])
    assert np.allclose(prior.of(np.array([3, 4]), query_id=0), [shrunk(0 + 2, 2), shrunk(0, 1)])
    assert np.allclose(prior.of(np.array([3]), query_id=1), [shrunk(1, 1)])
    assert np.allclose(prior.of(np.array([3]), query_id=7), prior.of(np.array([3])))  # never logged
    assert np.allclose(prior.padded(8).of(np.array([7])), [mean])  # a new document has no history


def test_out_of_fold_scores_never_come_from_a_model_that_saw_the_query():
    rng = np.random.default_rng(4)
    rows = []
    for _ in range(30):
        x = rng.normal(size=(20, 3)).astype(np.float32)
        rows.append((x, (x[:, 0] > 0.5).astype(int) + (x[:, 0] > 1.2)))
    scores = out_of_fold_scores(rows, n_trees=20, seed=0)
    assert [len(s) for s in scores] == [20] * 30
    # a query's score changes when its own grades do only through other folds: flip one
    # query's grades and its own out-of-fold scores stay exactly the same
    flipped = list(rows)
    flipped[0] = (rows[0][0], 2 - rows[0][1])
    again = out_of_fold_scores(flipped, n_trees=20, seed=0)
    assert np.array_equal(scores[0], again[0])
    assert any(not np.array_equal(a, b) for a, b in zip(scores[1:], again[1:]))
    assert OUT_OF_FOLD_SPLITS >= 2


def test_a_stage_ships_only_when_its_validation_gain_is_significant():
    q = queries_with({1: 3, 2: 2})
    queries = world.Queries(q.tokens * 40, np.zeros(40, dtype=int), q.judged * 40, q.truth * 40)
    good, bad = {i: np.array([1, 2, 3]) for i in range(40)}, {i: np.array([3, 2, 1]) for i in range(40)}
    val, test = list(range(20)), list(range(20, 40))
    assert check_stage("better", bad, good, val, test, queries, 0).shipped
    assert not check_stage("worse", good, bad, val, test, queries, 0).shipped
    same = check_stage("no change", good, good, val, test, queries, 0)
    assert not same.shipped and same.validation_gain == 0 and same.worse_on == 0


def test_repeat_rate_caps_every_cache():
    stream = np.array([1, 2, 1, 3, 1, 2])
    assert repeat_rate(stream) == 0.5  # the 3rd, 5th and 6th requests repeat an earlier one
    assert lru_hit_rate(stream, 100) == repeat_rate(stream)  # an unbounded cache reaches the ceiling
    assert lru_hit_rate(stream, 1) < repeat_rate(stream)
