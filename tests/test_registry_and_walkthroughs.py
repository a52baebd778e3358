"""The registry: ten designs with complete metadata, and for each runnable design a
valid config at every scale and a walkthrough that parses."""

from __future__ import annotations

import dataclasses

import pytest

from mlsd import walkthrough_reader
from mlsd.config import build_config
from mlsd.registry import PATTERNS, SCALES, STAGES, all_designs

DESIGNS = all_designs()


def test_ten_designs_in_order_with_unique_slugs():
    assert [d.order for d in DESIGNS] == list(range(1, 11))
    assert len({d.slug for d in DESIGNS}) == 10


@pytest.mark.parametrize("design", DESIGNS, ids=lambda d: d.slug)
def test_metadata_is_complete(design):
    assert design.title and design.difficulty in ("easy", "medium", "hard")
    assert design.latency_budget_ms > 0 and design.latency_budget_text
    assert design.primary_metrics and design.key_concepts and design.patterns
    assert set(design.patterns) <= set(PATTERNS)
    earlier = {d.slug for d in DESIGNS if d.order < design.order}
    assert set(design.prerequisites) <= earlier, "prerequisites come earlier in the learning order"


@pytest.mark.parametrize("design", [d for d in DESIGNS if d.executable], ids=lambda d: d.slug)
def test_runnable_designs_have_configs_for_every_scale_and_a_walkthrough(design):
    assert dataclasses.is_dataclass(design.config)
    for scale in SCALES:
        build_config(design.config, design.scales.get(scale, {}), {})
    doc = walkthrough_reader.load(design.slug)
    assert set(doc.stages) == set(STAGES)
    for stage in doc.stages.values():
        assert stage.questions and stage.answer and stage.mistake
        assert all(p.why and p.weight > 0 for p in stage.rubric)
        key = [p for p in stage.rubric if p.group == "key"]
        run = [p for p in stage.rubric if p.group == "run"]
        assert len(key) >= 5 and len(run) >= 2, f"{stage.stage}: key points and run points (docs/scoring.md)"
        assert sum(p.weight for p in run) < sum(p.weight for p in key) / 2, "the run group is the smaller one"
        assert len(stage.followups) >= 2 and all(f.rubric for f in stage.followups)


# Words too common to stand alone for a concept: "cut" in a recipe, "error" in "errors".
GENERIC_WORDS = frozenset("""
cut error errors time data model models cost costs rate rates latency drift alert alerts alarm split
feature features label labels metric metrics monitor monitoring fast quality accuracy precision recall
score scores test tests train training serve serving cache batch index query queries user users
speed scale size noise new check checks log logs value values window windows
""".split())


@pytest.mark.parametrize("slug", walkthrough_reader.available())
def test_no_rubric_phrase_is_one_common_word(slug):
    doc = walkthrough_reader.load(slug)
    points = [p for s in doc.stages.values() for p in (*s.rubric, *(r for f in s.followups for r in f.rubric))]
    generic = sorted({phrase for p in points for phrase in (p.point, *p.synonyms)
                      if phrase.strip().lower() in GENERIC_WORDS})
    assert not generic, f"{slug}: one-word phrases too common to mean a concept: {generic}"


def test_every_walkthrough_file_belongs_to_a_design():
    assert set(walkthrough_reader.available()) <= {d.slug for d in DESIGNS}


def test_a_malformed_walkthrough_names_the_problem():
    with pytest.raises(ValueError, match="not a stage"):
        walkthrough_reader.parse("x", "# T\n\nintro\n\n## Deployment\n\n### Interviewer asks\n- q\n")
    with pytest.raises(ValueError, match="missing stage sections"):
        walkthrough_reader.parse("x", "# T\n\nintro\n")
