"""Rubric scoring held to behaviour: real answers score high, empty and off-topic ones
near zero, and a keyword list well below a real answer, whatever the spelling."""

from __future__ import annotations

import pytest
from sample_answers import OFF_TOPIC, STRONG_PROBLEM

from mlsd import walkthrough_reader
from mlsd.practice.scoring import canonical, content_stems, next_hint, score_answer, sentences
from mlsd.walkthrough_reader import RubricPoint

FRAUD = walkthrough_reader.load("fraud")


def test_spellings_meet():
    pairs = [("99th percentile", "p99"), ("P-99", "p99"), ("area under the precision-recall curve", "PR-AUC"),
             ("AUPRC", "pr auc"), ("authorisation", "authorization"), ("labelled", "labeled"),
             ("100ms", "100 ms"), ("re-ranking", "reranking"), ("real-time", "realtime"), ("10 times", "10x"),
             ("A/B test", "ab test"), ("1,000", "1000"),
             ("fall back", "fallback"), ("roll-back", "rollback")]
    for a, b in pairs:
        assert content_stems(a) == content_stems(b), (a, b)


def test_plurals_and_verb_forms_meet():
    assert content_stems("labels arriving late") == content_stems("label arrives lately"[:-2])  # "late"
    assert content_stems("chargebacks") == content_stems("chargeback")
    assert content_stems("batches batched batching") == content_stems("batch")
    assert canonical("Colour behaviour") == "color behavior"


@pytest.mark.parametrize("stage", list(FRAUD.stages))
def test_each_reference_answer_covers_its_own_rubric(stage):
    s = FRAUD.stages[stage]
    assert score_answer(s.answer, s.rubric).score >= 80
    for followup in s.followups:
        assert score_answer(followup.answer, followup.rubric).score >= 70, followup.question


@pytest.mark.parametrize("slug", walkthrough_reader.available())
def test_every_walkthrough_reference_scores_high_and_keyword_lists_low(slug):
    """For any walkthrough, not just fraud: the rubric must reward its own reference
    answer, and a list of its own rubric phrases must not pass for an answer."""
    for stage, s in walkthrough_reader.load(slug).stages.items():
        reference = score_answer(s.answer, s.rubric).score
        keyword_lists = [", ".join(p.point for p in s.rubric),
                         "\n".join(f"- {p.point}" for p in s.rubric),
                         "\n".join(p.point for p in s.rubric),
                         ", ".join(syn for p in s.rubric for syn in p.synonyms)]
        for keywords in keyword_lists:
            listed = score_answer(keywords, s.rubric).score
            assert listed <= 50 and listed <= reference - 40, (slug, stage, listed, reference, keywords[:80])


def test_strong_candidate_answer_scores_high_and_points_at_evidence():
    result = score_answer(STRONG_PROBLEM, FRAUD.stages["problem"].rubric)
    assert result.score >= 80
    pr_auc = next(p for p in result.points if p.point == "PR-AUC")
    assert pr_auc.covered and "precision-recall curve" in pr_auc.evidence


def test_empty_and_off_topic_answers_score_near_zero():
    for stage in FRAUD.stages.values():
        assert score_answer("", stage.rubric).score == 0
        assert score_answer(OFF_TOPIC, stage.rubric).score <= 10


def test_a_short_weak_answer_scores_below_a_strong_one():
    weak = "I would train a model to detect fraud. Use XGBoost with lots of features. Measure accuracy. Make it fast."
    rubric = FRAUD.stages["problem"].rubric
    assert score_answer(weak, rubric).score + 50 <= score_answer(STRONG_PROBLEM, rubric).score


def test_keyword_fragments_earn_partial_credit_and_sentences_full():
    point = RubricPoint("label delay", ("chargebacks arrive late",), 1.0, "why")
    fragment = score_answer("label delay", [point])
    sentence = score_answer("We must handle the label delay, because chargebacks take weeks to come in.", [point])
    assert 0 < fragment.points[0].credit < 1 and not fragment.points[0].in_prose
    assert sentence.points[0].credit == 1 and sentence.score == 100


def test_a_comma_list_is_a_fragment_but_an_enumeration_in_prose_is_not():
    listed = sentences("velocity features, device novelty, merchant risk, time split, label gap, PSI drift")
    prose = sentences("We load-test at 10x, shard the state by entity, pre-scale before the event, "
                      "and keep a rules-only mode ready.")
    assert not listed[0].is_prose
    assert prose[0].is_prose


def test_a_hint_halves_the_credit_of_the_point_it_revealed():
    rubric = FRAUD.stages["problem"].rubric
    plain = score_answer(STRONG_PROBLEM, rubric)
    hinted = score_answer(STRONG_PROBLEM, rubric, hinted=["PR-AUC"])
    pr_auc = next(p for p in hinted.points if p.point == "PR-AUC")
    assert pr_auc.hinted and pr_auc.credit == 0.5
    assert hinted.score < plain.score


def test_next_hint_is_the_heaviest_point_not_yet_covered_or_hinted():
    rubric = FRAUD.stages["problem"].rubric
    first = next_hint("", rubric, [])
    assert first.weight == max(p.weight for p in rubric)
    covered_first = next_hint(f"We {first.point} in this design, which matters a lot.", rubric, [])
    assert covered_first is not None and covered_first.point != first.point
    assert next_hint(STRONG_PROBLEM, rubric, []) is None


def test_scoring_is_deterministic():
    rubric = FRAUD.stages["model"].rubric
    text = FRAUD.stages["model"].answer
    assert score_answer(text, rubric) == score_answer(text, rubric)
