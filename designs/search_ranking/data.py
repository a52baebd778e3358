"""Data: the inverted index, the click log of the production ranker, position bias
measured from randomized sessions, labels from judgements versus from clicks, a click
prior per document from the log, and the features per (query, document) pair."""

from __future__ import annotations

import numpy as np

from mlsd.designs.search_ranking import world
from mlsd.designs.search_ranking.features import FEATURES, ClickPrior, Features
from mlsd.results import Chart, Series, StageResult, Table, metric


def run(ctx) -> StageResult:
    cfg = ctx.config
    corpus, queries, split, retrievers = (ctx.need(k) for k in ("corpus", "queries", "split", "retrievers"))
    counts = ctx.need("counts")

    # The production ranker (BM25) shows each training query's top results; users click.
    shown = {int(q): retrievers.bm25_top(queries.tokens[q], cfg.shown) for q in split["train"]}
    log = world.simulate_clicks(queries, shown, cfg.sessions, cfg.randomize_share, cfg.examination_exponent, ctx.rng)
    propensity = world.estimate_propensity(log, cfg.shown)
    truth = 1.0 / np.arange(1, cfg.shown + 1) ** cfg.examination_exponent
    naive = world.click_labels(log, propensity, corrected=False)
    ips = world.click_labels(log, propensity, corrected=True)
    pairs = list(naive)
    true_grades = np.array([queries.grades(q, np.array([d]))[0] for q, d in pairs])
    naive_rate = np.array([naive[p] for p in pairs])
    ips_rate = np.array([ips[p] for p in pairs])
    features = Features(retrievers, ClickPrior.from_log(log, propensity, corpus.n_docs))
    first_rank = {}
    for q, d, r in zip(log.query.tolist(), log.doc.tolist(), log.rank.tolist()):
        first_rank.setdefault((q, d), r)

    def agreement(rates: np.ndarray) -> float:
        """Share of pairs whose click-derived grade equals the judged grade."""
        return float(np.mean([world.grade_from_click_rate(x) == g for x, g in zip(rates, true_grades)]))

    by_rank = [[r, f"{truth[r - 1]:.3f}", f"{propensity[r - 1]:.3f}",
                f"{log.click[(log.rank == r) & ~log.randomized].mean():.3f}"] for r in range(1, cfg.shown + 1)]
    postings = counts.nnz
    sample_q = split["train"][:50]
    feature_rows = []
    cand = {int(q): retrievers.hybrid_top(queries.tokens[q], cfg.candidates) for q in sample_q}
    X = np.vstack([features.rows(queries.tokens[q], cand[q], q) for q in cand])
    g = np.concatenate([queries.grades(q, cand[q]) for q in cand])
    for j, name in enumerate(FEATURES):
        feature_rows.append([name] + [round(float(X[g == k, j].mean()), 3) if (g == k).any() else "" for k in range(4)])

    return StageResult(
        stage="data",
        headline=f"Inverted index of {postings:,} postings; {len(log.click):,} impressions from {cfg.sessions:,} "
                 f"sessions; position bias measured from {cfg.randomize_share:.0%} randomized sessions.",
        metrics=[
            metric("rows", len(log.click), label="impressions in the click log"),
            metric("click_label_agreement", agreement(ips_rate), baseline=agreement(naive_rate),
                   label="click-derived grade = judged grade (IPS-corrected; baseline: raw CTR)"),
        ],
        tables=[
            Table("Inverted index", ["quantity", "value"], [
                ["terms with postings", int((np.diff(counts.indptr) > 0).sum())],
                ["postings (document, term) pairs", f"{postings:,}"],
                ["mean document length", f"{retrievers.bm25.avg_doc_length:.1f} words"],
                ["BM25 parameters", "Lucene variant, k1 = 1.5, b = 0.75"],
            ]),
            Table("Position bias: examination by rank", ["rank", "true 1/rank", "estimated (randomized)",
                                                          "CTR in normal sessions"], by_rank,
                  caption="Estimated from sessions whose results were shuffled: there, relevance does not depend "
                          "on position, so CTR by rank measures examination. Normal CTR mixes both."),
            Table("Labels: judgements versus clicks", ["source", "agrees with judged grade", "pairs"], [
                ["raw click-through rate", f"{agreement(naive_rate):.1%}", len(pairs)],
                ["clicks / propensity (IPS)", f"{agreement(ips_rate):.1%}", len(pairs)],
            ], caption="Clicks exist only for shown results (the top 10 of the production ranker): judged labels "
                       "cover any candidate, clicks only what users saw."),
            Table("Features by judged grade (means over 50 training queries' candidates)",
                  ["feature", "grade 0", "grade 1", "grade 2", "grade 3"], feature_rows),
        ],
        charts=[Chart("Examination probability by rank", "rank", "P(examine)", [
            Series("true", list(range(1, cfg.shown + 1)), truth.tolist()),
            Series("estimated", list(range(1, cfg.shown + 1)), propensity.tolist())])],
        notes=[
            "A result at rank 1 is clicked more because it is seen more, not only because it is better: "
            "training on raw clicks teaches the ranker to copy the production ranker.",
            "Result randomization costs some users a worse page; interleaving-style swaps of adjacent results or "
            "an EM click model over normal logs estimate the same propensities more cheaply.",
            "Features are what a real engine observes: text-match scores, a link prior (quality plus noise), the "
            "document's propensity-corrected click rate in this log (shrunk toward the mean; a training query's own "
            "sessions left out, as a new query has none), its age and length. The generator's quality and "
            "freshness term stay hidden.",
        ],
        artifacts={"click_log": log, "propensity": propensity, "shown": shown, "first_rank": first_rank,
                   "naive_labels": naive, "ips_labels": ips, "features": features},
        exports={"clicks": {"query": log.query, "doc": log.doc, "rank": log.rank, "click": log.click,
                            "randomized": log.randomized.astype(np.int8)}},
    )
