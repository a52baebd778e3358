"""`mlsd run DESIGN`: run a design's stages and show their numbers."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mlsd.cli.common import complete_design, complete_scale, complete_stage, console, err_console, interactive

SCALE_BUDGET_S = {"tiny": 15, "default": 60}


def run(
    design: str = typer.Argument(..., help="Design slug, e.g. fraud (see `mlsd list`).",
                                 autocompletion=complete_design),
    stage: str | None = typer.Option(None, "--stage", "-s", autocompletion=complete_stage,
                                     help="Run up to this stage and show only it: problem, data, model, serving, monitoring."),
    scale: str = typer.Option("default", "--scale", autocompletion=complete_scale,
                              help="tiny (seconds, for tests), default, or large (closer to real sizes)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random draw: same seed, same numbers."),
    settings: list[str] = typer.Option([], "--set", metavar="KEY=VALUE",
                                       help="Override a config value; repeatable. Unknown keys list the valid ones."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON instead of tables."),
    export: Path | None = typer.Option(None, "--export", metavar="DIR",
                                       help="Also write the data sets, test-set predictions and results.json to DIR."),
) -> None:
    """Run a design's stages on synthetic data and show the numbers an interviewer asks about.

    Asking for one stage runs the stages before it first (quietly), then shows that stage.
    Every run is recorded in the results store (see `mlsd compare latency`).

    Examples:

      mlsd run fraud

      mlsd run fraud --stage serving

      mlsd run fraud --scale tiny --seed 3 --set friction_cost=25

      mlsd run fraud --json --export ./fraud-run
    """
    from mlsd.config import check_seed, parse_assignments
    from mlsd.export import ensure_folder, export_run
    from mlsd.progress_bars import Progress, RichProgress
    from mlsd.registry import check_scale, check_stage, get_executable_design
    from mlsd.render import render_stage
    from mlsd.runner import record, resolve_config, run_design
    from mlsd.store import Store

    info = get_executable_design(design)
    if stage is not None:
        check_stage(stage)
    check_scale(scale)
    check_seed(seed)
    overrides = parse_assignments(settings)
    resolve_config(info, scale, overrides)  # fail on a bad --set before any work
    Store.open().close()  # and on an unusable results store, before minutes of work are lost
    if export is not None:
        ensure_folder(export)

    def show(stage_run) -> None:
        if stage_run.shown and not as_json:
            render_stage(console, info.title, stage_run.stage, stage_run.result, stage_run.duration_s)

    progress = RichProgress(err_console) if interactive() and not as_json else Progress()
    result = run_design(info, stage=stage, scale=scale, seed=seed, overrides=overrides,
                        progress=progress, on_stage_done=show)
    run_id = record(result)
    written = export_run(export, result, run_id) if export is not None else []
    if as_json:
        payload = result.to_dict(only_shown=True)
        payload["run_id"] = run_id
        print(json.dumps(payload, indent=2))
        return
    timings = ", ".join(f"{s.stage} {s.duration_s:.1f} s" for s in result.stages)
    console.print(f"[dim]{timings}; total {result.duration_s:.1f} s at scale {scale}"
                  f"{_against_target(result.duration_s, SCALE_BUDGET_S.get(scale))}. Recorded as run #{run_id}.[/]")
    if written:
        console.print(f"[dim]Exported {len(written)} files to {export}.[/]")


def _against_target(seconds: float, target: float | None) -> str:
    """The run time against the scale's target, and when it is over, the likely reason."""
    import os

    from mlsd.threads import available_cores

    if target is None:
        return ""
    if seconds <= target:
        return f" (target ≤ {target} s on two cores)"
    cores = available_cores()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    why = (f"this machine was busy (load {load:.1f} on {cores} cores), so the run got a share of the CPU"
           if load > cores else f"the machine was not busy (load {load:.1f} on {cores} cores), so it is slower than "
           "the reference machine")
    return (f" (over the ≤ {target} s target for two idle cores: {why}; reference figures in "
            "docs/benchmarks.md)")
