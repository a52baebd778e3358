"""Progress over sessions: trend, missed concepts, and spaced repetition that brings
weak and long-unpractised designs back first."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from mlsd.practice.history import Answer, Session
from mlsd.practice.summary import (
    design_standing,
    missed_concepts,
    pick_random,
    progress_summary,
    review_interval,
)
from mlsd.registry import STAGES

TODAY = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)


def session(id_: int, design: str, score: int, days_ago: float, status: str = "finished",
            stages=STAGES, missed=("p",)) -> Session:
    stamp = (TODAY - timedelta(days=days_ago)).isoformat(timespec="seconds")
    s = Session(id_, design, list(stages), 1.0, True, "file", "0.1.0", stamp, stamp, status, None)
    for stage in stages:
        points = [{"point": m, "weight": 1.0, "why": "w"} for m in missed]
        points.append({"point": "covered", "weight": 1.0, "credit": 1.0, "evidence": "e"})
        s.answers[stage] = Answer(stage, stage, "Q", "A", False, [], score, points, 60.0, 300.0, stamp)
    return s


def test_last_best_and_trend_come_from_full_finished_sessions():
    history = [session(1, "fraud", 40, 9), session(2, "fraud", 70, 5), session(3, "fraud", 55, 2),
               session(4, "fraud", 95, 1, stages=("problem",)),          # one stage: not comparable
               session(5, "fraud", 10, 0.5, status="open")]              # unfinished
    standing = design_standing("fraud", history, TODAY)
    assert standing["trend"] == [40, 70, 55]
    assert standing["last"] == 55 and standing["best"] == 70
    assert standing["sessions"] == 5 and standing["full_sessions"] == 3
    assert standing["stage_scores"]["problem"] == 10  # the most recent answer of each stage


def test_review_interval_grows_with_the_score():
    assert [review_interval(s) for s in (20, 60, 80, 95)] == [1, 3, 7, 14]


def test_weak_and_long_unpractised_designs_come_first():
    history = [session(1, "fraud", 90, 2),      # strong, practised 2 days ago: not due (every 14 days)
               session(2, "ads", 30, 3),        # weak and overdue (every day)
               session(3, "speech", 30, 1.5)]   # weak, less overdue
    summary = progress_summary(history, ["fraud", "ads", "speech", "translation"], today=TODAY)
    by_design = {d["design"]: d for d in summary["designs"]}
    assert by_design["fraud"]["due_in_days"] > 0 and by_design["ads"]["due_in_days"] == 0
    assert by_design["ads"]["priority"] > by_design["speech"]["priority"] > by_design["fraud"]["priority"]
    assert summary["next"]["design"] == "ads" and summary["next"]["command"] == "mlsd practice ads"


def test_a_never_practised_design_is_suggested_when_nothing_is_due():
    history = [session(1, "fraud", 90, 0.1)]
    summary = progress_summary(history, ["fraud", "ads"], today=TODAY)
    assert summary["next"]["design"] == "ads" and "not practised" in summary["next"]["reason"]


def test_random_favours_the_weakest_but_can_draw_any():
    history = [session(1, "fraud", 95, 1), session(2, "ads", 5, 1)]
    standings = progress_summary(history, ["fraud", "ads"], today=TODAY)["designs"]
    rng = random.Random(0)
    draws = [pick_random(standings, ["fraud", "ads"], rng) for _ in range(2000)]
    assert draws.count("ads") > 5 * draws.count("fraud") > 0


def test_missed_concepts_are_counted_across_sessions():
    history = [session(1, "fraud", 50, 3, missed=("label delay", "psi")),
               session(2, "fraud", 60, 1, missed=("label delay",))]
    top = missed_concepts(history)
    assert top[0]["point"] == "label delay" and top[0]["missed"] == 2 == top[0]["asked"]  # per stage
    assert {m["point"] for m in top} == {"label delay", "psi"}
    assert all(m["point"] != "covered" for m in top)
