"""The speech design at scale tiny, end to end through the real CLI.

Relations only a working implementation satisfies: the Conformer-CTC model's WER is
far below both baselines; the champion is the variant with the lower validation WER;
LM fusion lowers WER, by more than resampling explains; test speakers and sentences
are held out; streaming WER is reported beside full-context WER with latency inside
the budget; the checks find what was planted; the noise shift is flagged on its day
and fine-tuning recovers; diarization beats one-speaker-for-everything; the exports
reproduce the WERs.
"""

from __future__ import annotations

import csv

import jiwer
import pytest
from helpers import stage_metrics, stage_table


@pytest.fixture(scope="module")
def speech(tiny_runs):
    return tiny_runs("speech")


def test_wer_is_far_below_the_frame_classifier(speech):
    wer = stage_metrics(speech["results"], "model")["wer"]  # clean test, shipped system; baseline: frame classifier
    assert wer["value"] < wer["baseline"] / 2 and wer["vs_baseline_high"] < 0
    assert wer["ci_low"] <= wer["value"] <= wer["ci_high"]
    assert stage_metrics(speech["results"], "problem")["baseline_wer"]["baseline"] == 1.0  # the empty transcript


def test_the_champion_has_the_lower_validation_wer(speech):
    rows = stage_table(speech["results"], "model", "Acoustic model variants")["rows"]
    champion = [row for row in rows if row[0].endswith("(champion)")]
    assert len(champion) == 1 and champion[0][1] == min(row[1] for row in rows)


def test_lm_fusion_lowers_wer_beyond_resampling(speech):
    m = stage_metrics(speech["results"], "model")
    assert m["wer_noisy_lm"]["value"] < m["wer_noisy"]["value"]
    assert m["wer_noisy_lm"]["baseline"] == m["wer_noisy"]["value"]
    gains = {row[0]: row for row in stage_table(speech["results"], "model", "LM gain on test")["rows"]}
    assert gains["test"][2] < gains["test"][1]  # with the LM below without, on clean audio too


def test_test_speakers_and_sentences_are_held_out(speech):
    leakage = stage_metrics(speech["results"], "data")["leakage_share"]
    assert leakage["value"] == 0 and leakage["baseline"] >= 0
    split = {row[0]: row[1] for row in stage_table(speech["results"], "data", "Split")["rows"]}
    assert split["voices shared between training and validation or test"] == 0


def test_checks_find_what_was_planted(speech):
    for check, _, found, planted in stage_table(speech["results"], "data", "Data checks")["rows"]:
        assert found == planted > 0, check


def test_streaming_is_reported_beside_full_context_against_the_budget(speech):
    m = stage_metrics(speech["results"], "serving")
    wer = m["streaming_wer"]  # baseline: the same model with full context
    assert wer["baseline"] is not None and wer["value"] >= wer["baseline"]
    assert m["latency_p99_ms"]["target"] == 300 and m["rtf"]["target"] == 1.0
    # The first partial waits for a chunk and its look-ahead: audio time, a floor no machine beats.
    assert m["latency_p99_ms"]["value"] >= 160 + 100
    assert m["rtf"]["value"] > 0 and m["batching_speedup"]["value"] > 0


def test_noise_shift_is_caught_on_its_day_and_fine_tuning_recovers(speech):
    m = stage_metrics(speech["results"], "monitoring")
    shift = m["drift_alarm_day"]["target"]  # the day the noisier device arrives
    assert m["confidence_alarm_day"]["value"] == shift and m["drift_alarm_day"]["value"] == shift
    wer = m["recovery_wer"]  # a labelled sample after fine-tuning; baseline: the shifted days before it
    assert wer["value"] < wer["baseline"]


def test_diarization_beats_one_speaker(speech):
    der = stage_metrics(speech["results"], "monitoring")["der"]
    assert der["value"] < der["baseline"] / 2


def test_exported_transcripts_reproduce_the_wer(speech):
    reported = stage_metrics(speech["results"], "model")
    for name, column, figure in (("test_transcripts", "beam_lm", "wer"),
                                 ("noisy_test_transcripts", "beam_no_lm", "wer_noisy"),
                                 ("noisy_test_transcripts", "beam_lm", "wer_noisy_lm")):
        with open(speech["export"] / f"model_{name}.csv") as f:
            rows = list(csv.DictReader(f))
        refs = [r["reference"] for r in rows]
        assert jiwer.wer(refs, [r[column] or "" for r in rows]) == pytest.approx(reported[figure]["value"], abs=1e-9)
