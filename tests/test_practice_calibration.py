"""The scorer on the calibration set: answers in many voices for every walkthrough,
written by people who had not read it (tests/calibration/), plus the usual ways of
gaming a scorer derived from them. The tests hold the order of the voices, not fixed
scores, through the same whole-interview scoring `mlsd practice` uses."""

from __future__ import annotations

from functools import lru_cache

import pytest
from calibration_voices import designs, overall, voices

from mlsd import walkthrough_reader
from mlsd.practice.scoring import score_interview
from mlsd.registry import STAGES

STRONG = ("strong", "strong_second", "strong_heldout")
MEDIOCRE = ("mediocre", "mediocre_second", "mediocre_heldout")
KEYWORDS = ("keywords", "keywords_bullets")
# voice -> the most it may score overall
CEILINGS = {"keywords": 25, "keywords_bullets": 25, "negated": 25, "shuffled": 35, "filler": 40, "off_topic": 5}


@lru_cache(maxsize=None)
def scores(design: str) -> dict[str, int]:
    walkthrough = walkthrough_reader.load(design)
    rubrics = {s: walkthrough.stages[s].rubric for s in STAGES}
    return {voice: overall({s: x.score for s, x in score_interview(answers, rubrics).items()})
            for voice, answers in voices(design, walkthrough).items()}


def test_every_walkthrough_has_a_calibration_set():
    assert set(walkthrough_reader.available()) <= set(designs())
    for design in designs():
        assert {*STRONG, *MEDIOCRE, *KEYWORDS, "off_topic"} <= set(voices(design, walkthrough_reader.load(design)))


@pytest.mark.parametrize("design", designs())
def test_reference_and_strong_answers_score_high(design):
    got = scores(design)
    assert got["reference"] >= 90, got
    for voice in STRONG:
        assert got[voice] >= 75, (voice, got)


@pytest.mark.parametrize("design", designs())
def test_the_voices_keep_their_order(design):
    got = scores(design)
    for strong in STRONG:
        for mediocre in MEDIOCRE:
            assert got[strong] - got[mediocre] >= 25, (strong, mediocre, got)
    for mediocre in MEDIOCRE:
        for keywords in KEYWORDS:
            assert got[mediocre] > got[keywords], (mediocre, keywords, got)


@pytest.mark.parametrize("design", designs())
def test_lists_denials_salad_filler_and_off_topic_stay_low(design):
    got = scores(design)
    for voice, ceiling in CEILINGS.items():
        assert got[voice] <= ceiling, (voice, got)
