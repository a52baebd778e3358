"""What a stage returns: metric records, tables, charts and notes.

Stages never print. The CLI renders a StageResult with rich, `--json` serialises the
same object, and the results store keeps its metrics as rows, so `mlsd compare` reads
every design's numbers without parsing text.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from mlsd.vocabulary import describe


@dataclass(frozen=True)
class Metric:
    """One number and what it is held against.

    `target` is the budget or goal: an upper limit when lower is better (latency
    budget), a floor when higher is better. `baseline` and `oracle` are the same
    metric for the simplest sensible system and for the generator's truth.
    `ci_low`/`ci_high` is the 95% bootstrap interval of the value over the test units,
    and `vs_baseline_low`/`vs_baseline_high` the paired interval of value − baseline
    (mlsd.blocks.uncertainty); absent where not computed. `censored` says the measurement
    stopped at its limit before it finished, so the true value is beyond `value` (an A/B
    test that never decided within its budget of 2,000 queries needs "> 2,000").
    """

    name: str
    value: float
    unit: str = ""
    higher_is_better: bool | None = True
    target: float | None = None
    baseline: float | None = None
    oracle: float | None = None
    label: str = ""
    ci_low: float | None = None
    ci_high: float | None = None
    vs_baseline_low: float | None = None
    vs_baseline_high: float | None = None
    censored: bool = False

    @property
    def differs_from_baseline(self) -> bool | None:
        """Whether the gap to the baseline is significant (its interval excludes 0);
        None where no interval was computed."""
        if self.vs_baseline_low is None or self.vs_baseline_high is None:
            return None
        return self.vs_baseline_low > 0 or self.vs_baseline_high < 0

    @property
    def met(self) -> bool | None:
        """Whether the value is on the right side of its target; None without one."""
        if self.target is None or self.higher_is_better is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["met"] = self.met
        d["differs_from_baseline"] = self.differs_from_baseline
        return {k: _finite(v) for k, v in d.items()}


def metric(name: str, value: float, **extra: Any) -> Metric:
    """A Metric whose unit, direction and label come from the shared vocabulary."""
    unit, higher, label = describe(name)
    return Metric(
        name=name,
        value=float(value),
        unit=extra.pop("unit", unit),
        higher_is_better=extra.pop("higher_is_better", higher),
        label=extra.pop("label", label),
        censored=bool(extra.pop("censored", False)),
        **{k: (None if v is None else float(v)) for k, v in extra.items()},
    )


@dataclass
class Table:
    """A small table for the terminal: rows are lists of cells (str or number)."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    caption: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "columns": self.columns,
            "rows": [[_finite(c) for c in row] for row in self.rows],
            "caption": self.caption,
        }


@dataclass
class Series:
    name: str
    x: list[float]
    y: list[float]


@dataclass
class Chart:
    """A line chart (precision-recall, cost against threshold, drift over days)."""

    title: str
    x_label: str
    y_label: str
    series: list[Series]

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "x_label": self.x_label,
            "y_label": self.y_label,
            "series": [
                {"name": s.name, "x": [_finite(v) for v in s.x], "y": [_finite(v) for v in s.y]}
                for s in self.series
            ],
        }


@dataclass
class StageResult:
    """Everything one stage produced. `artifacts` flow to later stages and are not
    serialised; `exports` are column tables that `--export DIR` writes as CSV."""

    stage: str
    headline: str = ""
    metrics: list[Metric] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)
    exports: dict[str, dict[str, Any]] = field(default_factory=dict)

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"stage {self.stage} has no metric {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "headline": self.headline,
            "metrics": [m.to_dict() for m in self.metrics],
            "tables": [t.to_dict() for t in self.tables],
            "charts": [c.to_dict() for c in self.charts],
            "notes": list(self.notes),
        }


def _finite(v: Any) -> Any:
    """JSON has no NaN or infinity: write them as null. numpy scalars become Python."""
    if hasattr(v, "item") and not isinstance(v, (list, dict, str)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
