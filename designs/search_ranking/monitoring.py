"""Monitoring: half-way through the monitored days a launch adds documents on topics
the engine has never indexed, and users start asking about them. Detect the query
drift without labels (PSI of each query's distance to the known kinds of query), watch
NDCG on a judged sample and click-through at rank 1, re-index and retrain. Then test
two ranking changes online, to show when team-draft interleaving reaches a verdict
with far fewer queries than an A/B test of click-through (a change below the top
result) and when it does not (a change at the top)."""

from __future__ import annotations

import numpy as np

from mlsd.designs.search_ranking import world
from mlsd.designs.search_ranking.features import Features
from mlsd.designs.search_ranking.ranking import Retrievers, ndcg_at
from mlsd.blocks.monitoring.drift import PSI_ALARM, psi
from mlsd.designs.search_ranking.interleaving import (credit, median_verdict, sequential_ab_test,
                                                     sequential_sign_test, team_draft)
from mlsd.results import Chart, Series, StageResult, Table, metric

NEW_TOPIC_SHARE = 0.3       # of queries after the launch
QUERY_CLUSTERS = 10
REPLICATIONS = 5
NDCG_ALARM_SHARE = 0.9      # alarm when the judged sample's NDCG falls below 90% of its trailing level
BASELINE_DAYS = 3           # the trailing window of judged days that level is the mean of


class Ranker:
    """Hybrid retrieval + LambdaMART: the production ranker, rebuilt on re-index."""

    def __init__(self, features: Features, model, k: int) -> None:
        self.features, self.model, self.k = features, model, k

    def rank(self, query: np.ndarray) -> np.ndarray:
        docs = self.features.retrievers.hybrid_top(query, self.k)
        scores = self.model.predict(self.features.rows(query, docs), num_threads=1)  # one request, one thread
        return docs[np.argsort(-scores, kind="stable")]


def clicks_on(ranking: np.ndarray, queries: world.Queries, q: int, exponent: float, rng) -> np.ndarray:
    """Positions (0-based) a simulated user clicks on the top 10 of a ranking."""
    top = ranking[:10]
    ranks = np.arange(1, len(top) + 1)
    examined = rng.random(len(top)) < 1.0 / ranks ** exponent
    return np.flatnonzero(examined & (rng.random(len(top)) < world.CLICK_PROBABILITY[queries.true_grades(q, top)]))


def run(ctx) -> StageResult:
    from sklearn.cluster import KMeans

    from mlsd.designs.search_ranking.lambdamart import fit_on

    cfg, rng = ctx.config, ctx.rng
    corpus, queries, split = ctx.need("corpus"), ctx.need("queries"), ctx.need("split")
    retrievers, model, features = ctx.need("retrievers"), ctx.need("lambdamart"), ctx.need("features")
    topic_words = ctx.need("topic_words")
    old_topics = np.arange(cfg.n_topics - cfg.new_topics)
    new_topics = np.arange(cfg.n_topics - cfg.new_topics, cfg.n_topics)

    # The launch: documents on new topics join the corpus, but the indexing pipeline was
    # not extended to the new source: production keeps serving from the old index.
    launched = world.make_corpus(cfg.new_docs, topic_words, cfg.vocab_size, rng, topics=new_topics,
                                 link_noise=cfg.link_noise)
    merged = world.Corpus(corpus.docs + launched.docs, np.vstack([corpus.topic_mix, launched.topic_mix]),
                          np.concatenate([corpus.quality, launched.quality]),
                          np.concatenate([corpus.age_days, launched.age_days * 0.05]),  # new: fresh
                          np.concatenate([corpus.link_prior, launched.link_prior]), topic_words, cfg.vocab_size)
    counts = world.count_matrix(merged)
    production = Ranker(features, model, cfg.candidates)  # serving from the stale index

    train_vectors = np.stack([retrievers.query_vector(queries.tokens[q]) for q in split["train"]])
    clusters = KMeans(QUERY_CLUSTERS, n_init=3, random_state=ctx.seed).fit(train_vectors)
    centroids = clusters.cluster_centers_ / np.linalg.norm(clusters.cluster_centers_, axis=1, keepdims=True)
    reference_novelty = 1 - (train_vectors @ centroids.T).max(axis=1)
    shift_day = cfg.monitor_days // 2 + 1
    rows, drift_day, label_day, deploy_day, pre_launch_ndcg = [], None, None, None, []
    judged_ndcg: dict[int, float] = {}  # day -> judged-sample NDCG@10
    trailing: list[float] = []  # judged NDCG of the current ranker's days: the alarm's baseline
    daily_psi: list[float] = []
    judged_since_drift: list[tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]] = []
    false_alarms = quiet_days = 0  # scored against the truth afterwards; no alarm reads it
    series = {"NDCG@10 (judged)": [], "PSI x10": [], "CTR@1": []}
    retrained = None
    for day in range(1, cfg.monitor_days + 1):
        if day == deploy_day:
            production, trailing = retrained, []  # a new ranker starts a new baseline
        share = NEW_TOPIC_SHARE if day >= shift_day else 0.0
        n_new = int(round(share * cfg.queries_per_day))
        today = world.make_queries(cfg.queries_per_day - n_new, merged, rng, old_topics, counts, cfg.judge_noise)
        if n_new:
            today = today + world.make_queries(n_new, merged, rng, new_topics, counts, cfg.judge_noise)
        day_vectors = np.stack([retrievers.query_vector(t) for t in today.tokens])
        novelty = 1 - (day_vectors @ centroids.T).max(axis=1)  # how unlike any known kind of query
        day_psi = psi(reference_novelty, novelty)
        judged = rng.choice(len(today.tokens), cfg.judged_per_day, replace=False)
        rankings = {int(q): production.rank(today.tokens[q]) for q in judged}
        day_ndcg = float(np.mean([ndcg_at(r, today, q) for q, r in rankings.items()]))
        ctr1 = float(np.mean([0 in clicks_on(r, today, q, cfg.examination_exponent, rng) for q, r in rankings.items()]))
        # Alarms read only what a team has: today's queries, the judged sample, the trailing days.
        drift_alarm = day_psi > PSI_ALARM
        ndcg_alarm = (len(trailing) >= BASELINE_DAYS
                      and day_ndcg < NDCG_ALARM_SHARE * float(np.mean(trailing[-BASELINE_DAYS:])))
        if drift_day is None and drift_alarm:
            drift_day = day
        if drift_day is not None:  # after a drift alarm the judged sample is kept for retraining (pooled)
            judged_since_drift += [(today.tokens[q], today.judged[q]) for q in judged]
        if label_day is None and ndcg_alarm:
            label_day, deploy_day = day, day + 1
            pool = judged_since_drift or [(today.tokens[q], today.judged[q]) for q in judged]
            retrained = retrain(merged, queries, split, pool, features, cfg, ctx.seed, fit_on)
        trailing.append(day_ndcg)
        if day < shift_day:  # scoring the alarms afterwards: days the generator made without an incident
            pre_launch_ndcg.append(day_ndcg)
            quiet_days += 1
            false_alarms += int(drift_alarm or ndcg_alarm)
        judged_ndcg[day] = day_ndcg
        daily_psi.append(day_psi)
        rows.append([day, f"{share:.0%}", round(day_psi, 3), round(day_ndcg, 4), round(ctr1, 3),
                     "retrained" if production is retrained else "original"])
        series["NDCG@10 (judged)"].append(day_ndcg)
        series["PSI x10"].append(min(10 * day_psi, 1.0))
        series["CTR@1"].append(ctr1)

    verdict_rows, medians = interleaving_experiment(ctx.need("test_rankings"), queries, cfg, rng)
    (il_median, il_censored), (ab_median, ab_censored) = list(medians.values())[-1]
    after = [v for day, v in judged_ndcg.items() if deploy_day and day >= deploy_day]
    before = [v for day, v in judged_ndcg.items() if day >= shift_day and (deploy_day is None or day < deploy_day)]
    return StageResult(
        stage="monitoring",
        headline=f"New topics from day {shift_day}: query-novelty PSI flagged day {drift_day}, judged NDCG confirmed "
                 f"day {label_day}; re-indexed and retrained from day {deploy_day}. For a change below the top result, "
                 f"interleaving reached a verdict in a median {_count(il_median, il_censored)} queries, the A/B test "
                 f"of click-through in {_count(ab_median, ab_censored)} per arm.",
        metrics=[
            metric("drift_alarm_day", drift_day or cfg.monitor_days, target=shift_day, censored=drift_day is None,
                   label="query drift alarm (day; '> last day' if it never fired)"),
            metric("label_alarm_day", label_day or cfg.monitor_days, censored=label_day is None,
                   label="judged NDCG alarm (day; '> last day' if it never fired)"),
            metric("psi_max", max(daily_psi), label="largest daily query-novelty PSI"),
            metric("false_alarm_rate", false_alarms / quiet_days,
                   label=f"days without an incident on which an alarm fired ({false_alarms} of {quiet_days})"),
            metric("ndcg_at_10", float(np.mean(after)) if after else float("nan"),
                   baseline=float(np.mean(before)) if before else None,
                   label="judged NDCG@10 after retraining (baseline: before it)"),
            metric("pre_incident_level", float(np.mean(pre_launch_ndcg)), label="judged NDCG@10 before the launch"),
            metric("interleaving_queries", il_median, censored=il_censored,
                   label="queries interleaving needed, change below the top (median; '>' if it never decided)"),
            metric("ab_test_queries", ab_median, censored=ab_censored,
                   label="queries per arm the A/B test needed, same change (median; '>' if it never decided)"),
        ],
        tables=[
            Table("Day by day", ["day", "new-topic queries", "query PSI", "NDCG@10 (judged sample)", "CTR@1",
                                 "ranker"], rows,
                  caption=f"Query PSI: of each query's distance to the nearest of {QUERY_CLUSTERS} k-means "
                          f"centroids of the training queries' embeddings, against training; alarm above {PSI_ALARM}. NDCG on {cfg.judged_per_day} judged queries a day; alarm below "
                          f"{NDCG_ALARM_SHARE:.0%} of the mean of the ranker's previous {BASELINE_DAYS} days. CTR@1 from "
                          "simulated clicks."),
            Table("Two candidate changes tested online (A is the first named)",
                  ["change", "replication", "team-draft interleaving", "A/B test, queries per arm"], verdict_rows,
                  caption=f"Judged test queries, the logs' click model, up to {cfg.interleaving_budget:,} queries. "
                          "Interleaving: sign test on per-query wins. A/B: share of queries with any click, "
                          "two-proportion z-test. Both checked every 50 queries, alpha 0.05 split over the looks."),
        ],
        charts=[Chart("Signals by day", "day", "value",
                      [Series(name, list(range(1, cfg.monitor_days + 1)), v) for name, v in series.items()])],
        notes=[
            "The query mix shifts before any label exists: how far each query lies from every kind of query seen "
            "in training (its distance to the nearest cluster centroid) moves on the launch day, and its PSI "
            "flags it.",
            "The new documents never reached the index: for the new topics every relevant document is "
            "missing, so no ranker can put it on top. The day's judged sample and CTR@1 show it the same day. "
            "The fix is "
            "re-indexing (BM25, TF-IDF and the LSA embedding refitted on the whole corpus) and retraining "
            "LambdaMART with judged queries of the new topics.",
            "Interleaving shows both rankers' results to the same user for the same query and credits whichever "
            "gets the clicks, at every position. The A/B outcome, whether a query got any click, hinges on the "
            "first result: when two rankers differ there too, both tests decide about as fast here; when the "
            "change is below the top, interleaving decides and the A/B test barely moves. Simulated users are "
            "all alike, which flatters the A/B test; real users differ, and its variance grows.",
        ],
    )


def retrain(corpus, queries, split, judged_new, features: Features, cfg, seed: int, fit) -> Ranker:
    """Re-index the whole corpus (BM25, TF-IDF, LSA), recompute features, retrain
    LambdaMART on the original training queries plus the queries judged since the drift
    alarm (whatever their topic: nobody labels a query's topic). The launched documents
    have no click history yet."""
    retrievers = Retrievers.fit(corpus, cfg.dense_dim, seed)
    fresh = Features(retrievers, features.clicks.padded(corpus.n_docs))
    rows = []
    for q in split["train"].tolist():
        docs = retrievers.hybrid_top(queries.tokens[q], cfg.candidates)
        rows.append((fresh.rows(queries.tokens[q], docs, q), queries.grades(q, docs)))
    for tokens, (ids, grades) in judged_new:
        docs = retrievers.hybrid_top(tokens, cfg.candidates)
        lookup = dict(zip(ids.tolist(), grades.tolist()))
        rows.append((fresh.rows(tokens, docs), np.array([lookup.get(int(d), 0) for d in docs])))
    return Ranker(fresh, fit(rows, cfg.n_trees, seed), cfg.candidates)


def below_the_top(primary: np.ndarray, other: np.ndarray) -> np.ndarray:
    """`primary`'s first result, then `other`'s order for the rest: a change users only
    see if they look past the first result (diversity, freshness boosts, new features)."""
    return np.concatenate([primary[:1], other[other != primary[0]]])


def interleaving_experiment(rankings: dict, queries: world.Queries, cfg, rng) -> tuple[list, dict]:
    """Online comparisons on the judged test queries, each replicated (one simulated
    experiment is one draw): a change everywhere, and a change below the top result."""
    judged = rankings["LambdaMART, judged labels"]
    pairs = {
        "IPS-click ranker vs raw-click ranker": (rankings["LambdaMART, clicks / propensity (IPS)"],
                                                 rankings["LambdaMART, naive clicks"]),
        "judged ranker vs the same first result, then the raw-click order": (
            judged, {q: below_the_top(judged[q], r) for q, r in rankings["LambdaMART, naive clicks"].items()}),
    }
    rows, medians = [], {}
    for change, (a, b) in pairs.items():
        pool = np.array(sorted(a))
        il_verdicts, ab_verdicts = [], []
        for replication in range(1, REPLICATIONS + 1):
            picks = rng.choice(pool, cfg.interleaving_budget)
            outcomes, any_a, any_b = [], [], []
            for i, q in enumerate(picks.tolist()):
                merged, teams = team_draft(a[q], b[q], 10, rng)
                outcomes.append(credit(teams, clicks_on(np.array(merged), queries, q, cfg.examination_exponent, rng)))
                arm, sink = (a, any_a) if i % 2 == 0 else (b, any_b)
                sink.append(int(len(clicks_on(arm[q], queries, q, cfg.examination_exponent, rng)) > 0))
            il, ab = sequential_sign_test(outcomes), sequential_ab_test(any_a, any_b)
            il_verdicts.append(il)
            ab_verdicts.append(ab)
            rows.append([change if replication == 1 else "", replication, _verdict(il), _verdict(ab)])
        medians[change] = (median_verdict(il_verdicts), median_verdict(ab_verdicts))
    return rows, medians


def _count(queries: float, censored: bool) -> str:
    return f"{'> ' if censored else ''}{queries:,.0f}"


def _verdict(v) -> str:
    return f"{v.winner} after {v.queries:,} (p {v.p_value:.1g})" if v.significant else f"none in {v.queries:,}"
