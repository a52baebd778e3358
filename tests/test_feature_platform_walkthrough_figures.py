"""The feature-platform walkthrough quotes figures from `mlsd run feature-platform` at
default scale, seed 0. The run takes about 15 s, so this runs in the default suite and
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

    def value(stage, name):
        return run.stage(stage).metric(name).value

    auc = table("model", "Same model, two training sets")
    model_auc = run.stage("model").metric("roc_auc")
    leak = table("model", "Where the leak is")
    fresher = list(table("model", "AUC against feature freshness").values())
    freshness = table("serving", "Freshness: event to readable value")
    skew = table("monitoring", "Train/serve skew check")
    caught = next(r for name, r in skew.items() if name.startswith("bug"))[2]
    days = table("monitoring", "Day by day")
    quoted = [
        f"{value('data', 'rows'):,.0f}", f"{value('data', 'events_dropped_late'):,.0f}",
        f"{auc['point-in-time'][1]:.4f}", f"**{auc['naive daily snapshot'][1]:.4f}**",
        f"**{auc['naive daily snapshot'][2]:.4f}**", f"{model_auc.baseline:.4f}", f"{model_auc.oracle:.4f}",
        f"{model_auc.ci_low:.3f}-{model_auc.ci_high:.3f}",
        f"{model_auc.vs_baseline_low:.3f}-{model_auc.vs_baseline_high:.3f}",
        f"{leak['naive daily snapshot'][1]:.3f}", f"{leak['naive daily snapshot'][2]:.3f}",
        f"{fresher[0][1]:.4f}", f"{fresher[-1][1]:.4f}",
        f"**{freshness['p50, delivered events'][1].removesuffix(' s')}**",
        f"**{freshness['p99, delivered events'][1].removesuffix(' s')}**",
        f"{value('serving', 'fresh_within_slo_share'):.2%}",
        freshness["dropped behind the watermark (never readable)"][1],
        f"**{caught} of 500**", f"day {value('monitoring', 'drift_alarm_day'):.0f}",
        f"day {value('monitoring', 'null_rate_alarm_day'):.0f}",
        f"day {value('monitoring', 'freshness_alarm_day'):.0f}",
        f"falls to {days['13'][3]}",
    ]
    missing = [q for q in quoted if q not in text]
    assert not missing, f"walkthroughs/feature-platform.md no longer quotes the run: {missing}"
