"""Model: BM25, dense (LSA) and hybrid (reciprocal rank fusion) retrieval; LambdaMART
(lightgbm lambdarank) over the features, trained on judged labels, on raw clicks and
on inverse-propensity-weighted clicks; a cross-encoder re-ranking the top results;
one NDCG@10 / MRR table with the oracle as the ceiling."""

from __future__ import annotations

import time

import numpy as np

from mlsd.blocks.uncertainty import bootstrap, mean_of, paired_difference
from mlsd.designs.search_ranking import world
from mlsd.designs.search_ranking.ranking import FEATURES, evaluate, ndcg_at, oracle_ranking
from mlsd.results import StageResult, Table, metric
from mlsd.threads import training_threads


def fit_lambdamart(X: np.ndarray, y: np.ndarray, groups: list[int], n_trees: int, seed: int):
    import lightgbm as lgb

    model = lgb.LGBMRanker(objective="lambdarank", n_estimators=n_trees, learning_rate=0.05, num_leaves=31,
                           min_child_samples=20, subsample=0.8, subsample_freq=1, colsample_bytree=0.9,
                           random_state=seed, n_jobs=training_threads(), verbose=-1)
    model.fit(X, y, group=groups)
    return model


def rank_by(model, X: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = model.predict(X)
    order = np.argsort(-scores, kind="stable")
    return docs[order], scores[order]


def run(ctx) -> StageResult:
    from mlsd.designs.search_ranking.crossencoder import Reranker, train_cross_encoder

    cfg = ctx.config
    queries, split, retrievers, corpus = (ctx.need(k) for k in ("queries", "split", "retrievers", "corpus"))
    shown, naive_labels, ips_labels = ctx.need("shown"), ctx.need("naive_labels"), ctx.need("ips_labels")
    k = cfg.candidates
    candidates, feats = {}, {}
    for q in np.concatenate([split["train"], split["test"]]).tolist():
        candidates[q] = retrievers.hybrid_top(queries.tokens[q], k)
        feats[q] = retrievers.features(queries.tokens[q], candidates[q])
    test = split["test"].tolist()

    rankings = {
        "BM25": {q: retrievers.bm25_top(queries.tokens[q], k) for q in test},
        "dense (LSA, FAISS)": {q: retrievers.dense_top(queries.tokens[q], k) for q in test},
        "hybrid (reciprocal rank fusion)": {q: candidates[q] for q in test},
    }

    def train_on(rows) -> object:
        X = np.vstack([x for x, _ in rows])
        y = np.concatenate([g for _, g in rows])
        return fit_lambdamart(X, y, [len(g) for _, g in rows], cfg.n_trees, ctx.seed)

    started = time.perf_counter()
    judged = train_on([(feats[q], queries.grades(q, candidates[q])) for q in split["train"].tolist()])
    fit_s = time.perf_counter() - started
    rankings["LambdaMART, judged labels"] = {q: rank_by(judged, feats[q], candidates[q])[0] for q in test}
    for name, labels in (("naive clicks", naive_labels), ("clicks / propensity (IPS)", ips_labels)):
        rows = []
        for q, docs in shown.items():
            grades = np.array([world.grade_from_click_rate(labels.get((q, int(d)), 0.0)) for d in docs])
            rows.append((retrievers.features(queries.tokens[q], docs), grades))
        model = train_on(rows)
        rankings[f"LambdaMART, {name}"] = {q: rank_by(model, feats[q], candidates[q])[0] for q in test}

    depth = cfg.rerank_depth
    groups = []
    for q in split["train"].tolist():
        docs, scores = rank_by(judged, feats[q], candidates[q])
        groups.append((queries.tokens[q], docs[:depth], queries.grades(q, docs[:depth]), scores[:depth]))
    ctx.seed_torch()
    encoder = train_cross_encoder(corpus.docs, corpus.vocab_size, groups, pairs=cfg.cross_encoder_pairs,
                                  epochs=cfg.cross_encoder_epochs, rng=ctx.rng, progress=ctx.progress)
    reranker = Reranker(encoder, corpus.docs)
    reranked = {}
    for q in test:
        docs, scores = rank_by(judged, feats[q], candidates[q])
        top = docs[:depth]
        order = np.argsort(-reranker.scores(queries.tokens[q], top, scores[:depth]), kind="stable")
        reranked[q] = np.concatenate([top[order], docs[depth:]])
    rankings[f"+ cross-encoder on the top {depth}"] = reranked
    rankings["oracle: candidates in true order"] = {q: oracle_ranking(queries, q, candidates[q]) for q in test}
    rankings["oracle: every document in true order"] = {q: oracle_ranking(queries, q) for q in test}

    results = {name: evaluate(r, queries) for name, r in rankings.items()}
    rows = [[name, round(n, 4), round(m, 4)] for name, (n, m) in results.items()]
    best, hybrid, bm25 = (results[n] for n in ("LambdaMART, judged labels", "hybrid (reciprocal rank fusion)", "BM25"))
    ceiling = results["oracle: candidates in true order"]
    # How sure the headline is over this few test queries: resampled by query, paired with BM25.
    per_query = {name: mean_of([ndcg_at(rankings[name][q], queries, q) for q in test])
                 for name in ("LambdaMART, judged labels", "BM25")}
    ndcg_interval = bootstrap(per_query["LambdaMART, judged labels"], len(test), ctx.seed)
    ndcg_gap = paired_difference(per_query["LambdaMART, judged labels"], per_query["BM25"], len(test), ctx.seed)
    importance = judged.booster_.feature_importance("gain")
    share = importance / importance.sum()
    return StageResult(
        stage="model",
        headline=f"LambdaMART over {len(FEATURES)} features reaches NDCG@10 {best[0]:.3f} against {hybrid[0]:.3f} for "
                 f"hybrid retrieval and {bm25[0]:.3f} for BM25; IPS-weighted clicks beat raw clicks.",
        metrics=[
            metric("ndcg_at_10", best[0], baseline=bm25[0], oracle=ceiling[0],
                   label="NDCG@10 LambdaMART (baseline: BM25; oracle: its candidates in true order)",
                   **ndcg_interval.fields("ci"), **ndcg_gap.fields("vs_baseline")),
            metric("mrr", best[1], baseline=bm25[1], oracle=ceiling[1], label="MRR LambdaMART"),
        ],
        tables=[
            Table(f"NDCG@10 and MRR on {len(test)} test queries", ["system", "NDCG@10", "MRR"], rows,
                  caption=f"Rankers re-order the hybrid retriever's top {k}; NDCG gains 2^grade - 1, ideal order over "
                          "every judged document. LambdaMART: lightgbm lambdarank, "
                          f"{cfg.n_trees} trees, trained in {fit_s:.1f} s on judged labels."),
            Table("LambdaMART feature importance (gain share)", ["feature", "share"],
                  [[f, round(float(s), 3)] for f, s in sorted(zip(FEATURES, share), key=lambda x: -x[1])]),
        ],
        notes=[
            "BM25 sees the query's words, dense retrieval sees the topic even without them; fusing their "
            "rankings by reciprocal rank needs no score calibration and beats both.",
            "LambdaMART learns how to weigh lexical match, topical match, quality and freshness; the judged "
            "labels say what relevance is, which no single retriever's score can.",
            "Trained on raw clicks the ranker learns what the production ranker showed on top; dividing each "
            "click by the examination probability of its position wins back part of the gap to judged labels "
            "(clicks still only cover the ten results users saw).",
        ],
        artifacts={"lambdamart": judged, "reranker": reranker, "test_rankings": rankings},
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
