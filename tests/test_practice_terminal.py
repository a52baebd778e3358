"""Practice as a person does it: on a real pseudo-terminal, typing answers, asking for
a hint, quitting, pressing Ctrl-C, resuming, and seeing it all in `mlsd progress`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sample_answers import STRONG_PROBLEM
from terminal import Terminal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

PROBLEM_LINES = [" ".join(STRONG_PROBLEM.split())]
START = "or q to stop here:"


@pytest.fixture
def env(mlsd_home):
    return {**os.environ, "MLSD_HOME": str(mlsd_home), "NO_COLOR": "1", "TERM": "xterm"}


def progress_json(env) -> dict:
    out = subprocess.run([sys.executable, "-m", "mlsd", "progress", "--json"], env=env, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def answer(t: Terminal, *lines: str) -> None:
    t.expect(START)
    t.type("")
    t.expect("› ")
    t.type(*lines, "", "")
    t.expect("Reference answer")


def test_a_whole_session_typed_at_the_terminal(env):
    t = Terminal(["practice", "fraud", "--no-run"], env)
    t.expect("Mock interview · session #1")
    t.expect(START)
    t.type("")
    t.expect("5:00 › ")  # the countdown, in the prompt of every line
    t.type("We predict the probability of fraud for each transaction at authorisation time.", "/hint")
    t.expect("Hint 1:")
    t.type("Accuracy is misleading because fraud is rare, so we look at PR-AUC and the cost of errors.", "", "")
    shown = t.expect("Reference answer")
    assert "Your answer · " in shown and "✓" in shown
    answer(t, "Velocity features per card, user and device over several windows are the core of the design.")
    answer(t, "I would start with logistic regression as a baseline, then gradient boosted trees.")
    t.expect(START)
    t.type("")
    t.expect("› ")
    t.type("/skip")                              # serving skipped
    t.expect("Your answer · skipped")
    answer(t, "We watch PSI on every feature and on the score distribution, because labels come late.")
    for _ in range(3):                           # follow-ups
        t.expect(START)
        t.type("")
        t.expect("› ")
        t.type("We shadow the model first and keep a fallback mode.")
        t.ctrl_d()                               # Ctrl-D submits too
        t.expect("Reference answer")
    t.expect("Final score")
    t.expect("Overall")
    assert t.wait() == 0

    summary = progress_json(env)
    fraud = next(d for d in summary["designs"] if d["design"] == "fraud")
    assert fraud["sessions"] == 1 and fraud["last"] is not None
    assert fraud["stage_scores"]["serving"] == 0 and fraud["stage_scores"]["problem"] > 0


def test_quit_then_resume_then_ctrl_c_then_resume_keeps_every_answer(env):
    t = Terminal(["practice", "fraud", "--no-run", "--no-timer"], env)
    answer(t, PROBLEM_LINES[0])
    t.expect(START)
    t.type("")
    t.expect("› ")
    t.type("The features are velocity counts per card and per device.", "/quit")
    t.expect("Saved session #1: 1 answered")
    assert t.wait() == 0
    assert progress_json(env)["open_sessions"][0]["answered"] == 1

    t = Terminal(["practice", "fraud", "--resume", "--no-run", "--no-timer"], env)
    t.expect("Resuming session #1")
    t.expect(START)
    t.type("")
    t.expect("Your draft from last time")
    t.expect("velocity counts per card and per device")
    t.type("We split by time and leave a gap for labels that have not matured yet.", "", "")
    t.expect("Reference answer")
    t.expect(START)
    t.type("")
    t.expect("› ")
    t.type("Gradient boosted")
    t.ctrl_c()
    t.expect("Saved session #1: 2 answered")
    assert t.wait() == 130

    t = Terminal(["practice", "--resume", "--no-run", "--no-timer"], env)  # any design: the newest open one
    t.expect("Resuming session #1")
    t.expect("Already answered: problem")
    for stage_answer in ("Gradient boosted trees with class weights and a cost-based threshold.",
                         "Per-request scoring in the request path, with p99 against 100 ms.",
                         "Population stability index per feature and delayed labels for recall."):
        answer(t, stage_answer)
    for _ in range(3):
        t.expect(START)
        t.type("")
        t.expect("› ")
        t.type("/skip")
    t.expect("Final score")
    assert t.wait() == 0

    summary = progress_json(env)
    assert summary["open_sessions"] == [] and summary["totals"]["sessions"] == 1
    assert summary["totals"]["answers"] == 8


def test_stopping_before_the_clock_starts_records_nothing_but_the_session(env):
    t = Terminal(["practice", "fraud", "--stage", "model", "--no-run"], env)
    t.expect(START)
    t.type("q")
    t.expect("Saved session #1: 0 answered")
    assert t.wait() == 0


def test_editor_mode_reads_the_saved_file(env, tmp_path):
    fake_editor = tmp_path / "editor.py"
    fake_editor.write_text(
        "import sys\n"
        "path = sys.argv[1]\n"
        "text = open(path).read()\n"
        "assert '# - Which model would you start with' in text\n"
        "open(path, 'a').write('I would start with logistic regression as a simple baseline, then gradient '\n"
        "                      'boosted trees such as LightGBM, because they capture interactions.\\n')\n")
    t = Terminal(["practice", "fraud", "--stage", "model", "--no-run", "--editor"],
                 {**env, "EDITOR": f"{sys.executable} {fake_editor}"})
    t.expect(START)
    t.type("")
    shown = t.expect("Reference answer")
    assert "logistic regression as a simple baseline" in shown and "✓" in shown  # evidence under a point explained
    for _ in range(2):
        t.expect(START)
        t.type("")
    t.expect("Final score")
    assert t.wait() == 0
