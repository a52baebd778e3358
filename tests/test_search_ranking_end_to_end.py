"""The search-ranking design at scale tiny, end to end through the real CLI.

Relations only a working implementation satisfies: hybrid retrieval above both of its
parts, LambdaMART above hybrid, IPS-weighted clicks above raw clicks, every ranker
below the oracle and the oracle below the judged-label ceiling (judges are noisy);
position bias estimated close to the truth; a cascade stage shipped exactly when its
validation gain is significant, and serving runs only the shipped stages; the cascade
inside its budget; the cache below its repeat rate; drift flagged on the launch day and
never before; retraining recovers; a test that never decided reported as censored; the
exported TREC-style runs and qrels reproduce the NDCG table.
"""

from __future__ import annotations

import csv
from collections import defaultdict

import numpy as np
import pytest
from helpers import stage_metrics, stage_table


@pytest.fixture(scope="module")
def search(tiny_runs):
    return tiny_runs("search-ranking")


def metrics(run, name):
    return stage_metrics(run["results"], name)


def table(run, name, title_start):
    return stage_table(run["results"], name, title_start)


def ndcg_table(run):
    return {r[0]: (r[1], r[2]) for r in table(run, "model", "NDCG@10 and MRR")["rows"]}


def test_the_ndcg_table_orders_the_systems(search):
    t = ndcg_table(search)
    bm25, dense, hybrid = t["BM25"][0], t["dense (LSA, FAISS)"][0], t["hybrid (reciprocal rank fusion)"][0]
    judged = t["LambdaMART, judged labels"][0]
    naive, ips = t["LambdaMART, naive clicks"][0], t["LambdaMART, clicks / propensity (IPS)"][0]
    assert hybrid > max(bm25, dense)
    assert judged > hybrid + 0.1
    assert ips > naive + 0.03
    oracle = t["oracle: candidates by true utility"][0]
    rankers = [v for name, (v, _) in t.items() if not name.startswith(("oracle", "ceiling"))]
    assert max(rankers) < oracle
    # the judges are noisy: even the generator's best order falls short of sorting by the labels
    assert oracle < t["ceiling: candidates by their judged grades"][0] <= 1.0
    assert t["oracle: every document by true utility"][0] < 1.0
    m = metrics(search, "model")["ndcg_at_10"]
    assert m["baseline"] == pytest.approx(t["BM25"][0], abs=1e-4) and m["oracle"] == pytest.approx(oracle, abs=1e-4)


def test_each_cascade_stage_ships_only_if_it_helps_on_validation_and_serving_runs_what_shipped(search):
    checks = table(search, "model", "Does each stage earn its place?")
    col = {name: i for i, name in enumerate(checks["columns"])}
    decisions = {}
    for row in checks["rows"]:
        assert row[col["decision"]] == ("shipped" if row[col["val low"]] > 0 else "dropped"), row
        assert row[col["val low"]] <= row[col["val gain"]] <= row[col["val high"]]
        decisions[row[0]] = row[col["decision"]]
    assert decisions["LambdaMART"] == "shipped"
    served = table(search, "serving", "Latency per cascade stage")["rows"]
    stages = [r[0] for r in served if not r[0].startswith(("end to end", "compute floor"))]
    assert len(stages) == 2 + (decisions["cross-encoder"] == "shipped")
    t = ndcg_table(search)
    shipped = "LambdaMART, judged labels" if decisions["cross-encoder"] == "dropped" else next(
        n for n in t if n.startswith("+ cross-encoder"))
    assert metrics(search, "model")["ndcg_at_10"]["value"] == pytest.approx(t[shipped][0], abs=1e-4)


def test_position_bias_is_estimated_from_randomized_sessions(search):
    rows = table(search, "data", "Position bias")["rows"]
    for rank, truth, estimated, _ in rows[:5]:
        assert abs(float(estimated) - float(truth)) < 0.1, rank
    labels = metrics(search, "data")["click_label_agreement"]
    assert labels["value"] > labels["baseline"]  # IPS labels agree with judgements more than raw CTR


def test_the_cascade_is_timed_against_its_budget_and_each_cut_is_measured(search):
    m = metrics(search, "serving")
    p50, p95, p99 = (m[f"latency_p{p}_ms"]["value"] for p in (50, 95, 99))
    assert 0 < p50 <= p95 <= p99 and m["latency_p99_ms"]["target"] == 200
    cuts = table(search, "serving", "Latency per cascade stage")
    ndcg = cuts["columns"].index("NDCG@10 of its top 10")
    assert cuts["rows"][1][ndcg] > cuts["rows"][0][ndcg]  # LambdaMART's top 10 beats the retrieval cut's
    served = m["ndcg_at_10"]  # the last shipped cut, against the cut before it, with its paired interval
    assert served["vs_baseline_low"] <= served["value"] - served["baseline"] <= served["vs_baseline_high"]
    assert 0 < m["cache_hit_rate"]["value"] <= m["cache_repeat_rate"]["value"] < 1
    skew = table(search, "serving", "Cache hit rate by query skew")["rows"]
    assert all(0 < hit <= repeats for _, _, repeats, hit in skew)
    hit_rates = [r[-1] for r in sorted(skew)]
    assert hit_rates == sorted(hit_rates)  # a more skewed stream repeats more, and the cache hits more


def test_drift_is_caught_at_the_launch_and_retraining_recovers(search):
    m = metrics(search, "monitoring")
    launch = m["drift_alarm_day"]["target"]  # the day new-topic queries start
    assert m["drift_alarm_day"]["value"] == launch
    assert launch <= m["label_alarm_day"]["value"] <= launch + 1
    recovered = m["ndcg_at_10"]
    assert recovered["value"] > recovered["baseline"] + 0.1
    interleaving, ab = m["interleaving_queries"], m["ab_test_queries"]
    assert not interleaving["censored"] and interleaving["value"] < ab["value"]
    if ab["censored"]:  # never decided: the value is the budget per arm, a limit, not a measurement
        assert ab["value"] == search["results"]["config"]["interleaving_budget"] // 2


def test_exported_runs_and_qrels_reproduce_the_table(search):
    qrels: dict[int, dict[int, int]] = defaultdict(dict)
    with open(search["export"] / "model_qrels.csv") as f:
        for row in csv.DictReader(f):
            qrels[int(row["query"])][int(row["doc"])] = int(row["grade"])
    runs: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    with open(search["export"] / "model_runs.csv") as f:
        for row in csv.DictReader(f):
            runs[row["system"]][int(row["query"])].append(int(row["doc"]))

    def ndcg(ranked, judged):
        gains = [2 ** judged.get(d, 0) - 1 for d in ranked[:10]]
        ideal = sorted((2 ** g - 1 for g in judged.values()), reverse=True)[:10]
        discount = 1 / np.log2(np.arange(2, 12))
        return float(np.dot(gains, discount[:len(gains)]) / np.dot(ideal, discount[:len(ideal)]))

    for system, (reported, _) in ndcg_table(search).items():
        if system in runs:
            mine = np.mean([ndcg(ranked, qrels[q]) for q, ranked in runs[system].items()])
            assert mine == pytest.approx(reported, abs=1e-3), system
