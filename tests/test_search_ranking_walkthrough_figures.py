"""The search-ranking walkthrough quotes figures from `mlsd run search-ranking` at
default scale, seed 0. This runs it (about 35 s, hence `slow`: `make test-all` runs it)
and checks the quoted quality figures are the ones printed. Timings are not checked."""

from __future__ import annotations

import pytest

from mlsd import walkthrough_reader
from mlsd.registry import get_design
from mlsd.runner import run_design


@pytest.mark.slow
def test_walkthrough_quotes_the_default_run():
    run = run_design(get_design("search-ranking"), scale="default", seed=0)
    text = walkthrough_reader.load("search-ranking").to_markdown()

    def table(stage, title):
        found = next(t for t in run.stage(stage).tables if t.title.startswith(title))
        return {str(r[0]): r for r in found.rows}

    ndcg = table("model", "NDCG@10 and MRR")
    cuts = table("serving", "Latency per cascade stage")
    m = run.stage("monitoring")
    quoted = [f"{ndcg[name][1]:.4f}" for name in ndcg if not name.startswith("oracle: every")]
    quoted += [f"**{ndcg[name][1]:.4f}**" for name in ("BM25", "hybrid (reciprocal rank fusion)",
                                                        "LambdaMART, judged labels")]
    quoted += [f"{row[-1]:.3f}" for row in cuts.values() if row[-1] != ""]  # the floor row has no NDCG
    quoted += [f"day {m.metric('drift_alarm_day').value:.0f}", f"day {m.metric('label_alarm_day').value:.0f}",
               f"{run.stage('data').metric('accuracy').value:.1%}",
               f"{run.stage('data').metric('accuracy').baseline:.1%}"]
    ndcg_metric = run.stage("model").metric("ndcg_at_10")
    quoted += [f"{ndcg_metric.ci_low:.3f}-{ndcg_metric.ci_high:.3f}",
               f"{ndcg_metric.vs_baseline_low:.3f}-{ndcg_metric.vs_baseline_high:.3f}"]
    missing = [q for q in quoted if q not in text]
    assert not missing, f"walkthroughs/search-ranking.md no longer quotes the run: {missing}"
