"""Shared pieces in mlsd/: drift statistics, the cost curve, the latency probe,
typed config overrides, charts. Each is checked against an independent computation."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from mlsd.charts import render_chart
from mlsd.config import build_config, parse_assignments
from mlsd.designs.fraud.costs import cost_at, cost_curve
from mlsd.blocks.monitoring.drift import ks, psi, psi_categorical, psi_from_shares
from mlsd.errors import UsageError
from mlsd.blocks.serving.latency import measure_latency, summarize
from mlsd.results import Chart, Series


def test_psi_matches_the_formula_by_hand():
    # Shares 0.5/0.5 against 0.8/0.2: (0.8-0.5)ln(0.8/0.5) + (0.2-0.5)ln(0.2/0.5)
    expected = 0.3 * math.log(1.6) + (-0.3) * math.log(0.4)
    assert psi_from_shares(np.array([0.5, 0.5]), np.array([0.8, 0.2])) == pytest.approx(expected)


def test_psi_of_a_binary_feature_separates_zero_and_one():
    reference = np.r_[np.zeros(980), np.ones(20)]  # 2% ones: every quantile edge is 0
    current = np.r_[np.zeros(800), np.ones(200)]
    expected = (0.2 - 0.02) * math.log(0.2 / 0.02) + (0.8 - 0.98) * math.log(0.8 / 0.98)
    assert psi(reference, current) == pytest.approx(expected)
    assert psi_categorical(reference, current) == pytest.approx(expected)


def test_psi_is_small_for_the_same_distribution_and_large_for_a_shift():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=20000)
    assert psi(reference, rng.normal(size=20000)) < 0.01
    assert psi(reference, rng.normal(1.0, 1.0, size=20000)) > 0.25


def test_ks_detects_a_shift():
    rng = np.random.default_rng(0)
    same_stat, same_p = ks(rng.normal(size=3000), rng.normal(size=3000))
    shift_stat, shift_p = ks(rng.normal(size=3000), rng.normal(0.5, 1, size=3000))
    assert shift_stat > same_stat and shift_p < 1e-6 < same_p


def test_cost_curve_finds_the_brute_force_minimum():
    rng = np.random.default_rng(1)
    y = rng.random(500) < 0.1
    scores = np.round(np.clip(y * 0.3 + rng.random(500) * 0.7, 0, 1), 2)  # ties on purpose
    amount = rng.uniform(5, 500, 500)
    curve = cost_curve(y, scores, fn_cost=amount, fp_cost=10.0)
    brute = min(cost_at(y, scores, t, amount, 10.0) for t in np.r_[np.unique(scores), 2.0])
    assert curve.best_cost == pytest.approx(brute)
    assert cost_at(y, scores, curve.best_threshold, amount, 10.0) == pytest.approx(curve.best_cost)
    for t, c in zip(curve.thresholds[::17], curve.costs[::17]):
        assert c == pytest.approx(cost_at(y, scores, t, amount, 10.0))


def test_summarize_uses_numpy_percentiles():
    samples_ns = np.arange(1, 101) * 1_000_000  # 1..100 ms
    report = summarize(samples_ns, wall_s=2.0)
    assert report.p50_ms == pytest.approx(np.percentile(np.arange(1, 101), 50))
    assert report.p99_ms == pytest.approx(np.percentile(np.arange(1, 101), 99))
    assert report.throughput_rps == pytest.approx(50.0)


def test_latency_probe_times_each_request_after_warm_up():
    calls = []

    def handle(request):
        calls.append(request)
        time.sleep(0.002 if request % 10 == 0 else 0.0005)

    report = measure_latency(handle, range(120), warmup=20)
    assert len(calls) == 120 and report.n == 100
    assert report.p50_ms >= 0.5 and report.p99_ms >= 2.0 >= report.p50_ms
    assert report.p50_ms <= report.p95_ms <= report.p99_ms <= report.max_ms


def test_latency_probe_needs_more_requests_than_warm_up():
    with pytest.raises(ValueError):
        measure_latency(lambda r: r, range(10), warmup=10)


def test_config_overrides_are_typed_and_checked():
    from mlsd.designs.fraud import DESIGN, FraudConfig

    cfg = build_config(FraudConfig, DESIGN.scales["tiny"], parse_assignments(["friction_cost=25", "n_trees=7"]))
    assert cfg.friction_cost == 25.0 and cfg.n_trees == 7 and cfg.n_users == DESIGN.scales["tiny"]["n_users"]
    with pytest.raises(UsageError, match="Valid settings"):
        build_config(FraudConfig, {}, {"nope": "1"})
    with pytest.raises(UsageError, match="expects a number"):
        build_config(FraudConfig, {}, {"friction_cost": "ten"})


def test_chart_draws_every_series_and_skips_missing_points():
    chart = Chart("t", "x", "y", [Series("a", [0, 1, 2], [0, 1, 4]), Series("b", [0, 1, 2], [1, float("nan"), 1])])
    text = render_chart(chart, width=30, height=8).plain
    assert "●" in text and "+" in text and "4" in text
    assert len(text.splitlines()) == 1 + 8 + 3


def test_the_serving_note_names_what_the_timings_show():
    from mlsd.blocks.serving.latency import path_note

    parts = {"feature read and update": 0.02, "model inference": 28.0, "rules and decision": 0.01}
    slow_model = path_note(30.0, 0.11, parts, "model inference")
    assert "model inference (28.000 ms p50)" in slow_model and "the model call is where the time goes" in slow_model
    assert "not feature read and update or rules and decision" in slow_model
    parts["model inference"] = 0.03
    healthy = path_note(0.06, 0.025, parts, "model inference")
    assert "model inference (0.030 ms p50)" in healthy and "contention" not in healthy
    # The largest part is named even when it is not the model.
    parts["feature read and update"] = 5.0
    assert "feature read and update (5.000 ms p50)" in path_note(5.1, 0.025, parts, "model inference")

