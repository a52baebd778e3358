"""Reference walkthroughs: one Markdown document per design, parsed as data.

Layout of walkthroughs/<slug>.md: a `# Title` and an introduction, then one `## Stage`
section per stage (Problem, Data, Model, Serving, Monitoring), each with `###` parts:
Interviewer asks (a bullet list), Reference answer (Markdown), Rubric (a ```yaml
mapping: `points`, the key points an interviewer expects, and `run`, the smaller group
for quoting what this design's run shows; each a list of {point, synonyms, weight,
why}), Follow-ups (a ```yaml list of {question, answer, rubric}), Common mistake.
YAML is read with safe_load, never evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources

import yaml

from mlsd.errors import UsageError
from mlsd.registry import STAGES

_FENCE = re.compile(r"```ya?ml\s*\n(.*?)```", re.S)


@dataclass(frozen=True)
class RubricPoint:
    point: str
    synonyms: tuple[str, ...]
    weight: float
    why: str
    group: str = "key"       # "key": what an interviewer expects; "run": quoting this run's figures


@dataclass(frozen=True)
class FollowUp:
    question: str
    answer: str
    rubric: tuple[RubricPoint, ...]


@dataclass
class StageWalkthrough:
    stage: str
    questions: list[str]
    answer: str
    rubric: list[RubricPoint]
    followups: list[FollowUp]
    mistake: str


@dataclass
class Walkthrough:
    slug: str
    title: str
    intro: str
    stages: dict[str, StageWalkthrough] = field(default_factory=dict)

    def to_markdown(self, stage: str | None = None) -> str:
        """The document for reading: rubric and follow-ups as lists instead of YAML."""
        out = [f"# {self.title}", ""]
        if stage is None:
            out += [self.intro, ""]
        for name in ([stage] if stage else STAGES):
            s = self.stages[name]
            out += [f"## {name.capitalize()}", "", "### Interviewer asks", ""]
            out += [f"- {q}" for q in s.questions]
            out += ["", "### Reference answer", "", s.answer, "", "### Rubric key points", ""]
            out += [f"- **{p.point}** — {p.why}" + (f" *(also: {', '.join(p.synonyms)})*" if p.synonyms else "")
                    for p in s.rubric if p.group == "key"]
            run_points = [p for p in s.rubric if p.group == "run"]
            if run_points:
                out += ["", "What this run shows (extra credit for quoting it):", ""]
                out += [f"- **{p.point}** — {p.why}" for p in run_points]
            out += ["", "### Follow-ups", ""]
            for f in s.followups:
                out += [f"**Q: {f.question}**", "", f.answer, ""]
            out += ["### Common mistake", "", s.mistake, ""]
        return "\n".join(out)


def available() -> list[str]:
    """Slugs of the designs whose walkthrough is written, in learning order."""
    from mlsd.registry import all_designs

    folder = resources.files("mlsd.walkthroughs")
    written = {p.name[:-3] for p in folder.iterdir() if p.name.endswith(".md")}
    return [d.slug for d in all_designs() if d.slug in written]


def load(slug: str) -> Walkthrough:
    """The parsed walkthrough of a design; a usage error when it is not written yet."""
    path = resources.files("mlsd.walkthroughs").joinpath(f"{slug}.md")
    if not path.is_file():
        have = ", ".join(available()) or "none yet"
        raise UsageError(f"the walkthrough for '{slug}' is not written yet. Available: {have}.")
    return parse(slug, path.read_text(encoding="utf-8"))


def parse(slug: str, text: str) -> Walkthrough:
    """Parse the Markdown layout above; a malformed document names what is wrong."""
    head, *sections = re.split(r"^## ", text, flags=re.M)
    title_match = re.match(r"#\s+(.+)", head.strip())
    if not title_match:
        raise ValueError(f"{slug}.md: must start with '# Title'")
    walkthrough = Walkthrough(slug, title_match.group(1).strip(), head.strip()[title_match.end():].strip())
    for section in sections:
        heading, _, body = section.partition("\n")
        stage = heading.strip().lower()
        if stage not in STAGES:
            raise ValueError(f"{slug}.md: section '## {heading.strip()}' is not a stage ({', '.join(STAGES)})")
        parts = _parts(body)
        try:
            walkthrough.stages[stage] = StageWalkthrough(
                stage=stage,
                questions=[q[2:].strip() for q in parts["interviewer asks"].splitlines() if q.startswith("- ")],
                answer=parts["reference answer"],
                rubric=_stage_rubric(_yaml(parts["rubric"], slug, stage), slug, stage),
                followups=[FollowUp(f["question"], f["answer"], tuple(_rubric(f.get("rubric", []))))
                           for f in _yaml(parts["follow-ups"], slug, stage)],
                mistake=parts["common mistake"],
            )
        except KeyError as exc:
            raise ValueError(f"{slug}.md, {stage}: missing part or field {exc}") from None
    missing = [s for s in STAGES if s not in walkthrough.stages]
    if missing:
        raise ValueError(f"{slug}.md: missing stage sections: {', '.join(missing)}")
    return walkthrough


def _parts(body: str) -> dict[str, str]:
    parts = {}
    for chunk in re.split(r"^### ", body, flags=re.M)[1:]:
        heading, _, text = chunk.partition("\n")
        parts[heading.strip().lower()] = text.strip()
    return parts


def _yaml(text: str, slug: str, stage: str) -> list:
    match = _FENCE.search(text)
    if not match:
        raise ValueError(f"{slug}.md, {stage}: expected a ```yaml block")
    data = yaml.safe_load(match.group(1))
    if not isinstance(data, list | dict):
        raise ValueError(f"{slug}.md, {stage}: the yaml block must be a list or a mapping")
    return data


def _stage_rubric(data: list | dict, slug: str, stage: str) -> list[RubricPoint]:
    """A stage's rubric: {points: [...], run: [...]}; a bare list is all key points."""
    if isinstance(data, list):
        return _rubric(data)
    unknown = set(data) - {"points", "run"}
    if unknown or "points" not in data:
        raise ValueError(f"{slug}.md, {stage}: the rubric maps 'points' (and optionally 'run') to lists")
    return _rubric(data["points"]) + _rubric(data.get("run") or [], group="run")


def _rubric(entries: list, group: str = "key") -> list[RubricPoint]:
    return [RubricPoint(e["point"], tuple(e.get("synonyms", ())), float(e.get("weight", 1)), e["why"], group)
            for e in entries]
