"""Runs a design's stages in order, each on the artifacts of the ones before.

Asking for one stage runs the stages it needs first ("quietly": the CLI shows a
spinner for them and renders only what was asked for). Every stage gets its own
seeded generator; the finished run is recorded in the results store.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import mlsd
from mlsd.config import build_config, config_as_dict
from mlsd.context import Context
from mlsd.progress_bars import Progress
from mlsd.registry import STAGES, DesignInfo, check_scale, check_stage
from mlsd.results import StageResult
from mlsd.threads import restored_after


@dataclass
class StageRun:
    stage: str
    result: StageResult
    duration_s: float
    shown: bool


@dataclass
class Run:
    design: DesignInfo
    scale: str
    seed: int
    config: Any
    started_at: str
    stages: list[StageRun] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.stages)

    def stage(self, name: str) -> StageResult:
        for s in self.stages:
            if s.stage == name:
                return s.result
        raise KeyError(name)

    def to_dict(self, only_shown: bool = False) -> dict[str, Any]:
        """The run as JSON-ready data: identity, config, and each stage's result."""
        return {
            "design": self.design.slug,
            "scale": self.scale,
            "seed": self.seed,
            "config": config_as_dict(self.config),
            "version": mlsd.__version__,
            "machine": machine_id(),
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "stages": [
                {"stage": s.stage, "duration_s": round(s.duration_s, 3), "result": s.result.to_dict()}
                for s in self.stages
                if s.shown or not only_shown
            ],
        }


def machine_id() -> str:
    """Host, architecture and core count: latency is only comparable on one machine."""
    return f"{platform.node()}|{platform.machine()}|{os.cpu_count()}cpu"


def stages_to_run(stage: str | None) -> list[str]:
    """All five stages, or the requested one and every stage before it."""
    if stage is None:
        return list(STAGES)
    return list(STAGES[: STAGES.index(check_stage(stage)) + 1])


def resolve_config(design: DesignInfo, scale: str, overrides: dict[str, str]) -> Any:
    check_scale(scale)
    return build_config(design.config, design.scales.get(scale, {}), overrides)


def run_design(
    design: DesignInfo,
    *,
    stage: str | None = None,
    scale: str = "default",
    seed: int = 0,
    overrides: dict[str, str] | None = None,
    progress: Progress | None = None,
    on_stage_done: Callable[[StageRun], None] | None = None,
) -> Run:
    """Run the stages up to `stage` (all when None). Raises UsageError on bad input
    before any work starts."""
    import numpy as np

    config = resolve_config(design, scale, overrides or {})
    wanted = stages_to_run(stage)
    progress = progress or Progress()
    run = Run(design, scale, seed, config, datetime.now(timezone.utc).isoformat(timespec="seconds"))
    artifacts: dict[str, Any] = {}
    for index, name in enumerate(wanted):
        shown = stage is None or name == stage
        module = design.stage_module(name)
        rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
        ctx = Context(design, name, scale, seed, config, rng, progress, artifacts)
        with progress.stage(name, quiet=not shown):
            started = time.perf_counter()
            with restored_after():  # a stage's thread settings end with the stage
                result = module.run(ctx)
            elapsed = time.perf_counter() - started
        artifacts.update(result.artifacts)
        stage_run = StageRun(name, result, elapsed, shown)
        run.stages.append(stage_run)
        if on_stage_done:
            on_stage_done(stage_run)
    return run


def record(run: Run) -> int:
    """Write a finished run to the results store; returns its id."""
    from mlsd.store import Store

    with Store.open() as store:
        return store.record_run(run.to_dict())
