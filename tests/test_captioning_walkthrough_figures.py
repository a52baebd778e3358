"""The captioning walkthrough quotes figures from `mlsd run captioning` at default
scale, seed 0. This runs it (about 50 s, hence `slow`: `make test-all` runs it) and
checks every quoted quality figure is the one printed. Timings are not checked.
Training on a different CPU can move the trained model's figures slightly; if this
fails on a new machine while the fast suite passes, re-quote the walkthrough."""

from __future__ import annotations

import pytest

from mlsd import walkthrough_reader
from mlsd.registry import get_design
from mlsd.runner import run_design


@pytest.mark.slow
def test_walkthrough_quotes_the_default_run():
    run = run_design(get_design("captioning"), scale="default", seed=0)
    text = walkthrough_reader.load("captioning").to_markdown()

    def m(stage, name):
        return run.stage(stage).metric(name)

    def rows(stage, title):
        table = next(t for t in run.stage(stage).tables if t.title.startswith(title))
        return {r[0]: r for r in table.rows}

    test = rows("model", "Test set")
    judgement = rows("problem", "BLEU against judgement")
    recovery, f1 = m("monitoring", "recovery_bleu"), m("monitoring", "object_f1")
    quoted = [
        f"{m('problem', 'rows').value:,.0f}",
        f"{m('problem', 'bleu').value:.1f}", f"{m('problem', 'bleu').oracle:.1f}",
        f"{judgement['a reference with one colour swapped (false)'][1]:.1f}",
        f"{judgement['a correct caption in other words (human)'][1]:.1f}",
        f"{m('data', 'validation_issues').value:.0f}",
        f"{m('data', 'leakage_share').baseline:.0%}",
        f"**{m('model', 'bleu').value:.1f}**", f"**{m('model', 'bleu').baseline:.1f}**",
        f"**{m('model', 'bleu').oracle:.1f}**",
        f"**{m('model', 'bleu').ci_low:.1f} and {m('model', 'bleu').ci_high:.1f}**",
        f"between {m('model', 'bleu').vs_baseline_low:.1f} and {m('model', 'bleu').vs_baseline_high:.1f}",
        f"{test['captioner, greedy'][1]:.1f}", f"{test['captioner, beam 3'][1]:.1f}",
        f"{m('model', 'cider').value:.3f}", f"{m('model', 'cider').baseline:.3f}", f"{m('model', 'cider').oracle:.3f}",
        f"{m('model', 'object_f1').value:.2f}", f"{test['captioner, greedy'][3]:.3f}",
        f"{m('serving', 'cache_hit_rate').value:.0%}",
        f"day {m('monitoring', 'drift_alarm_day').value:.0f}", f"day {m('monitoring', 'label_alarm_day').value:.0f}",
        f"**{recovery.value:.1f}**", f"**{recovery.baseline:.1f}**", f"{m('monitoring', 'pre_incident_level').value:.1f}",
        f"{f1.value:.2f}", f"{f1.baseline:.2f}",
    ]
    missing = [q for q in quoted if q not in text]
    assert not missing, f"walkthroughs/captioning.md no longer quotes the run: {missing}"
