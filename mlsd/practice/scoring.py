"""Scoring an answer against a rubric: offline, deterministic, explainable.

A rubric point is a phrase plus paraphrases. A phrase matches a sentence when the
sentence holds the phrase's content words (stemmed with Snowball, spellings and
abbreviations made uniform by mlsd.practice.text) in the phrase's order with at most
MAX_GAP words between them, or side by side in any order; a phrase of four or more
content words may miss one. A match under a negation does not count: "we would not
use accuracy" earns nothing for accuracy.

What a match earns follows what an interviewer hears:
- explained: a prose sentence that also gives a reason, a trade-off or a number (or
  is followed by one that does, "This is because ..."): the full weight;
- named but not justified: a prose sentence that only names it: NAMED_CREDIT;
- a fragment (a bullet of nouns, a comma list, shuffled words): FRAGMENT_CREDIT;
- said in another stage of the same interview: OTHER_STAGE_CREDIT of the above;
- after a hint: HINT_CREDIT of the above.

Each stage's rubric has key points and a smaller group of run points (quoting what
this design's run shows). Run points add credit but are never needed: the score is
the earned weight over FULL_MARKS_SHARE of the key points' weight, capped at 100, so
an answer that explains the key points an interviewer expects scores full marks
without every last one. An answer that spends fewer than WORDS_PER_POINT words per
point it covers is scaled down in proportion. docs/scoring.md has the figures.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from mlsd.practice.text import NEGATIONS, Sentence, phrase_stems, sentences, words
from mlsd.walkthrough_reader import RubricPoint

NAMED_CREDIT = 0.3
FRAGMENT_CREDIT = 0.15
OTHER_STAGE_CREDIT = 0.75
HINT_CREDIT = 0.5
WORDS_PER_POINT = 10
FULL_MARKS_SHARE = 0.85
MAX_GAP = 4                 # words allowed between two words of a phrase ("split the data by event time")
LONG_PHRASE = 4             # a phrase of this many content words or more may miss one of them


@dataclass(frozen=True)
class PointResult:
    point: str
    weight: float
    why: str
    group: str           # "key" or "run"
    credit: float        # 0 (missed) to 1 (explained in this stage, no hint)
    evidence: str        # the sentence that covered it, as written
    in_prose: bool
    justified: bool      # the sentence gave a reason, a trade-off or a number
    found_in: str        # "" when found in this stage's answer, else the stage it was found in
    hinted: bool

    @property
    def covered(self) -> bool:
        return self.credit > 0

    def to_dict(self) -> dict:
        data = {"point": self.point, "weight": self.weight, "group": self.group}
        if self.covered:
            data |= {"credit": round(self.credit, 2), "evidence": self.evidence, "in_prose": self.in_prose,
                     "justified": self.justified, "hinted": self.hinted}
            if self.found_in:
                data["found_in"] = self.found_in
        else:
            data |= {"why": self.why}
        return data


@dataclass(frozen=True)
class Score:
    score: int                      # 0-100
    points: tuple[PointResult, ...]
    words: int                      # in the answer
    elaboration: float              # 1.0, or less when the answer is too short for what it names

    @property
    def covered(self) -> list[PointResult]:
        return [p for p in self.points if p.covered]

    @property
    def missed(self) -> list[PointResult]:
        return [p for p in self.points if not p.covered and p.group == "key"]


@dataclass(frozen=True)
class Found:
    credit: float
    sentence: Sentence
    justified: bool
    found_in: str


@lru_cache(maxsize=4096)
def _alternatives(point: RubricPoint) -> tuple[tuple[str, ...], ...]:
    return tuple(s for s in (phrase_stems(p) for p in (point.point, *point.synonyms)) if s)


def _ordered(stems: Sequence[str], sentence: Sentence, allowed: Callable[[int], bool]) -> tuple[int, ...] | None:
    """Positions of the stems in order, each within MAX_GAP words of the one before, all
    allowed; one placement, found in time linear in the sentence (no backtracking)."""
    came_from: list[dict[int, int]] = []   # per stem: position -> position of the stem before
    ends: list[int] = []                   # positions where the phrase so far can end, ascending
    for j, target in enumerate(stems):
        current: dict[int, int] = {}
        for i, word in enumerate(sentence.stems):
            if word != target or not allowed(i):
                continue
            if j == 0:
                current[i] = -1
                continue
            k = bisect_left(ends, i) - 1   # the latest end before i: the closest is the best
            if k >= 0 and i - ends[k] <= MAX_GAP + 1:
                current[i] = ends[k]
        if not current:
            return None
        came_from.append(current)
        ends = sorted(current)
    path = [ends[0]]
    for step in reversed(came_from[1:]):
        path.append(step[path[-1]])
    return tuple(reversed(path))


def _adjacent(stems: Sequence[str], sentence: Sentence, allowed: Callable[[int], bool]) -> tuple[int, ...] | None:
    """A window one word wider than the phrase holding all its stems in any order."""
    width = len(stems) + 1
    for start in range(max(1, len(sentence.stems) - width + 1)):
        window = sentence.stems[start:start + width]
        if all(s in window for s in stems):
            found = tuple(start + window.index(s) for s in stems)
            if all(allowed(i) for i in found):
                return found
    return None


def _locate(stems: Sequence[str], sentence: Sentence, allowed: Callable[[int], bool] = lambda i: True,
            ) -> tuple[int, ...] | None:
    """Where a phrase's words occur at allowed positions: in order with small gaps, or
    side by side in any order; a long phrase may miss one word."""
    variants = [tuple(stems)]
    if len(stems) >= LONG_PHRASE:
        variants += [tuple(stems[:i]) + tuple(stems[i + 1:]) for i in range(len(stems))]
    present = set(sentence.stems)
    for variant in variants:
        if set(variant) <= present:
            found = _ordered(variant, sentence, allowed) or (
                _adjacent(variant, sentence, allowed) if len(variant) > 1 else None)
            if found:
                return found
    return None


def phrase_match(stems: Sequence[str], sentence: Sentence) -> frozenset[int] | None:
    """Where a phrase occurs in a sentence, affirmed (not under a negation); None if not.
    A phrase that says a negation itself ("no random split") is affirmed by saying it."""
    if any(s in NEGATIONS for s in stems):
        found = _locate(stems, sentence)
    else:
        found = _locate(stems, sentence, lambda i: i not in sentence.negated)
    return frozenset(found) if found else None


def _span(positions: Iterable[int]) -> frozenset[int]:
    positions = list(positions)
    return frozenset(range(min(positions), max(positions) + 1))


@lru_cache(maxsize=8192)
def concept_words(sentence: Sentence, vocabulary: tuple[tuple[str, ...], ...]) -> frozenset[int]:
    """Positions inside any rubric phrase of the interview: the words of a concept's name
    ("review queue versus analyst capacity", "latency under 100 ms") are not a reason."""
    spans: set[int] = set()
    for stems in vocabulary:
        found = _locate(stems, sentence)
        if found:
            spans |= _span(found)
    return frozenset(spans)


def vocabulary_of(points: Iterable[RubricPoint]) -> tuple[tuple[str, ...], ...]:
    """The phrases of the key points given, whose words are never a reason. Run points'
    phrases are not in it: quoting the run's figure justifies a key point."""
    return tuple(dict.fromkeys(stems for p in points if p.group == "key" for stems in _alternatives(p)))


def _gives_reason(sentence: Sentence, vocabulary: tuple[tuple[str, ...], ...],
                  also: frozenset[int] = frozenset()) -> bool:
    return sentence.is_prose and sentence.reason_outside(concept_words(sentence, vocabulary) | also)


def _find(point: RubricPoint, parsed: list[Sentence], found_in: str, factor: float,
          vocabulary: tuple[tuple[str, ...], ...]) -> Found | None:
    """The best-credited sentence covering a point among one answer's sentences. A
    reason counts only outside the words of every rubric phrase, so "latency budget
    under 100 ms" does not justify itself with its own number."""
    best = None
    for i, sentence in enumerate(parsed):
        matches = [at for at in (phrase_match(stems, sentence) for stems in _alternatives(point)) if at is not None]
        if not matches:
            continue
        following = parsed[i + 1] if i + 1 < len(parsed) else None
        justified = _gives_reason(sentence, vocabulary, frozenset().union(*map(_span, matches))) or (
            sentence.is_prose and following is not None and following.continues
            and _gives_reason(following, vocabulary))
        credit = 1.0 if justified else NAMED_CREDIT if sentence.is_prose else FRAGMENT_CREDIT
        if best is None or credit * factor > best.credit:
            best = Found(credit * factor, sentence, justified, found_in)
        if credit == 1.0:
            return best
    return best


def find_point(point: RubricPoint, parsed: list[Sentence],
               elsewhere: Mapping[str, list[Sentence]] | None = None,
               vocabulary: tuple[tuple[str, ...], ...] = ()) -> Found | None:
    """Where a point is covered best: this answer, or another stage's at OTHER_STAGE_CREDIT."""
    vocabulary = vocabulary or vocabulary_of([point])
    best = _find(point, parsed, "", 1.0, vocabulary)
    for stage, other in (elsewhere or {}).items():
        if best is not None and best.credit >= OTHER_STAGE_CREDIT:
            break
        found = _find(point, other, stage, OTHER_STAGE_CREDIT, vocabulary)
        if found is not None and (best is None or found.credit > best.credit):
            best = found
    return best


def score_answer(answer: str, rubric: Iterable[RubricPoint], hinted: Iterable[str] = (),
                 elsewhere: Mapping[str, str] | None = None,
                 vocabulary: tuple[tuple[str, ...], ...] = ()) -> Score:
    """Score one answer. `hinted` names the points revealed as hints before it;
    `elsewhere` maps the interview's other stages to their answers, where a point
    earns OTHER_STAGE_CREDIT; `vocabulary` is every rubric phrase of the interview
    (vocabulary_of), whose words never count as a reason (default: this rubric's)."""
    answer = answer or ""
    rubric = list(rubric)
    vocabulary = vocabulary or vocabulary_of(rubric)
    parsed = sentences(answer)
    other = {stage: sentences(text) for stage, text in (elsewhere or {}).items() if text}
    hinted = set(hinted)
    results = []
    for point in rubric:
        found = find_point(point, parsed, other, vocabulary)
        credit = found.credit * (HINT_CREDIT if point.point in hinted else 1.0) if found else 0.0
        results.append(PointResult(
            point.point, point.weight, point.why, point.group, credit,
            _shorten(found.sentence.text) if found else "", bool(found and found.sentence.is_prose),
            bool(found and found.justified), found.found_in if found else "", point.point in hinted))
    n_words = len(words(answer))
    n_covered = sum(r.covered and not r.found_in for r in results)
    elaboration = min(1.0, n_words / (WORDS_PER_POINT * n_covered)) if n_covered else 1.0
    key_total = sum(r.weight for r in results if r.group == "key")
    earned = sum(r.weight * r.credit for r in results) * elaboration
    score = min(100, round(100 * earned / (FULL_MARKS_SHARE * key_total))) if key_total else 0
    return Score(score, tuple(results), n_words, round(elaboration, 2))


def next_hint(answer_so_far: str, rubric: Sequence[RubricPoint], already: Iterable[str]) -> RubricPoint | None:
    """The heaviest key point the answer has not covered yet and no hint has revealed."""
    parsed = sentences(answer_so_far)
    already = set(already)
    open_points = [p for p in rubric if p.group == "key" and p.point not in already and find_point(p, parsed) is None]
    return max(open_points, key=lambda p: p.weight, default=None)


def _shorten(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def score_interview(answers: Mapping[str, str], rubrics: Mapping[str, Sequence[RubricPoint]]) -> dict[str, Score]:
    """Each stage's answer scored with the others as `elsewhere`: the whole answer counts."""
    vocabulary = vocabulary_of(p for rubric in rubrics.values() for p in rubric)
    return {stage: score_answer(text, rubrics[stage], elsewhere={s: t for s, t in answers.items() if s != stage},
                                vocabulary=vocabulary)
            for stage, text in answers.items() if stage in rubrics}
