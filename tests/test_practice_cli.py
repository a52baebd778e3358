"""`mlsd practice` and `mlsd progress` through the real command line, with answers
from a YAML file (the terminal is tested in test_practice_terminal.py)."""

from __future__ import annotations

import csv
import json

import pytest
import yaml
from sample_answers import STRONG_PROBLEM, WEAK_DATA

from mlsd import walkthrough_reader

FRAUD = walkthrough_reader.load("fraud")


def write_answers(tmp_path, answers: dict, name: str = "answers.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(answers))
    return str(path)


@pytest.fixture
def full_answers(tmp_path):
    answers = {"problem": STRONG_PROBLEM, "data": WEAK_DATA,
               "model": FRAUD.stages["model"].answer, "serving": FRAUD.stages["serving"].answer,
               "monitoring": "", "followups": ["I am not sure.", FRAUD.stages["problem"].followups[0].answer]}
    return write_answers(tmp_path, answers)


def test_practice_from_a_file_scores_every_stage_and_records_it(cli, full_answers):
    result = cli("practice", "fraud", "--answers", full_answers, "--json", "--no-run")
    assert result.code == 0, result.err
    report = result.json()
    stages = report["stages"]
    assert list(stages) == ["problem", "data", "model", "serving", "monitoring"]
    assert stages["problem"]["score"] >= 80 and stages["model"]["score"] >= 80
    # the weak data answer earns little of its own; what it gets beyond that comes from
    # points the other stages' answers explained, and the report says where
    assert stages["data"]["score"] <= 40 and stages["data"]["score"] + 40 <= stages["model"]["score"]
    assert all(c.get("found_in") for c in stages["data"]["covered"] if c["credit"] > 0.2)
    assert stages["monitoring"]["skipped"] and stages["monitoring"]["score"] == 0
    for entry in stages.values():
        assert 0 <= entry["score"] <= 100
        assert all(m["why"] for m in entry["missed"])
        assert all(c["evidence"] for c in entry["covered"])
    assert len(report["followups"]) == 2  # the file answered two of the three chosen
    # follow-ups go to the weakest stages first: monitoring (skipped, 0), then data
    assert [f["stage"] for f in report["followups"]] == ["monitoring", "data"]
    assert report["status"] == "finished" and 0 < report["overall"] < 100
    assert "mlsd learn fraud --stage monitoring" in report["read_next"]

    progress = cli("progress", "--json").json()
    fraud = next(d for d in progress["designs"] if d["design"] == "fraud")
    assert fraud["sessions"] == 1 and fraud["last"] == fraud["best"] == report["overall"]
    assert fraud["weakest_stage"] == "monitoring"
    assert progress["missed_concepts"]
    assert progress["next"]["design"] == "captioning"  # never practised, first in learning order


def test_practice_shows_scores_reference_and_final_screen(cli, full_answers):
    result = cli("practice", "fraud", "--answers", full_answers, "--no-run")
    assert result.code == 0, result.err
    for text in ("Your answer · ", "Reference answer", "✓", "✗", "Final score", "Overall",
                 "mlsd learn fraud --stage monitoring"):
        assert text in result.out


def test_practice_runs_the_stage_and_reports_its_real_numbers(cli, tmp_path):
    answers = write_answers(tmp_path, {"serving": FRAUD.stages["serving"].answer})
    result = cli("practice", "fraud", "--stage", "serving", "--answers", answers, "--json", "--scale", "tiny")
    assert result.code == 0, result.err
    report = result.json()
    assert list(report["stages"]) == ["serving"] and report["followups"] == []
    serving = report["run"]["stages"]["serving"]
    p99 = next(m for m in serving["metrics"] if m["name"] == "latency_p99_ms")
    assert 0 < p99["value"] < p99["target"]
    assert report["run"]["run_id"] is not None  # recorded like any `mlsd run`


def test_progress_export_writes_every_answer_as_json_and_csv(cli, full_answers, tmp_path):
    cli("practice", "fraud", "--answers", full_answers, "--json", "--no-run")
    cli("practice", "fraud", "--stage", "problem", "--answers", full_answers, "--json", "--no-run")
    as_json = tmp_path / "history.json"
    as_csv = tmp_path / "out" / "history.csv"
    assert cli("progress", "--export", str(as_json)).code == 0
    assert cli("progress", "--export", str(as_csv)).code == 0
    sessions = json.loads(as_json.read_text())["sessions"]
    assert [len(s["answers"]) for s in sessions] == [7, 3]
    assert sessions[0]["answers"][0]["answer"].strip().startswith("We predict")
    rows = list(csv.DictReader(as_csv.open()))
    assert len(rows) == 10 and rows[0]["part"] == "problem" and rows[0]["answer"].strip().startswith("We predict")


def test_progress_with_no_history_says_how_to_start(cli):
    result = cli("progress")
    assert result.code == 0 and "mlsd practice fraud" in result.out
    summary = cli("progress", "--json").json()
    assert summary["totals"]["sessions"] == 0 and summary["next"]["design"] == walkthrough_reader.available()[0]


def test_random_picks_a_design_that_has_a_walkthrough(cli, full_answers):
    result = cli("practice", "--random", "--answers", full_answers, "--json", "--no-run")
    assert result.code == 0, result.err
    assert result.json()["design"] in walkthrough_reader.available()


@pytest.mark.parametrize("args, message", [
    (["practice"], "name a design"),
    (["practice", "fraud", "--random"], "not both"),
    (["practice", "fraud", "--json"], "--json needs --answers"),
    (["practice", "fraud"], "--answers FILE"),                    # stdin is not a terminal here
    (["practice", "fraud", "--resume", "--answers", "{answers}"], "no unfinished practice session of fraud"),
    (["practice", "frad", "--no-run"], "Did you mean 'fraud'"),
    (["practice", "fraud", "--stage", "modle"], "Did you mean 'model'"),
    (["practice", "translation", "--answers", "{answers}", "--no-run"],
     "walkthrough for 'translation' is not written yet"),
    (["practice", "fraud", "--minutes", "0", "--answers", "{answers}"], "--minutes must be positive"),
    (["progress", "--export", "history.txt"], ".json or .csv"),
])
def test_bad_input_is_one_line_and_exit_code_2(cli, full_answers, args, message):
    result = cli(*[a.replace("{answers}", full_answers) for a in args])
    assert result.code == 2
    assert message in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize("content, message", [
    ("problem: [unclosed", "not valid YAML"),
    ("- just a list", "must map stage names"),
    ("serivng: text", "Did you mean 'serving'"),
    ("problem: {a: 1}", "must be text"),
    ("followups: not a list", "must be a list"),
])
def test_a_malformed_answers_file_is_named_and_nothing_is_recorded(cli, tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    result = cli("practice", "fraud", "--answers", str(path), "--no-run")
    assert result.code == 2 and message in result.err
    assert cli("progress", "--json").json()["totals"]["sessions"] == 0


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary", "not UTF-8 text"),
    (("problem: |\n  " + "word " * 5_000 + "\n").encode(), "limit is 20,000 per answer"),
    (b"problem: " + b"x" * 1_100_000, "the limit is 1,000,000"),
])
def test_binary_and_oversized_answers_files_fail_in_one_line(cli, tmp_path, content, message):
    path = tmp_path / "answers.yaml"
    path.write_bytes(content)
    result = cli("practice", "fraud", "--answers", str(path), "--no-run", "--json")
    assert result.code == 2 and message in " ".join(result.err.split()), result.err
    assert len(result.err.strip().splitlines()) <= 2 and "Traceback" not in result.err
    assert cli("progress", "--json").json()["totals"]["sessions"] == 0


def test_a_point_explained_in_a_later_stage_counts_for_an_earlier_one_when_the_session_ends(cli, tmp_path):
    answers = {"problem": "We start from what the business needs and what the payment network allows us to do.",
               "model": "Offline we report PR-AUC because fraud is a tiny share of the traffic and accuracy hides it."}
    result = cli("practice", "fraud", "--answers", write_answers(tmp_path, answers), "--json", "--no-run")
    assert result.code == 0, result.err
    problem = result.json()["stages"]["problem"]
    later = [c for c in problem["covered"] if c.get("found_in") == "model"]
    assert later and problem["score"] > 0  # scored again against the model answer given after it
