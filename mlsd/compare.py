"""`mlsd compare latency`: every runnable design's serving path against its budget.

Recorded serving runs (this version, scale and machine) are read; a design without one
has its serving stage run, with the stages before it. The command says up front what
it will run and about how long, records each run as it finishes (Ctrl-C keeps those),
and a design that fails becomes a failed row instead of ending the comparison.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import mlsd
from mlsd.registry import STAGES, DesignInfo

SERVING_STAGES = STAGES[: STAGES.index("serving") + 1]


@dataclass
class Row:
    """One design in the comparison: its serving metrics, or why it has none."""

    design: DesignInfo
    found: dict[str, Any] | None = None  # {"run_id", "started_at", "result"} of the serving stage
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        budget = self.design.latency_budget_ms
        if self.found is None:
            return {"design": self.design.slug, "budget_ms": budget, "failed": True, "error": self.error}
        values = {m["name"]: m["value"] for m in self.found["result"]["metrics"]}
        p99 = values["latency_p99_ms"]
        return {
            "design": self.design.slug, "budget_ms": budget, "failed": False,
            "p50_ms": values["latency_p50_ms"], "p95_ms": values["latency_p95_ms"], "p99_ms": p99,
            "throughput_rps": values.get("throughput_rps"), "compute_floor_p50_ms": values.get("compute_floor_p50_ms"),
            "headroom": budget / p99 if p99 > 0 else None, "within_budget": p99 <= budget,
            "run_id": self.found["run_id"], "started_at": self.found["started_at"],
        }


def reference_seconds(slug: str, scale: str) -> float | None:
    """Seconds the stages up to serving took on the reference machine (two idle cores),
    from mlsd/reference_times.json, which the benchmark command writes."""
    table = json.loads(resources.files("mlsd").joinpath("reference_times.json").read_text())
    stages = table.get("designs", {}).get(slug, {}).get(scale)
    return None if stages is None else sum(stages.get(s, 0.0) for s in SERVING_STAGES)


def recorded(designs: list[DesignInfo], scale: str, fresh: bool) -> list[Row]:
    """A row per design with its latest recorded serving run, or none to run."""
    from mlsd.runner import machine_id
    from mlsd.store import Store

    with Store.open() as store:
        return [Row(d, None if fresh else store.latest_stage(d.slug, "serving", version=mlsd.__version__,
                                                           scale=scale, machine=machine_id()))
                for d in designs]


def fill_missing(rows: list[Row], scale: str, progress, on_start: Callable[[DesignInfo], None]) -> None:
    """Run the serving stage of every design that has no recorded one, recording each
    as it finishes; a failure is kept on its row and the next design still runs."""
    from mlsd.runner import record, run_design

    for row in rows:
        if row.found is not None:
            continue
        on_start(row.design)
        try:
            run = run_design(row.design, stage="serving", scale=scale, progress=progress)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one design's bug must not cost the others' numbers
            row.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            continue
        row.found = {"run_id": record(run), "started_at": run.started_at, "result": run.stage("serving").to_dict()}
