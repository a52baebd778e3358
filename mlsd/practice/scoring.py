"""Scoring an answer against a rubric: offline, deterministic, explainable.

Each rubric point is a phrase plus synonyms. Both the answer and the phrases go
through the same normalisation (case, accents, punctuation, British spellings,
"99th percentile" -> "p99", "area under the precision-recall curve" -> "prauc", light
stemming of plurals and -ed/-ing), then a phrase matches a sentence of the answer when
the sentence holds its content words (all of them for short phrases, three in four for
long ones), in any order.

Naming a concept is not explaining it, so two rules keep a keyword list from scoring
like an answer. A point found only in a fragment (a bullet of nouns, a comma list)
earns FRAGMENT_CREDIT of its weight; one found in a real sentence earns all of it.
And an answer that spends fewer than WORDS_PER_POINT words per point it covers has
its score scaled down in proportion. A point the user asked a hint for earns
HINT_CREDIT of its credit. The score is the earned weight over the total weight,
0-100. docs/scoring.md says what this can and cannot judge.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from mlsd.walkthrough_reader import RubricPoint

FRAGMENT_CREDIT = 0.4
HINT_CREDIT = 0.5
WORDS_PER_POINT = 10
# A clause is prose when it has at least this many words, of which at least
# PROSE_MIN_FUNCTION_WORDS are function words ("the", "because", "we", ...); a
# sentence of LIST_MIN_ITEMS or more comma-separated items, most of them not clauses,
# is a list.
PROSE_MIN_WORDS = 6
PROSE_MIN_FUNCTION_WORDS = 2
LIST_MIN_ITEMS = 4
WRAPPED_LINE_CHARS = 60

FUNCTION_WORDS = frozenset("""
a an the is are was were be been being am do does did to of for and or but nor so
because since as if then than that this these those which who whom whose what when
where why how while until before after into onto from with without within by on in
at it its we our us i my me you your they their them he she his her not no can could
will would should must may might shall each every per any all some both either more
most less least very also just only about over under between through there here
""".split())

# Canonical spellings, applied in order to lower-cased text (both sides).
_CANONICAL: tuple[tuple[str, str], ...] = (
    (r"(?<=\d),(?=\d{3}\b)", ""),                                   # 1,000 -> 1000
    (r"\b(\d{2,3})(?:st|nd|rd|th)[ -]?percentile", r"p\1"),         # 99th percentile -> p99
    (r"\bpercentile[ -]?(\d{2,3})\b", r"p\1"),
    (r"\bp[ -](\d{2,3})\b", r"p\1"),                                 # p 99, p-99 -> p99
    (r"\bmean average precision\b", "map"),
    (r"\barea under (?:the )?(?:precision[ -]recall|pr) curve\b", "prauc"),
    (r"\b(?:precision[ -]recall|pr)[ -]?auc\b|\bau[ -]?prc?\b|\baverage precision\b", "prauc"),
    (r"\barea under (?:the )?(?:roc|receiver operating characteristic) curve\b", "rocauc"),
    (r"\broc[ -]?auc\b|\bauc[ -]?roc\b|\bauroc\b", "rocauc"),
    (r"(\d)\s*(?:ms|msec|millisecond|milliseconds)\b", r"\1 ms"),   # 100ms -> 100 ms
    (r"\bmilliseconds?\b", "ms"),
    (r"(\d)\s*(?:x|times)\b", r"\1x"),                               # 10 times -> 10x
    (r"\bten ?x\b|\bten times\b", "10x"),
    (r"\ba\s*/\s*b\b", "ab"),
    (r"\bqueries per second\b|\bquery per second\b", "qps"),
    (r"\brequests per second\b", "rps"),
    (r"\btransactions per second\b", "tps"),
    (r"\b(real|on|off|near)[ -](time|line)\b", r"\1\2"),
    (r"\b(data|time|look|work|down|up)[ -](set|stamp|ahead|load|sample|sampling|sampled)\b", r"\1\2"),
    (r"\b(re|pre|co|non|de|un|multi|sub|post)-(?=[a-z])", r"\1"),   # re-rank -> rerank
    (r"\b(fall|roll|look|back|warm|shut|cool)[ -](back|up|down|fill|off)s?\b", r"\1\2"),  # fall back -> fallback
    (r"isation", "ization"),
    (r"\b(authori|normali|optimi|recogni|summari|categori|prioriti|regulari|tokeni|materiali|"
     r"initiali|randomi|personali|utili|minimi|maximi|standardi|characteri|generali|visuali|"
     r"penali|quanti|parallel|seriali|vectori|customi|memori)s(e|ed|es|er|ers|ing)\b", r"\1z\2"),
    (r"\banaly[sz](e|ed|es|ing)\b", r"analyz\1"),
    (r"\b(behavi|col|neighb|fav|lab|hon)our", r"\1or"),
    (r"\b(label|model|cancel|travel|signal|channel|level|fuel)l(ed|ing|er)\b", r"\1\2"),
    (r"\b(cent|met|lit)re\b", r"\1er"),
    (r"\bcatalogue\b", "catalog"),
)
_CANONICAL_RE = tuple((re.compile(pattern), repl) for pattern, repl in _CANONICAL)
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_PARENTHESES = re.compile(r"\([^()]*\)")
_CONJUNCTIONS = frozenset({"and", "or", "then", "but", "so", "plus", "while"})
_BULLET = re.compile(r"\s*([-*•>]|\d+[.)])\s")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|[;\n]+|:\s+|\s+[-–—]\s+")


def canonical(text: str) -> str:
    """Lower-case ASCII text with the spellings above made uniform."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    for pattern, repl in _CANONICAL_RE:
        text = pattern.sub(repl, text)
    return text


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A light stemmer: plurals and -ed/-ing, so 'labels', 'labelled' and 'labeling' meet.
    Only what both sides share matters, so over-stemming is harmless when consistent."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch"), ("shes", "sh")):
        if word.endswith(suffix):
            return word[: -len(suffix)] + replacement
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # batting -> bat, embedded -> embed
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # share / shared / sharing -> shar
    return word


def words(text: str) -> list[str]:
    return _WORD.findall(canonical(text))


def content_stems(phrase: str) -> tuple[str, ...]:
    """The words of a phrase that carry meaning, stemmed, without repeats."""
    seen: dict[str, None] = {}
    for w in words(phrase):
        if w not in FUNCTION_WORDS:
            seen.setdefault(stem(w), None)
    return tuple(seen)


@dataclass(frozen=True)
class Sentence:
    text: str                 # as the user wrote it, for showing evidence
    stems: frozenset[str]
    is_prose: bool


def is_clause(tokens: Sequence[str]) -> bool:
    function_words = sum(t in FUNCTION_WORDS for t in tokens)
    return len(tokens) >= PROSE_MIN_WORDS and function_words >= PROSE_MIN_FUNCTION_WORDS


def is_prose(text: str) -> bool:
    """A sentence, not a fragment: long enough, with function words, and not a
    keyword dump. A dump is LIST_MIN_ITEMS or more comma-separated items (outside
    parentheses), mostly not clauses, none joined by 'and'/'or' as prose lists are."""
    if not is_clause(words(text)):
        return False
    items = [words(item) for item in _PARENTHESES.sub("", text).split(",")]
    items = [item for item in items if item]
    if len(items) < LIST_MIN_ITEMS or any(item[0] in _CONJUNCTIONS for item in items[1:]):
        return True
    return 2 * sum(is_clause(item) for item in items) >= len(items)


def unwrap(answer: str) -> str:
    """Join hard-wrapped lines back into their sentence: a line continues the one
    before when that one is long (WRAPPED_LINE_CHARS or more), does not end a
    sentence, and the line is not a new bullet."""
    lines: list[str] = []
    for line in answer.splitlines():
        previous = lines[-1].rstrip() if lines else ""
        if (len(previous) >= WRAPPED_LINE_CHARS and previous[-1] not in ".!?:;"
                and line.strip() and not _BULLET.match(line)):
            lines[-1] = previous + " " + line.strip()
        else:
            lines.append(line)
    return "\n".join(lines)


def sentences(answer: str) -> list[Sentence]:
    """Split an answer into sentences (sentence ends, semicolons, colons, lines,
    bullets) and judge each: prose, or a fragment such as a keyword list."""
    result = []
    for raw in _SENTENCE_END.split(unwrap(answer)):
        text = raw.strip(" \t-*•>#")
        tokens = words(text)
        if tokens:
            result.append(Sentence(text, frozenset(stem(t) for t in tokens), is_prose(text)))
    return result


def phrase_matches(stems: Sequence[str], sentence: Sentence) -> bool:
    """All content words of a short phrase, or three in four of a long one."""
    if not stems:
        return False
    needed = len(stems) if len(stems) <= 3 else max(3, math.ceil(0.75 * len(stems)))
    return sum(s in sentence.stems for s in stems) >= needed


@dataclass(frozen=True)
class PointResult:
    point: str
    weight: float
    why: str
    credit: float        # 0 (missed) to 1 (explained in a sentence, no hint)
    evidence: str        # the sentence that covered it, as written
    in_prose: bool
    hinted: bool

    @property
    def covered(self) -> bool:
        return self.credit > 0

    def to_dict(self) -> dict:
        data = {"point": self.point, "weight": self.weight}
        if self.covered:
            data |= {"credit": round(self.credit, 2), "evidence": self.evidence,
                     "in_prose": self.in_prose, "hinted": self.hinted}
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
        return [p for p in self.points if not p.covered]


def find_point(point: RubricPoint, parsed: list[Sentence]) -> Sentence | None:
    """The best sentence covering a point: a prose sentence when there is one."""
    phrases = [content_stems(p) for p in (point.point, *point.synonyms)]
    best = None
    for sentence in parsed:
        if any(phrase_matches(stems, sentence) for stems in phrases):
            if sentence.is_prose:
                return sentence
            best = best or sentence
    return best


def score_answer(answer: str, rubric: Iterable[RubricPoint], hinted: Iterable[str] = ()) -> Score:
    """Score one answer; `hinted` names the points revealed as hints before it."""
    answer = answer or ""
    parsed = sentences(answer)
    hinted = set(hinted)
    results = []
    for point in rubric:
        found = find_point(point, parsed)
        credit = 0.0
        if found is not None:
            credit = (1.0 if found.is_prose else FRAGMENT_CREDIT) * (HINT_CREDIT if point.point in hinted else 1.0)
        results.append(PointResult(point.point, point.weight, point.why, credit,
                                   _shorten(found.text) if found else "", bool(found and found.is_prose),
                                   point.point in hinted))
    n_words = len(words(answer))
    n_covered = sum(r.covered for r in results)
    elaboration = min(1.0, n_words / (WORDS_PER_POINT * n_covered)) if n_covered else 1.0
    total = sum(r.weight for r in results)
    earned = sum(r.weight * r.credit for r in results) * elaboration
    return Score(round(100 * earned / total) if total else 0, tuple(results), n_words, round(elaboration, 2))


def next_hint(answer_so_far: str, rubric: Sequence[RubricPoint], already: Iterable[str]) -> RubricPoint | None:
    """The heaviest point the answer has not covered yet and no hint has revealed."""
    parsed = sentences(answer_so_far)
    already = set(already)
    open_points = [p for p in rubric if p.point not in already and find_point(p, parsed) is None]
    return max(open_points, key=lambda p: p.weight, default=None)


def _shorten(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
