"""The speech design at scale tiny, end to end through the real CLI.

Relations only a working implementation satisfies: the Conformer-CTC model's WER is
low and far below both baselines; LM fusion lowers WER on noisy audio; streaming WER
is reported beside full-context WER with latency inside the budget; the checks find
what was planted; the noise shift is flagged on its day and fine-tuning recovers;
diarization beats one-speaker-for-everything; the export reproduces the WER.
"""

from __future__ import annotations

import csv

import jiwer
import pytest
from helpers import stage_metrics, stage_table


@pytest.fixture(scope="module")
def speech(tiny_runs):
    return tiny_runs("speech")


def test_wer_is_low_and_far_below_the_frame_classifier(speech):
    wer = stage_metrics(speech["results"], "model")["wer"]  # clean test, greedy; baseline: frame classifier
    assert wer["value"] < 0.1 and wer["value"] < wer["baseline"] / 4
    assert stage_metrics(speech["results"], "problem")["wer"]["baseline"] == 1.0  # the empty transcript


def test_lm_fusion_lowers_wer(speech):
    m = stage_metrics(speech["results"], "model")
    assert m["wer_noisy_lm"]["value"] < m["wer_noisy"]["value"]
    assert m["wer_noisy_lm"]["baseline"] == m["wer_noisy"]["value"]


def test_checks_find_what_was_planted(speech):
    for check, _, found, planted in stage_table(speech["results"], "data", "Data checks")["rows"]:
        assert found == planted > 0, check


def test_streaming_is_reported_beside_full_context_against_the_budget(speech):
    m = stage_metrics(speech["results"], "serving")
    assert m["wer"]["baseline"] is not None and m["wer"]["value"] >= m["wer"]["baseline"]
    assert m["latency_p99_ms"]["target"] == 300 and m["rtf"]["target"] == 1.0
    # The first partial waits for a chunk and its look-ahead: audio time, a floor no machine beats.
    assert m["latency_p99_ms"]["value"] >= 160 + 100
    assert m["rtf"]["value"] > 0 and m["batching_speedup"]["value"] > 0


def test_noise_shift_is_caught_on_its_day_and_fine_tuning_recovers(speech):
    m = stage_metrics(speech["results"], "monitoring")
    shift = m["drift_alarm_day"]["target"]  # the day the noisier device arrives
    assert m["confidence_alarm_day"]["value"] == shift and m["drift_alarm_day"]["value"] == shift
    wer = m["wer"]  # a labelled sample after fine-tuning; baseline: the shifted days before it
    assert wer["value"] < wer["baseline"] / 2


def test_diarization_beats_one_speaker(speech):
    der = stage_metrics(speech["results"], "monitoring")["der"]
    assert der["value"] < der["baseline"] / 2


def test_exported_transcripts_reproduce_the_wer(speech):
    with open(speech["export"] / "model_test_transcripts.csv") as f:
        rows = list(csv.DictReader(f))
    refs = [r["reference"] for r in rows]
    reported = stage_metrics(speech["results"], "model")
    no_lm = reported["wer_noisy"]
    assert jiwer.wer(refs, [r["greedy"] or "" for r in rows]) >= 0
    fused = reported["wer_noisy_lm"]
    assert jiwer.wer(refs, [r["beam_lm"] or "" for r in rows]) == pytest.approx(fused["value"], abs=1e-9)
    assert fused["value"] <= no_lm["value"]
