"""Problem: rank documents for a query, judged by NDCG@10 and MRR; the 200 ms budget
across retrieval, ranking and re-ranking; corpus and traffic; BM25 as the baseline.
Generates the world the later stages use."""

from __future__ import annotations

import numpy as np

from mlsd.designs.search_ranking import world
from mlsd.results import StageResult, Table, metric

# The plan the serving stage measures against: component -> milliseconds.
BUDGET_PLAN_MS = {"network": 30.0, "retrieve": 40.0, "rank": 50.0, "rerank": 50.0, "rest": 30.0}


def budget_rows(cfg) -> list[list]:
    """The plan as a table, with the depths this configuration runs."""
    names = {"network": "network, query parsing, spelling",
             "retrieve": f"retrieval: BM25 + dense, fused top {cfg.candidates}",
             "rank": f"features + LambdaMART over the {cfg.candidates}",
             "rerank": f"cross-encoder, top {cfg.rerank_depth} -> 10 (if it earns its place)",
             "rest": "snippets, logging, headroom"}
    return [[names[k], ms] for k, ms in BUDGET_PLAN_MS.items()] + [["total", sum(BUDGET_PLAN_MS.values())]]


def run(ctx) -> StageResult:
    from mlsd.designs.search_ranking.ranking import Retrievers, evaluate, oracle_ranking

    cfg = ctx.config
    rng = ctx.rng
    topic_words = world.make_topics(cfg.n_topics, cfg.vocab_size, rng)
    old_topics = np.arange(cfg.n_topics - cfg.new_topics)
    corpus = world.make_corpus(cfg.n_docs, topic_words, cfg.vocab_size, rng, topics=old_topics,
                               link_noise=cfg.link_noise)
    counts = world.count_matrix(corpus)
    n_queries = cfg.train_queries + cfg.val_queries + cfg.test_queries
    queries = world.make_queries(n_queries, corpus, rng, old_topics, counts, judge_noise=cfg.judge_noise)
    split = {"train": np.arange(cfg.train_queries),
             "val": np.arange(cfg.train_queries, cfg.train_queries + cfg.val_queries),
             "test": np.arange(cfg.train_queries + cfg.val_queries, n_queries)}
    retrievers = Retrievers.fit(corpus, cfg.dense_dim, ctx.seed)
    test = split["test"]
    bm25 = {q: retrievers.bm25_top(queries.tokens[q], cfg.candidates) for q in test}
    ndcg, mrr = evaluate(bm25, queries)
    ideal = {q: oracle_ranking(queries, q) for q in test}
    ideal_ndcg, ideal_mrr = evaluate(ideal, queries)
    grades = np.array([[np.sum(g == k) for k in (1, 2, 3)] for _, g in (queries.judged[q] for q in test)])
    recall = np.mean([np.isin(queries.judged[q][0][queries.judged[q][1] >= 2], bm25[q]).mean() for q in test])
    example_q = int(test[0])
    top = bm25[example_q][:5]
    example_rows = [[i + 1, int(d), int(g)] for i, (d, g) in enumerate(zip(top, queries.grades(example_q, top)))]
    accuracy_like = float(np.mean([np.mean(queries.grades(q, bm25[q][:10]) > 0) for q in test]))
    judge_agreement = _judge_agreement(queries, test)

    return StageResult(
        stage="problem",
        headline=f"Rank {cfg.n_docs:,} documents for each query within 200 ms; judge the top 10 by NDCG@10 and MRR. "
                 f"BM25 alone: NDCG@10 {ndcg:.3f}.",
        metrics=[
            metric("rows", cfg.n_docs, label="documents"),
            metric("ndcg_at_10", ndcg, oracle=ideal_ndcg,
                   label="NDCG@10 of BM25 (oracle: every document by the generator's utility)"),
            metric("mrr", mrr, oracle=ideal_mrr, label="MRR of BM25 (first document of grade 2+)"),
            metric("candidate_recall", float(recall),
                   label=f"share of grade 2+ documents in BM25's top {cfg.candidates}"),
            metric("peak_qps", cfg.production_qps, label="peak queries per second (assumed traffic)"),
        ],
        tables=[
            Table("What is generated", ["quantity", "value"], [
                ["documents", f"{cfg.n_docs:,}, {cfg.n_topics - cfg.new_topics} topics mixed, "
                              f"{np.mean([len(d) for d in corpus.docs]):.0f} words on average"],
                ["vocabulary", f"{cfg.vocab_size:,} word ids; the first tenth common to all topics"],
                ["queries", f"{cfg.train_queries} train / {cfg.val_queries} validation / {cfg.test_queries} test, "
                            "2-3 words of one topic"],
                ["judged relevance per test query (grade 1 / 2 / 3)",
                 " / ".join(f"{x:.0f}" for x in grades.mean(axis=0))],
                ["judges", f"utility + noise of sd {cfg.judge_noise}, cut into grades: the judged grade equals the "
                           f"noiseless one for {judge_agreement:.0%} of the documents either calls relevant"],
                ["held back for monitoring", f"{cfg.new_topics} topics that no document or log covers yet"],
            ]),
            Table(f"BM25's top 5 for one test query ({len(queries.tokens[example_q])} words)",
                  ["rank", "document", "judged grade"], example_rows),
            Table("Latency budget allocation (plan; serving measures it)", ["component", "budget ms"],
                  budget_rows(cfg)),
            Table("Capacity estimate", ["quantity", "value"], [
                ["corpus", f"{cfg.n_docs:,} documents here; production indexes are sharded by document"],
                ["traffic", f"{cfg.production_qps:,.0f} queries/s at peak (assumed)"],
                ["per query", f"{cfg.candidates} candidates retrieved and ranked, the top {cfg.rerank_depth} "
                              "re-ranked if the re-ranker ships"],
                ["replicas", "serving stage: peak QPS / measured queries per second per worker"],
            ]),
        ],
        notes=[
            "NDCG@10 rewards putting the most relevant documents first, with graded gains (2^grade - 1) "
            "discounted by log2(rank + 1) and normalised by the best possible order, so it is comparable "
            "across queries. MRR asks only where the first good result is: what a navigational query needs.",
            f"'Share of the top 10 that is relevant at all' is {accuracy_like:.0%} for BM25: a flat precision "
            "hides whether the best documents are on top, which is what users feel.",
            f"The oracle orders every document by the generator's hidden utility, the best order in expectation: "
            f"NDCG@10 {ideal_ndcg:.3f}, not 1, because the judges who grade the test are noisy. "
            "Retrieval caps what any ranker after it can reach.",
        ],
        artifacts={"corpus": corpus, "counts": counts, "queries": queries, "split": split, "retrievers": retrievers,
                   "topic_words": topic_words},
    )


def _judge_agreement(queries, chosen) -> float:
    """Share of documents judged relevant or truly relevant whose judged grade equals the
    grade without judge noise: the judges' reliability."""
    same = total = 0
    for q in chosen.tolist():
        docs = np.union1d(queries.judged[q][0], queries.truth[q][0][queries.true_grades(q, queries.truth[q][0]) > 0])
        same += int(np.sum(queries.grades(q, docs) == queries.true_grades(q, docs)))
        total += len(docs)
    return same / max(total, 1)
