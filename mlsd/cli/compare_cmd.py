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
    and runs the serving stage (with the stages before it) where none is recorded,
    saying first which designs that is and about how long it takes. A design that
    fails is shown as a failed row, and the command then exits with code 1.

    Examples:

      mlsd compare latency

      mlsd compare latency --fresh --scale tiny --json
    """
    import mlsd
    from mlsd.compare import fill_missing, recorded, reference_seconds
    from mlsd.progress_bars import Progress, RichProgress
    from mlsd.registry import all_designs, check_scale
    from mlsd.runner import machine_id

    check_scale(scale)
    rows = recorded([d for d in all_designs() if d.executable], scale, fresh)
    missing = [r.design.slug for r in rows if r.found is None]
    if missing:
        err_console.print(_plan_line(missing, scale, reference_seconds))
    progress = RichProgress(err_console) if interactive() and not as_json else Progress()
    fill_missing(rows, scale, progress,
                 on_start=lambda d: err_console.print(f"[dim]running {d.slug} up to serving at scale {scale}…[/]"))
    results = [r.to_dict() for r in rows]
    failed = [r for r in results if r["failed"]]
    if as_json:
        print(json.dumps({"scale": scale, "machine": machine_id(), "version": mlsd.__version__, "designs": results},
                         indent=2))
    else:
        console.print(_table(results, scale))
    if failed:
        err_console.print(f"{len(failed)} design(s) failed: " + "; ".join(f"{r['design']}: {r['error']}" for r in failed)
                          + f". Run one alone to see why: mlsd run {failed[0]['design']} --stage serving --scale {scale}")
        raise typer.Exit(1)


def _plan_line(missing: list[str], scale: str, reference_seconds) -> str:
    """What will run and about how long, before anything runs."""
    seconds = [reference_seconds(slug, scale) for slug in missing]
    known = sum(s for s in seconds if s is not None)
    estimate = f"about {known / 60:.0f} min" if known >= 90 else f"about {known:.0f} s"
    quicker = "" if scale == "tiny" else " For a quicker comparison: mlsd compare latency --scale tiny."
    return (f"No recorded serving run at scale {scale} on this machine for {len(missing)} design(s) "
            f"({', '.join(missing)}): running them now, {estimate} on an idle two-core machine "
            f"(docs/benchmarks.md); each is recorded as it finishes.{quicker}")


def _table(results: list[dict], scale: str) -> Table:
    runs = ", ".join(f"{r['design']} #{r['run_id']} at {r['started_at']}" for r in results if not r["failed"])
    table = Table(title=f"Serving latency against budget (scale {scale}, this machine)", title_justify="left",
                  header_style="bold", caption_justify="left",
                  caption=f"ms; headroom = budget / p99 (✓ within budget, ✗ over); one worker thread per design. "
                          f"Runs: {runs or 'none'}")
    for column in ("design", "budget", "p50", "p95", "p99", "req/s", "headroom"):
        table.add_column(column, justify="left" if column == "design" else "right", no_wrap=True)
    for r in results:
        if r["failed"]:
            table.add_row(r["design"], f"{r['budget_ms']:g}", "—", "—", "—", "—", "[red]✗ failed[/]")
            continue
        rps = "—" if r["throughput_rps"] is None else f"{r['throughput_rps']:,.0f}"
        verdict = "[green]✓[/]" if r["within_budget"] else "[red]✗[/]"
        table.add_row(r["design"], f"{r['budget_ms']:g}", f"{r['p50_ms']:.3f}", f"{r['p95_ms']:.3f}",
                      f"{r['p99_ms']:.3f}", rps, f"{verdict} {r['headroom']:,.1f}x")
    return table
