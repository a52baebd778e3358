"""The walkthrough quotes figures from `mlsd run fraud` at default scale, seed 0. This
runs that (about 15 s) and checks every quoted quality figure is the one printed, so
the text cannot drift from the code. Timings are not checked: they vary by machine."""

from __future__ import annotations

from mlsd import walkthrough_reader
from mlsd.registry import get_design
from mlsd.runner import run_design


def test_walkthrough_quotes_the_default_run():
    run = run_design(get_design("fraud"), scale="default", seed=0)
    text = walkthrough_reader.load("fraud").to_markdown()

    def m(stage, name):
        return run.stage(stage).metric(name)

    def table_row(stage, title, first_cell):
        table = next(t for t in run.stage(stage).tables if t.title.startswith(title))
        return next(r for r in table.rows if r[0] == first_cell)

    model = {name: m("model", name) for name in ("pr_auc", "roc_auc", "expected_cost", "recall_at_threshold",
                                                  "precision_at_threshold")}
    recovery = m("monitoring", "recovery_pr_auc")
    amount_aware = table_row("model", "Decision policies", "model, amount-aware (Bayes rule on its P)")
    always_approve = table_row("model", "Decision policies", "always approve")
    quoted = [
        f"{m('problem', 'rows').value:,.0f}",
        f"{m('problem', 'positive_rate').value:.2%}",
        f"{m('problem', 'accuracy').value:.2%}",
        f"${m('problem', 'expected_cost').value:,.0f}",
        f"{m('data', 'validation_issues').value:.0f}",
        f"**{model['pr_auc'].value:.3f}**", f"**{model['pr_auc'].baseline:.3f}**", f"**{model['pr_auc'].oracle:.3f}**",
        f"recall {model['recall_at_threshold'].value:.2f} at precision {model['precision_at_threshold'].value:.2f}",
        f"ROC-AUC is {model['roc_auc'].value:.3f}", f"oracle's {model['roc_auc'].oracle:.3f}",
        f"**{model['pr_auc'].ci_low:.2f} and {model['pr_auc'].ci_high:.2f}**",
        f"between {model['pr_auc'].vs_baseline_low:.2f} and {model['pr_auc'].vs_baseline_high:.2f}",
        f"**${model['expected_cost'].value:,.0f}**", f"**${model['expected_cost'].baseline:,.0f}**",
        f"${model['expected_cost'].oracle:,.0f}", f"${amount_aware[4]:,}", f"**${always_approve[4]:,}**",
        f"**day {m('monitoring', 'label_alarm_day').value:.0f}**",
        f"On day {m('monitoring', 'drift_alarm_day').value:.0f}",
        f"**{table_row('monitoring', 'Daily monitoring', int(m('monitoring', 'drift_alarm_day').value))[1].split()[0]}**",
        f"**{recovery.baseline:.3f}**", f"**{recovery.value:.3f}**", f"(oracle {recovery.oracle:.3f})",
        f"peak {m('monitoring', 'review_queue_peak').value:.0f} a day",
    ]
    missing = [q for q in quoted if q not in text]
    assert not missing, f"walkthroughs/fraud.md no longer quotes the run: {missing}"
