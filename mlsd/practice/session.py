"""The practice loop: ask each part, score the reply, record it, then show the
rubric, the reference answer and the stage's real numbers.

Where answers come from (the terminal, an editor, a YAML file) and how results are
shown (rich, or nothing for --json) are passed in, so one loop serves them all and
tests drive it without a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from mlsd.errors import StoreError
from mlsd.practice import plan
from mlsd.practice.history import FOLLOWUPS_MARKER, Answer, PracticeLog, Session
from mlsd.practice.scoring import Score, score_answer, vocabulary_of
from mlsd.walkthrough_reader import Walkthrough


@dataclass
class Reply:
    action: str                      # "answer", "skip" or "quit"
    text: str = ""
    seconds: float | None = None     # None when not timed (answers from a file)
    hints: tuple[str, ...] = ()      # rubric points revealed before answering


class AnswerSource(Protocol):
    name: str

    def followups_available(self) -> int | None:
        """How many follow-ups this source can answer; None for any number."""

    def ready(self, part: plan.Part, budget_s: float) -> bool:
        """False when the user chose to stop before this part."""

    def ask(self, part: plan.Part, budget_s: float, draft: str) -> Reply: ...


class StageNumbers(Protocol):
    def wait(self, stage: str) -> tuple[object | None, str | None]: ...


class Presenter(Protocol):
    def part(self, part: plan.Part, number: int, total: int, budget_s: float) -> None: ...

    def scored(self, part: plan.Part, score: Score, answer: Answer) -> None: ...

    def reference(self, part: plan.Part) -> None: ...

    def stage_numbers(self, stage: str, numbers: StageNumbers) -> None:
        """Wait for the stage's run (it started in the background) and show it."""

    def paused(self, session: Session) -> None: ...

    def unsaved(self, text: str) -> None:
        """Show an answer the store could not take."""


def practise(session: Session, walkthrough: Walkthrough, log: PracticeLog, source: AnswerSource,
             presenter: Presenter, numbers: StageNumbers | None) -> Session:
    """Run the session's remaining parts; returns it finished, or open when the user stopped."""
    while session.remaining:
        key = session.remaining[0]
        if key == FOLLOWUPS_MARKER:
            _choose_followups(session, walkthrough, log, source)
            continue
        followups = sum(":" in k for k in session.parts)
        part = plan.part(walkthrough, key, followups)
        budget_s = part.minutes * 60 * session.minutes_factor
        if not source.ready(part, budget_s):
            presenter.paused(session)
            return session
        asked = [k for k in session.parts if k != FOLLOWUPS_MARKER]
        presenter.part(part, asked.index(key) + 1, len(asked), budget_s)
        draft = session.draft["text"] if session.draft and session.draft.get("part") == key else ""
        reply = source.ask(part, budget_s, draft)
        if reply.action == "quit":
            try:
                log.save_draft(session, key, reply.text)
            except StoreError:
                presenter.unsaved(reply.text)
                raise
            presenter.paused(session)
            return session
        skipped = reply.action == "skip"
        text = "" if skipped else reply.text
        score = _score(part, text, reply.hints, session, walkthrough)
        answer = Answer(key, part.stage, "\n".join(part.questions), text, skipped, list(reply.hints), score.score,
                        [p.to_dict() for p in score.points], reply.seconds, round(budget_s, 1))
        try:
            log.save_answer(session, answer)  # recorded before anything else can go wrong
        except StoreError:
            presenter.unsaved(text)  # so the user can copy it before the error ends the session
            raise
        presenter.scored(part, score, answer)
        presenter.reference(part)
        if numbers is not None and not part.is_followup:
            presenter.stage_numbers(part.stage, numbers)
    _rescore_with_later_stages(session, walkthrough, log)
    log.finish(session)
    return session


def _score(part: plan.Part, text: str, hints, session: Session, walkthrough: Walkthrough) -> Score:
    """A stage answer also earns (part of) a point made in another stage's answer; a
    follow-up is a question of its own and is scored on its own answer, a skipped stage
    is 0."""
    if part.is_followup or not text.strip():
        return score_answer(text, part.rubric, hints)  # a skipped stage earns nothing from the others
    elsewhere = {a.stage: a.answer for k, a in session.answers.items()
                 if ":" not in k and k != part.key and a.answer}
    vocabulary = vocabulary_of(p for s in walkthrough.stages.values() for p in s.rubric)
    return score_answer(text, part.rubric, hints, elsewhere, vocabulary)


def _rescore_with_later_stages(session: Session, walkthrough: Walkthrough, log: PracticeLog) -> None:
    """At the end, each stage's answer is scored again against the whole interview: a
    point explained in a later stage counts too. Only scores that change are saved."""
    for key in session.stages:
        answer = session.answers.get(key)
        if answer is None or answer.skipped:
            continue
        part = plan.part(walkthrough, key)
        score = _score(part, answer.answer, answer.hints, session, walkthrough)
        points = [p.to_dict() for p in score.points]
        if score.score != answer.score or points != answer.points:
            log.save_answer(session, replace(answer, score=score.score, points=points))


def _choose_followups(session: Session, walkthrough: Walkthrough, log: PracticeLog, source: AnswerSource) -> None:
    """Replace the placeholder with follow-ups aimed at the weakest stages answered."""
    scores = {s: session.answers[s].score for s in session.stages if s in session.answers}
    keys = plan.choose_followups(walkthrough, scores, rotation=max(0, log.count(session.design) - 1))
    keys = keys[: source.followups_available()]
    at = session.parts.index(FOLLOWUPS_MARKER)
    log.set_parts(session, session.parts[:at] + keys + session.parts[at + 1:])
