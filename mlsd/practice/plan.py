"""What a practice session asks: the stages in order, then follow-up questions
aimed at the stages the user scored lowest on.

A part is named by a key: a stage name ("model"), or "followup:<stage>:<index>" for
the walkthrough's index-th follow-up of that stage. Keys are what the store records,
so a resumed session asks exactly what it would have asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlsd.errors import UsageError
from mlsd.registry import STAGE_MINUTES, STAGES
from mlsd.walkthrough_reader import RubricPoint, Walkthrough

FOLLOWUPS_PER_SESSION = 3       # after all five stages
FOLLOWUPS_PER_STAGE_SESSION = 2  # after practising one stage
FOLLOWUP_MINUTES = 5            # shared by the follow-ups of a session: 40 + 5 = a 45-minute interview


@dataclass(frozen=True)
class Part:
    key: str
    stage: str
    is_followup: bool
    questions: tuple[str, ...]
    rubric: tuple[RubricPoint, ...]
    reference: str
    minutes: float              # before --minutes scaling

    @property
    def title(self) -> str:
        return f"Follow-up on {self.stage}" if self.is_followup else self.stage.capitalize()


def part(walkthrough: Walkthrough, key: str, followup_count: int = FOLLOWUPS_PER_SESSION) -> Part:
    """The part a key names, with its questions, rubric and reference answer."""
    if ":" not in key:
        s = walkthrough.stages[key]
        return Part(key, key, False, tuple(s.questions), tuple(s.rubric), s.answer, STAGE_MINUTES[key])
    _, stage, index = key.split(":")
    followup = walkthrough.stages[stage].followups[int(index)]
    return Part(key, stage, True, (followup.question,), followup.rubric, followup.answer,
                FOLLOWUP_MINUTES / max(1, followup_count))


def stage_keys(stage: str | None) -> list[str]:
    return [stage] if stage else list(STAGES)


def choose_followups(walkthrough: Walkthrough, scores: dict[str, int], rotation: int) -> list[str]:
    """One follow-up from each of the lowest-scoring stages (ties in stage order), or
    several from the one stage practised. `rotation` (the number of earlier sessions
    of this design) walks through each stage's follow-ups across sessions."""
    stages = sorted(scores, key=lambda s: (scores[s], STAGES.index(s)))
    keys: list[str] = []
    if len(stages) == 1:
        followups = walkthrough.stages[stages[0]].followups
        for i in range(min(FOLLOWUPS_PER_STAGE_SESSION, len(followups))):
            keys.append(f"followup:{stages[0]}:{(rotation + i) % len(followups)}")
        return keys
    for stage in stages[:FOLLOWUPS_PER_SESSION]:
        followups = walkthrough.stages[stage].followups
        if followups:
            keys.append(f"followup:{stage}:{rotation % len(followups)}")
    return keys


def minutes_factor(minutes: float | None, keys: list[str]) -> float:
    """--minutes is the time for the whole session; stages keep their proportions."""
    if minutes is None:
        return 1.0
    if minutes <= 0:
        raise UsageError(f"--minutes must be positive, not {minutes:g}. Try --minutes 20, or --no-timer.")
    return minutes / (sum(STAGE_MINUTES[k] for k in keys if k in STAGE_MINUTES) + FOLLOWUP_MINUTES)
