"""`mlsd compare latency`: every runnable design's serving path against its budget."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from mlsd.cli.common import complete_scale, console, err_console, interactive

compare_app = typer.Typer(help="Compare the designs side by side.", no_args_is_help=True)


@compare_app.command("latency")
def latency(
    fresh: bool = typer.Option(False, "--fresh", help="Run every serving stage now instead of reading recorded runs."),
    scale: str = typer.Option("default", "--scale", autocompletion=complete_scale,
                              help="Compare runs at this scale (tiny, default, large)."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Serving latency (p50/p95/p99, throughput) of every runnable design against its budget.

    Reads the latest recorded serving run for this mlsd version, scale and machine,
    and runs the serving stage (with the stages before it) where none is recorded.

    Examples:

      mlsd compare latency

      mlsd compare latency --fresh --scale tiny --json
    """
    import mlsd
    from mlsd.progress_bars import Progress, RichProgress
    from mlsd.registry import all_designs, check_scale
    from mlsd.runner import machine_id, record, run_design
    from mlsd.store import Store

    check_scale(scale)
    rows = []
    for design in (d for d in all_designs() if d.executable):
        with Store.open() as store:
            found = None if fresh else store.latest_stage(design.slug, "serving", version=mlsd.__version__,
                                                         scale=scale, machine=machine_id())
        if found is None:
            progress = RichProgress(err_console) if interactive() and not as_json else Progress()
            err_console.print(f"[dim]running {design.slug} serving at scale {scale}…[/]")
            run = run_design(design, stage="serving", scale=scale, progress=progress)
            run_id = record(run)
            found = {"run_id": run_id, "started_at": run.started_at, "result": run.stage("serving").to_dict()}
        values = {m["name"]: m["value"] for m in found["result"]["metrics"]}
        p99 = values["latency_p99_ms"]
        rows.append({
            "design": design.slug, "budget_ms": design.latency_budget_ms,
            "p50_ms": values["latency_p50_ms"], "p95_ms": values["latency_p95_ms"], "p99_ms": p99,
            "throughput_rps": values.get("throughput_rps"), "compute_floor_p50_ms": values.get("compute_floor_p50_ms"),
            "headroom": design.latency_budget_ms / p99 if p99 > 0 else None,
            "within_budget": p99 <= design.latency_budget_ms, "run_id": found["run_id"],
            "started_at": found["started_at"],
        })
    if as_json:
        print(json.dumps({"scale": scale, "machine": machine_id(), "version": mlsd.__version__, "designs": rows},
                         indent=2))
        return
    runs = ", ".join(f"{r['design']} #{r['run_id']} at {r['started_at']}" for r in rows)
    table = Table(title=f"Serving latency against budget (scale {scale}, this machine)", title_justify="left",
                  header_style="bold", caption_justify="left",
                  caption=f"ms; headroom = budget / p99; one worker thread per design. Runs: {runs}")
    for column in ("design", "budget", "p50", "p95", "p99", "req/s", "headroom", ""):
        table.add_column(column, justify="left" if column in ("design", "") else "right", no_wrap=True)
    for r in rows:
        rps = "—" if r["throughput_rps"] is None else f"{r['throughput_rps']:,.0f}"
        table.add_row(r["design"], f"{r['budget_ms']:g}", f"{r['p50_ms']:.3f}", f"{r['p95_ms']:.3f}",
                      f"{r['p99_ms']:.3f}", rps, f"{r['headroom']:,.0f}x",
                      "[green]✓ within[/]" if r["within_budget"] else "[red]✗ over[/]")
    console.print(table)
