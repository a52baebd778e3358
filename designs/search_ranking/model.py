"""Model: BM25, dense (LSA) and hybrid (reciprocal rank fusion) retrieval; LambdaMART
(lightgbm lambdarank) over observable features at the depth it serves, trained on
judged labels, on raw clicks and on inverse-propensity-weighted clicks; a cross-encoder
re-ranking LambdaMART's head, trained on out-of-fold LambdaMART scores; each stage kept
only if it beats the one before it on validation; one NDCG@10 / MRR table with the
oracles as the ceiling."""

from __future__ import annotations

import time

import numpy as np

from mlsd.blocks.uncertainty import bootstrap, mean_of, paired_difference
from mlsd.designs.search_ranking import world
from mlsd.designs.search_ranking.cascade import check_stage
from mlsd.designs.search_ranking.features import FEATURES
from mlsd.designs.search_ranking.lambdamart import OUT_OF_FOLD_SPLITS, fit_on, out_of_fold_scores, scores_per_query
from mlsd.designs.search_ranking.ranking import (evaluate, judged_order, ndcg_at, oracle_ranking,
                                                 reciprocal_rank)
from mlsd.results import StageResult, Table, metric

DEPTHS_COMPARED = (100, 1000)  # beside the configured depth: shallower and deeper retrieval cuts
UNSHOWN_NEGATIVES = 10  # per training query: candidates users never saw, added to its clicks as grade 0


def ordered(docs: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-scores, kind="stable")
    return docs[order], scores[order]


def run(ctx) -> StageResult:
    from mlsd.designs.search_ranking.crossencoder import Reranker, rerank_head, train_cross_encoder
    from mlsd.threads import single_threaded

    cfg = ctx.config
    queries, split, retrievers, corpus = (ctx.need(k) for k in ("queries", "split", "retrievers", "corpus"))
    features, shown = ctx.need("features"), ctx.need("shown")
    k, depth = cfg.candidates, cfg.rerank_depth
    train, val, test = (split[s].tolist() for s in ("train", "val", "test"))
    held_out = val + test
    with single_threaded():  # per-query retrieval and features run one thread, as serving runs them
        candidates = {q: retrievers.hybrid_top(queries.tokens[q], k) for q in train + held_out}
        rows = {q: features.rows(queries.tokens[q], candidates[q], q) for q in candidates}

    rankings = {
        "BM25": {q: retrievers.bm25_top(queries.tokens[q], k) for q in test},
        "dense (LSA, FAISS)": {q: retrievers.dense_top(queries.tokens[q], k) for q in test},
        "hybrid (reciprocal rank fusion)": {q: candidates[q] for q in test},
    }
    judged_rows = [(rows[q], queries.grades(q, candidates[q])) for q in train]
    started = time.perf_counter()
    lambdamart = fit_on(judged_rows, cfg.n_trees, ctx.seed)
    fit_s = time.perf_counter() - started
    ranked = {q: ordered(candidates[q], s)
              for q, s in zip(held_out, scores_per_query(lambdamart, [rows[q] for q in held_out]))}
    rankings["LambdaMART, judged labels"] = {q: ranked[q][0] for q in test}
    never_shown = {q: np.setdiff1d(candidates[q], docs) for q, docs in shown.items()}
    unshown = {q: ctx.rng.choice(pool, min(UNSHOWN_NEGATIVES, len(pool)), replace=False)
               for q, pool in never_shown.items()}
    for name, key in (("naive clicks", "naive_labels"), ("clicks / propensity (IPS)", "ips_labels")):
        click_rows = [click_training_rows(features, queries.tokens[q], q, docs, unshown[q], ctx.need(key))
                      for q, docs in shown.items()]
        model = fit_on(click_rows, cfg.n_trees, ctx.seed)
        rankings[f"LambdaMART, {name}"] = {q: ordered(candidates[q], s)[0] for q, s in
                                           zip(test, scores_per_query(model, [rows[q] for q in test]))}

    # The cross-encoder learns from scores like those it will see: out-of-fold, not in-sample.
    groups = []
    for q, scores in zip(train, out_of_fold_scores(judged_rows, cfg.n_trees, ctx.seed)):
        docs, prior = ordered(candidates[q], scores)
        groups.append((queries.tokens[q], docs[:depth], queries.grades(q, docs[:depth]), prior[:depth]))
    ctx.seed_torch()
    encoder = train_cross_encoder(corpus.docs, corpus.vocab_size, groups, pairs=cfg.cross_encoder_pairs,
                                  epochs=cfg.cross_encoder_epochs, rng=ctx.rng, progress=ctx.progress)
    reranker = Reranker(encoder, corpus.docs)
    reranked = {q: rerank_head(reranker, queries.tokens[q], *ranked[q], depth) for q in held_out}
    rankings[f"+ cross-encoder on the top {depth}"] = {q: reranked[q] for q in test}
    hybrid = {q: candidates[q] for q in held_out}
    lambdamart_order = {q: ranked[q][0] for q in held_out}
    checks = [check_stage("LambdaMART", hybrid, lambdamart_order, val, test, queries, ctx.seed),
              check_stage("cross-encoder", lambdamart_order, reranked, val, test, queries, ctx.seed)]
    cross_encoder_ships = checks[1].shipped
    shipped_name = f"+ cross-encoder on the top {depth}" if cross_encoder_ships else "LambdaMART, judged labels"
    shipped_label = f"LambdaMART + cross-encoder on the top {depth}" if cross_encoder_ships else "LambdaMART"

    rankings["oracle: candidates by true utility"] = {q: oracle_ranking(queries, q, candidates[q]) for q in test}
    rankings["oracle: every document by true utility"] = {q: oracle_ranking(queries, q) for q in test}
    rankings["ceiling: candidates by their judged grades"] = {q: judged_order(queries, q, candidates[q]) for q in test}
    depth_rows = depth_comparison(retrievers, features, lambdamart, queries, val, {q: ranked[q][0] for q in val}, k)

    results = {name: evaluate(r, queries) for name, r in rankings.items()}
    rows_table = [[name, round(n, 4), round(m, 4)] for name, (n, m) in results.items()]
    best, lambdamart_result, hybrid_result, bm25 = (results[n] for n in (
        shipped_name, "LambdaMART, judged labels", "hybrid (reciprocal rank fusion)", "BM25"))
    ips_wins = results["LambdaMART, clicks / propensity (IPS)"][0] > results["LambdaMART, naive clicks"][0]
    oracle = results["oracle: candidates by true utility"]
    # How sure the headline is over this few test queries: resampled by query, paired with BM25.
    per_query = {name: (mean_of([ndcg_at(rankings[name][q], queries, q) for q in test]),
                        mean_of([reciprocal_rank(rankings[name][q], queries, q) for q in test]))
                 for name in (shipped_name, "BM25")}
    intervals = [(bootstrap(per_query[shipped_name][i], len(test), ctx.seed),
                  paired_difference(per_query[shipped_name][i], per_query["BM25"][i], len(test), ctx.seed))
                 for i in (0, 1)]
    importance = lambdamart.booster_.feature_importance("gain")
    share = importance / importance.sum()
    return StageResult(
        stage="model",
        headline=f"LambdaMART over {len(FEATURES)} observable features reaches NDCG@10 {lambdamart_result[0]:.3f} "
                 f"against {hybrid_result[0]:.3f} for hybrid retrieval and {bm25[0]:.3f} for BM25; the cross-encoder "
                 f"{'ships' if cross_encoder_ships else 'is dropped'} on validation; IPS-weighted clicks "
                 f"{'beat' if ips_wins else 'do not beat'} raw clicks.",
        metrics=[
            metric("ndcg_at_10", best[0], baseline=bm25[0], oracle=oracle[0],
                   label=f"NDCG@10 of the shipped ranker, {shipped_label} (baseline: BM25; "
                         "oracle: its candidates by true utility)",
                   **intervals[0][0].fields("ci"), **intervals[0][1].fields("vs_baseline")),
            metric("mrr", best[1], baseline=bm25[1], oracle=oracle[1], label="MRR of the shipped ranker",
                   **intervals[1][0].fields("ci"), **intervals[1][1].fields("vs_baseline")),
        ],
        tables=[
            Table(f"NDCG@10 and MRR on {len(test)} test queries", ["system", "NDCG@10", "MRR"], rows_table,
                  caption=f"Rankers re-order the hybrid retriever's top {k}; NDCG gains 2^grade - 1 with judged "
                          "grades, ideal order over every judged document. LambdaMART: lightgbm lambdarank, "
                          f"{cfg.n_trees} trees, trained in {fit_s:.1f} s on judged labels. Oracles order by the "
                          "generator's utility (the best order in expectation: judges add noise no ranker can "
                          "predict); the ceiling sorts by the test labels themselves."),
            Table("Does each stage earn its place? NDCG@10 gain over the stage before it",
                  ["stage", "val gain", "val low", "val high", "decision", "test gain", "test low", "test high",
                   "test worse"],
                  [[c.stage, *_gain(c.validation_gain, c.validation_interval), "shipped" if c.shipped else "dropped",
                    *_gain(c.test_gain, c.test_interval), f"{c.worse_on} of {c.test_queries}"] for c in checks],
                  caption=f"LambdaMART re-orders the hybrid top {k}, the cross-encoder LambdaMART's top {depth}. "
                          f"Low, high: the 95% paired bootstrap interval. A stage ships only if its interval on the "
                          f"{len(val)} validation queries lies above 0; 'test worse': test queries whose NDCG@10 it "
                          f"lowered. The cross-encoder learns from out-of-fold LambdaMART scores ({OUT_OF_FOLD_SPLITS} "
                          "folds over the training queries), the kind of scores it is served."),
            Table(f"How deep LambdaMART ranks ({len(val)} validation queries)",
                  ["hybrid top", "NDCG@10 of LambdaMART (trained on the top " + str(k) + ")",
                   "oracle: candidates by true utility"], depth_rows,
                  caption=f"LambdaMART is trained on the depth it serves ({k}); deeper retrieval adds little to the "
                          "ceiling and costs ranking time in proportion."),
            Table("LambdaMART feature importance (gain share)", ["feature", "share"],
                  [[f, round(float(s), 3)] for f, s in sorted(zip(FEATURES, share), key=lambda x: -x[1])]),
        ],
        notes=[
            "BM25 sees the query's words, dense retrieval sees the topic even without them; fusing their "
            "rankings by reciprocal rank needs no score calibration and beats both.",
            "LambdaMART learns how to weigh lexical match, topical match and noisy signals of quality (a link "
            "prior, the documents' click history) and age; the judged labels say what relevance is, which no "
            "single retriever's score can. Quality itself is hidden, so the ranker stays below the oracle.",
            "Trained on raw clicks the ranker learns what the production ranker showed on top; dividing each "
            "click by the examination probability of its position wins back part of the gap to judged labels "
            "(clicks still only cover the ten results users saw).",
        ],
        artifacts={"lambdamart": lambdamart, "reranker": reranker, "cross_encoder_ships": cross_encoder_ships,
                   "test_rankings": rankings, "stage_checks": checks},
        exports={"runs": {
            "system": np.array([n for n, r in rankings.items() for q in test for _ in r[q][:10]]),
            "query": np.array([q for r in rankings.values() for q in test for _ in r[q][:10]]),
            "rank": np.array([i + 1 for r in rankings.values() for q in test for i in range(len(r[q][:10]))]),
            "doc": np.array([int(d) for r in rankings.values() for q in test for d in r[q][:10]]),
        }, "qrels": {
            "query": np.array([q for q in test for _ in queries.judged[q][0]]),
            "doc": np.concatenate([queries.judged[q][0] for q in test]),
            "grade": np.concatenate([queries.judged[q][1] for q in test]),
        }},
    )


def click_training_rows(features, tokens: np.ndarray, q: int, shown: np.ndarray, unshown: np.ndarray,
                        labels: dict) -> tuple[np.ndarray, np.ndarray]:
    """A query's shown results graded by their click rate, plus candidates never shown as
    grade 0: without them a ranker trained on clicks never meets a poor candidate, since
    users only saw the production ranker's top results (some unshown ones are relevant:
    the selection bias clicks cannot remove)."""
    grades = [world.grade_from_click_rate(labels.get((q, int(d)), 0.0)) for d in shown]
    docs = np.concatenate([shown, unshown])
    return features.rows(tokens, docs, q), np.array(grades + [0] * len(unshown))


def depth_comparison(retrievers, features, lambdamart, queries, val: list[int], served: dict[int, np.ndarray],
                     trained_depth: int) -> list[list]:
    """Validation NDCG@10 of LambdaMART and of the utility oracle over shallower and deeper
    hybrid cuts than the one it is trained on and serves (`served`: its ranking there)."""
    from mlsd.threads import single_threaded

    table = []
    for cut in sorted({d for d in (*DEPTHS_COMPARED, trained_depth) if d <= retrievers.corpus.n_docs}):
        if cut == trained_depth:
            ranked = served
        else:
            with single_threaded():
                docs = {q: retrievers.hybrid_top(queries.tokens[q], cut) for q in val}
                rows = [features.rows(queries.tokens[q], docs[q], q) for q in val]
            ranked = {q: ordered(docs[q], s)[0] for q, s in zip(val, scores_per_query(lambdamart, rows))}
        table.append([cut if cut != trained_depth else f"{cut} (trained and served)",
                      round(evaluate(ranked, queries)[0], 4),
                      round(evaluate({q: oracle_ranking(queries, q, ranked[q]) for q in val}, queries)[0], 4)])
    return table


def _gain(mean: float, interval) -> list[float]:
    return [round(mean, 4), round(interval.low, 4), round(interval.high, 4)]
