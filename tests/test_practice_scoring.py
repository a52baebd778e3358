"""Rubric scoring held to behaviour, one rule at a time, on small rubrics written here.
The calibration set (tests/test_practice_calibration.py) holds the whole scorer to the
order of answers in several voices on every walkthrough."""

from __future__ import annotations

import pytest
from sample_answers import OFF_TOPIC, STRONG_PROBLEM

from mlsd import walkthrough_reader
from mlsd.practice.scoring import (FRAGMENT_CREDIT, NAMED_CREDIT, OTHER_STAGE_CREDIT, next_hint, score_answer,
                                   score_interview)
from mlsd.practice.text import canonical, phrase_stems, sentences
from mlsd.walkthrough_reader import RubricPoint

FRAUD = walkthrough_reader.load("fraud")


def point(name: str, *synonyms: str, weight: float = 1.0, group: str = "key") -> RubricPoint:
    return RubricPoint(name, tuple(synonyms), weight, "why it matters", group)


def credit(answer: str, p: RubricPoint, **kwargs) -> float:
    return score_answer(answer, [p], **kwargs).points[0].credit


def test_spellings_and_abbreviations_meet_both_ways():
    pairs = [("99th percentile", "p99"), ("P-99", "p99"), ("area under the precision-recall curve", "PR-AUC"),
             ("AUPRC", "pr auc"), ("authorisation", "authorization"), ("labelled", "labeled"),
             ("100ms", "100 ms"), ("re-ranking", "reranking"), ("real-time", "realtime"), ("10 times", "10x"),
             ("A/B test", "ab test"), ("1,000", "1000"), ("fall back", "fallback"), ("roll-back", "rollback"),
             ("click-through rate", "CTR"), ("word error rate", "WER"), ("judgement", "judgment"),
             ("fine-tune", "finetune"), ("gradient boosted decision trees", "GBDT"), ("don't", "do not")]
    for a, b in pairs:
        assert phrase_stems(a) == phrase_stems(b), (a, b)


def test_a_real_stemmer_folds_word_forms():
    for forms in (("tokenize", "tokenization", "tokenizing"), ("labels", "labelled", "labeling"),
                  ("batches", "batched", "batching"), ("calibrated", "calibration"), ("chargebacks", "chargeback")):
        assert len({phrase_stems(f) for f in forms}) == 1, forms
    assert canonical("Colour behaviour") == "color behavior"


def test_a_multi_word_phrase_needs_its_words_in_order_and_close():
    p = point("split by time")
    assert credit("We split the data by event time, because labels arrive late.", p) == 1
    assert credit("Time matters here, and we split hairs over every feature because of it.", p) == 0
    assert credit("because we labels time the by split data late arrive.", p) < 1  # shuffled: not prose at best


def test_one_common_word_does_not_cover_a_multi_word_concept():
    p = point("normalize caption text")
    assert credit("We cut the bread and normalized the images because the oven was hot.", p) == 0


def test_a_rejected_idea_earns_nothing_and_the_chosen_one_earns_its_credit():
    random_split, time_split = point("random split"), point("split by time")
    answer = "Instead of a random split, we split by time, because fraud patterns drift."
    assert credit(answer, random_split) == 0
    assert credit(answer, time_split) == 1
    assert credit("We would not use accuracy, since it hides the rare class.", point("accuracy")) == 0


def test_a_blanket_denial_earns_nothing():
    p = point("PR-AUC")
    assert credit("We use PR-AUC because fraud is rare.", p) == 1
    for denial in ("We would NOT do this and it is false that we use PR-AUC because fraud is rare.",
                   "It is not true that we use PR-AUC because fraud is rare.",
                   "We would never use PR-AUC, because fraud is rare.",
                   "I disagree with the idea that we use PR-AUC because fraud is rare.",
                   "No, we would not: we use PR-AUC because fraud is rare."):
        assert credit(denial, p) == 0, denial


def test_a_point_that_is_itself_a_rejection_is_affirmed_by_saying_it():
    p = point("no random split")
    assert credit("There is no random split here, since labels leak across days.", p) == 1


def test_naming_earns_part_and_a_reason_or_a_number_earns_all():
    p = point("label delay")
    named = score_answer("We would think about the label delay here.", [p]).points[0]
    reasoned = score_answer("We must handle the label delay, because chargebacks take weeks to come in.", [p]).points[0]
    numbered = score_answer("The label delay is about 30 days for most of our transactions.", [p]).points[0]
    assert (named.credit, named.justified) == (NAMED_CREDIT, False)
    assert reasoned.credit == numbered.credit == 1 and reasoned.justified


def test_the_next_sentence_can_give_the_reason():
    p = point("label delay")
    assert credit("We plan for the label delay in every stage. This is because chargebacks take weeks.", p) == 1
    assert credit("We plan for the label delay in every stage. We like dashboards for many things.", p) == NAMED_CREDIT


def test_a_rubric_phrase_does_not_justify_itself_or_another_point():
    latency, capacity = point("latency under 100 ms"), point("review queue versus analyst capacity")
    filler = "We would think about latency under 100 ms here. We would think about review queue versus analyst capacity here."
    result = score_answer(filler, [latency, capacity])
    assert [p.credit for p in result.points] == [NAMED_CREDIT, NAMED_CREDIT]


def test_filler_that_only_announces_a_topic_is_named_not_justified():
    for filler in ("Let's talk about the label delay.", "We should consider the label delay.",
                   "The label delay is important here."):
        assert credit(filler, point("label delay")) == NAMED_CREDIT, filler


def test_keyword_fragments_earn_the_least():
    p = point("label delay", "chargebacks arrive late")
    fragment = score_answer("label delay", [p]).points[0]
    assert fragment.credit == FRAGMENT_CREDIT and not fragment.in_prose
    listed = sentences("velocity features, device novelty, merchant risk, time split, label gap, PSI drift")
    prose = sentences("We load-test at 10x, shard the state by entity, pre-scale before the event, "
                      "and keep a rules-only mode ready.")
    assert not listed[0].is_prose and prose[0].is_prose


def test_shuffled_words_read_as_salad_not_prose():
    text = ("We split the data by time because the labels arrive late. The model is trained on the older "
            "weeks and tested on the newest ones. At serving time the features come from the same code.")
    words_shuffled = ("time labels We split late by arrive because the data the. weeks older trained "
                      "newest the model ones and on The tested is on the. same the come features At code time "
                      "serving from the.")
    assert all(s.is_prose for s in sentences(text))
    assert not any(s.is_prose for s in sentences(words_shuffled))
    assert not any(s.is_prose for s in sentences(words_shuffled.lower()))  # no capitals to go by


def test_a_point_made_in_another_stage_earns_most_of_its_credit_and_says_where():
    rubrics = {"problem": [point("PR-AUC")], "model": [point("boosted trees")]}
    answers = {"problem": "We start from the business need and a 100 ms budget because payments wait.",
               "model": "We report PR-AUC because fraud is rare, and we train boosted trees because they handle "
                        "tabular data well."}
    scores = score_interview(answers, rubrics)
    found = scores["problem"].points[0]
    assert found.credit == OTHER_STAGE_CREDIT and found.found_in == "model"


def test_run_points_add_credit_but_are_never_needed():
    key = [point("PR-AUC", weight=2), point("label delay")]
    run = point("champion PR-AUC 0.75 against 0.43 for rules", group="run")
    strong = "We use PR-AUC because fraud is rare. Labels arrive late, so the label delay shapes the split."
    assert score_answer(strong, key + [run]).score == 100
    partial = "We use PR-AUC because fraud is rare."
    quoted = partial + " In the run the champion PR-AUC was 0.75 against 0.43 for rules."
    assert score_answer(quoted, key + [run]).score > score_answer(partial, key + [run]).score
    assert score_answer(quoted, key + [run]).missed[0].point == "label delay"


def test_a_hint_halves_the_credit_of_the_point_it_revealed():
    p = point("label delay")
    answer = "We must handle the label delay, because chargebacks take weeks to come in."
    assert credit(answer, p, hinted=["label delay"]) == 0.5


def test_next_hint_is_the_heaviest_key_point_not_yet_covered_or_hinted():
    rubric = [point("PR-AUC", weight=2), point("label delay"), point("run figure", weight=3, group="run")]
    assert next_hint("", rubric, []).point == "PR-AUC"
    assert next_hint("We use PR-AUC because fraud is rare.", rubric, []).point == "label delay"
    assert next_hint("", rubric, ["PR-AUC"]).point == "label delay"


def test_empty_and_off_topic_answers_score_near_zero():
    for stage in FRAUD.stages.values():
        assert score_answer("", stage.rubric).score == 0
        assert score_answer(OFF_TOPIC, stage.rubric).score <= 5


@pytest.mark.parametrize("stage", list(FRAUD.stages))
def test_each_follow_up_reference_covers_its_own_rubric(stage):
    for followup in FRAUD.stages[stage].followups:
        assert score_answer(followup.answer, followup.rubric).score >= 70, followup.question


def test_a_strong_answer_in_other_words_points_at_its_evidence():
    result = score_answer(STRONG_PROBLEM, FRAUD.stages["problem"].rubric)
    assert result.score >= 75
    assert any("precision-recall curve" in p.evidence for p in result.covered)


def test_scoring_is_deterministic():
    rubric = FRAUD.stages["model"].rubric
    text = FRAUD.stages["model"].answer
    assert score_answer(text, rubric) == score_answer(text, rubric)
