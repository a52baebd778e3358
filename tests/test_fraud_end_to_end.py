"""The fraud design at scale tiny, end to end through the real CLI (a subprocess).

Each assertion is a relation only a working implementation satisfies: the model
beats the rules baseline and stays near the oracle, recomputed features match,
latency percentiles are ordered and inside the budget, drift alarms come after the
injected shift and never before, and the exported files reproduce the metrics.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from helpers import run_subprocess
from sklearn.metrics import average_precision_score

METRIC_FIELDS = {"name", "value", "unit", "higher_is_better", "target", "baseline", "oracle", "label", "met",
                 "ci_low", "ci_high", "vs_baseline_low", "vs_baseline_high", "differs_from_baseline", "censored"}


@pytest.fixture(scope="module")
def fraud_run(tiny_runs):
    return tiny_runs("fraud")


def metrics(run, stage):
    found = next(s for s in run["results"]["stages"] if s["stage"] == stage)
    return {m["name"]: m for m in found["result"]["metrics"]}


def table(run, stage, title_start):
    found = next(s for s in run["results"]["stages"] if s["stage"] == stage)
    return next(t for t in found["result"]["tables"] if t["title"].startswith(title_start))


def test_json_has_every_stage_and_complete_metric_records(fraud_run):
    results = fraud_run["results"]
    assert [s["stage"] for s in results["stages"]] == ["problem", "data", "model", "serving", "monitoring"]
    assert results["design"] == "fraud" and results["scale"] == "tiny" and results["seed"] == 0
    assert isinstance(results["run_id"], int) and results["config"]["n_users"] > 0
    for stage in results["stages"]:
        assert stage["duration_s"] > 0
        for m in stage["result"]["metrics"]:
            assert set(m) == METRIC_FIELDS, m
            assert m["value"] is not None


def test_problem_shows_accuracy_is_misleading(fraud_run):
    m = metrics(fraud_run, "problem")
    assert m["accuracy"]["value"] > 0.99 and m["recall_at_threshold"]["value"] == 0.0
    assert 0.002 < m["positive_rate"]["value"] < 0.01  # "about 0.5%"


def test_streaming_features_match_brute_force(fraud_run):
    assert metrics(fraud_run, "data")["feature_consistency_mismatches"]["value"] == 0


def test_model_beats_rules_and_stays_near_the_oracle(fraud_run):
    m = metrics(fraud_run, "model")
    pr = m["pr_auc"]
    assert pr["value"] > 2 * pr["baseline"]
    assert 0.6 * pr["oracle"] < pr["value"] < pr["oracle"] + 0.1  # finite test sets can edge past the oracle
    cost = m["expected_cost"]
    assert cost["oracle"] < cost["value"] < cost["baseline"]
    ll = m["log_loss"]
    assert ll["oracle"] < ll["value"] < ll["baseline"]


def test_serving_latency_is_ordered_against_its_budget(fraud_run):
    m = metrics(fraud_run, "serving")
    p50, p95, p99 = (m[f"latency_p{p}_ms"]["value"] for p in (50, 95, 99))
    assert 0 < p50 <= p95 <= p99
    assert m["latency_p99_ms"]["target"] == 100
    assert m["compute_floor_p50_ms"]["value"] <= p50
    assert m["feature_consistency_mismatches"]["value"] == 0
    assert m["throughput_rps"]["value"] > 0


def test_open_loop_load_is_one_replicas_share_of_the_problem_stages_peak(fraud_run):
    m = metrics(fraud_run, "serving")
    peak = metrics(fraud_run, "problem")["peak_tps"]["value"]
    offered, replicas = m["offered_rps"]["value"], m["replicas_needed"]["value"]
    assert offered * replicas == pytest.approx(peak)
    assert offered <= 0.6 * m["throughput_rps"]["value"]  # planned utilisation, so the queue stays short
    assert m["open_loop_latency_p99_ms"]["target"] == 100
    # Latency from scheduled arrival includes the service time: never below the request's own p50.
    assert m["open_loop_latency_p50_ms"]["value"] >= m["compute_floor_p50_ms"]["value"]


def test_drift_alarms_only_after_the_shift_and_retraining_recovers(fraud_run):
    m = metrics(fraud_run, "monitoring")
    shift_day = m["drift_alarm_day"]["target"]  # the launch day the generator planted
    assert m["drift_alarm_day"]["value"] == shift_day  # first alarm: the same day, never before
    assert m["label_alarm_day"]["value"] > shift_day  # labels confirm it days later
    recovery = m["recovery_pr_auc"]
    assert recovery["baseline"] < recovery["value"] <= recovery["oracle"]


def test_exported_predictions_reproduce_pr_auc(fraud_run):
    path = fraud_run["export"] / "model_test_predictions.csv"
    with path.open() as f:
        rows = list(csv.DictReader(f))
    labels = np.array([int(r["label"]) for r in rows])
    scores = np.array([float(r["champion_score"]) for r in rows])
    oracle = np.array([float(r["oracle_p_true"]) for r in rows])
    m = metrics(fraud_run, "model")
    assert average_precision_score(labels, scores) == pytest.approx(m["pr_auc"]["value"], abs=1e-9)
    assert average_precision_score(labels, oracle) == pytest.approx(m["pr_auc"]["oracle"], abs=1e-9)
    saved = json.loads((fraud_run["export"] / "results.json").read_text())
    assert saved["design"] == "fraud" and len(saved["stages"]) == 5
    assert (fraud_run["export"] / "data_transactions.csv").stat().st_size > 0


def test_compare_latency_reads_the_recorded_run(fraud_run):
    result = run_subprocess(["compare", "latency", "--scale", "tiny", "--json"], fraud_run["home"])
    assert result.code == 0, result.err
    fraud = next(d for d in result.json()["designs"] if d["design"] == "fraud")
    assert fraud["run_id"] == fraud_run["results"]["run_id"]  # read, not rerun
    served = metrics(fraud_run, "serving")
    assert fraud["p99_ms"] == served["latency_p99_ms"]["value"]
    assert fraud["within_budget"] == (fraud["p99_ms"] <= 100)
    assert fraud["headroom"] == pytest.approx(100 / fraud["p99_ms"])


def test_one_stage_runs_its_prerequisites_and_shows_only_itself(cli):
    result = cli("run", "fraud", "--scale", "tiny", "--stage", "data", "--json")
    assert result.code == 0, result.err
    payload = result.json()
    assert [s["stage"] for s in payload["stages"]] == ["data"]


def test_same_seed_gives_the_same_numbers_and_another_seed_does_not():
    from mlsd.registry import get_design
    from mlsd.runner import run_design

    def model_metrics(seed):
        run = run_design(get_design("fraud"), stage="model", scale="tiny", seed=seed)
        return [(m.name, m.value, m.baseline, m.oracle) for m in run.stage("model").metrics]

    first = model_metrics(0)
    assert model_metrics(0) == first
    assert model_metrics(1) != first
