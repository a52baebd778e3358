"""The calibration set for practice scoring: answers in several voices per design.

Written voices live in tests/calibration/<design>.yaml, written by people who had not
read the walkthrough (strong, a second strong, mediocre, a second mediocre, a keyword
list, a bulleted keyword list, off-topic); the rubrics were revised while looking at
their scores. tests/calibration/heldout/<design>.yaml holds a third strong and mediocre
answer, written after the rubrics and never used to revise them: the honest measure of
how the scorer does on answers its authors never saw (docs/scoring.md has the figures). Three more are derived here from the strong
answer or the rubric, the ways a scorer is usually gamed: every sentence negated, the
words of every sentence shuffled, and one filler sentence per rubric point.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import yaml

from mlsd.practice.text import sentences as split_sentences
from mlsd.registry import STAGE_MINUTES, STAGES
from mlsd.walkthrough_reader import Walkthrough

FOLDER = Path(__file__).parent / "calibration"
WRITTEN = ("strong", "strong_second", "strong_heldout", "mediocre", "mediocre_second", "mediocre_heldout",
           "keywords", "keywords_bullets", "off_topic")
DERIVED = ("negated", "shuffled", "filler", "reference")


def designs() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.yaml"))


def written(design: str) -> dict[str, dict[str, str]]:
    out = yaml.safe_load((FOLDER / f"{design}.yaml").read_text(encoding="utf-8"))
    heldout = FOLDER / "heldout" / f"{design}.yaml"
    if heldout.exists():
        out |= {f"{voice}_heldout": answers
                for voice, answers in yaml.safe_load(heldout.read_text(encoding="utf-8")).items()}
    return out


def negated(answer: str) -> str:
    """Every sentence denied as a whole."""
    return " ".join(f"We would NOT do this and it is false that {s.text[0].lower()}{s.text[1:]}."
                    for s in split_sentences(answer))


def shuffled(answer: str, seed: int = 0) -> str:
    """The words of every sentence in random order."""
    rng = random.Random(seed)
    out = []
    for s in split_sentences(answer):
        tokens = re.findall(r"\S+", s.text)
        rng.shuffle(tokens)
        out.append(" ".join(tokens) + ".")
    return " ".join(out)


def filler(walkthrough: Walkthrough, stage: str) -> str:
    """One empty sentence per key rubric point, naming it."""
    return " ".join(f"We would think about {p.point} here." for p in walkthrough.stages[stage].rubric
                    if p.group == "key")


def voices(design: str, walkthrough: Walkthrough) -> dict[str, dict[str, str]]:
    """Every voice of a design: stage -> answer text."""
    out = written(design)
    out["negated"] = {s: negated(t) for s, t in out["strong"].items()}
    out["shuffled"] = {s: shuffled(t) for s, t in out["strong"].items()}
    out["filler"] = {s: filler(walkthrough, s) for s in STAGES}
    out["reference"] = {s: walkthrough.stages[s].answer for s in STAGES}
    return out


def overall(stage_scores: dict[str, int]) -> int:
    """The session's overall score: stages weighted by their minutes, as `mlsd practice` does."""
    weight = sum(STAGE_MINUTES[s] for s in stage_scores)
    return round(sum(stage_scores[s] * STAGE_MINUTES[s] for s in stage_scores) / weight)
