"""The feature-platform walkthrough quotes figures from `mlsd run feature-platform` at
default scale, seed 0. The run takes about 6 s, so this runs in the default suite and
keeps the text from drifting from the code. Timings are not checked."""

from __future__ import annotations

from mlsd import walkthrough_reader
from mlsd.registry import get_design
from mlsd.runner import run_design


def test_walkthrough_quotes_the_default_run():
    run = run_design(get_design("feature-platform"), scale="default", seed=0)
    text = walkthrough_reader.load("feature-platform").to_markdown()

    def table(stage, title):
        found = next(t for t in run.stage(stage).tables if t.title.startswith(title))
        return {str(r[0]): r for r in found.rows}

    data = {m.name: m.value for m in run.stage("data").metrics}
    auc = table("model", "Same model, two training sets")
    model_auc = run.stage("model").metric("roc_auc")
    baseline = model_auc.baseline
    skew = table("monitoring", "Train/serve skew check")
    caught = next(r for name, r in skew.items() if name.startswith("bug"))[2]
    m = {x.name: x.value for x in run.stage("monitoring").metrics}
    quoted = [
        f"{data['rows']:,.0f}",
        f"{data['validation_issues']:,.0f}",
        f"{auc['point-in-time'][1]:.4f}", f"**{auc['naive latest value'][1]:.4f}**",
        f"**{auc['naive latest value'][2]:.4f}**", f"{baseline:.4f}",
        f"{caught}", f"day {m['drift_alarm_day']:.0f}", f"day {m['label_alarm_day']:.0f}",
        f"day {m['confidence_alarm_day']:.0f}",
        f"{model_auc.ci_low:.3f}-{model_auc.ci_high:.3f}",
        f"{model_auc.vs_baseline_low:.3f}-{model_auc.vs_baseline_high:.3f}",
    ]
    missing = [q for q in quoted if q not in text]
    assert not missing, f"walkthroughs/feature-platform.md no longer quotes the run: {missing}"
