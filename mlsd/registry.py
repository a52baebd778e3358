"""The ten designs, the five stages and the pattern catalogue.

Everything here is plain data so that `mlsd list` and `mlsd --help` never wait for
torch, faiss or scikit-learn. Each design's metadata lives in its own package's
`__init__.py`; this module holds the explicit list of those packages, in learning order.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import Any

from mlsd.errors import UsageError, did_you_mean

STAGES: tuple[str, ...] = ("problem", "data", "model", "serving", "monitoring")
STAGE_MINUTES: dict[str, int] = {"problem": 5, "data": 10, "model": 10, "serving": 10, "monitoring": 5}
SCALES: tuple[str, ...] = ("tiny", "default", "large")

PATTERNS: tuple[str, ...] = (
    "two-stage retrieval+ranking",
    "vector embeddings",
    "feature stores",
    "dynamic batching",
    "A/B testing",
    "ensembles",
    "rules+ML",
    "real-time aggregations",
    "session modeling",
    "bandits",
    "auctions",
    "encoder-decoder",
    "beam search",
    "streaming inference",
)

# Learning order. A design's package is mlsd.designs.<slug with '-' as '_'>.
DESIGN_PACKAGES: tuple[str, ...] = (
    "captioning",
    "image_search",
    "recommendation",
    "search_ranking",
    "fraud",
    "personalization",
    "ads",
    "feature_platform",
    "translation",
    "speech",
)


@dataclass(frozen=True)
class DesignInfo:
    """What a design is, without running anything. `config` is its typed config class
    (a dataclass) and `scales` maps a scale name to the config fields it overrides."""

    slug: str
    title: str
    order: int
    difficulty: str
    latency_budget_ms: float
    latency_budget_text: str
    primary_metrics: tuple[str, ...]
    prerequisites: tuple[str, ...]
    key_concepts: tuple[str, ...]
    patterns: tuple[str, ...]
    config: type | None = None
    scales: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def package(self) -> str:
        return "mlsd.designs." + self.slug.replace("-", "_")

    @property
    def executable(self) -> bool:
        """True when every stage module exists. Found without importing the stages."""
        return all(importlib.util.find_spec(f"{self.package}.{s}") is not None for s in STAGES)

    def stage_module(self, stage: str):
        return importlib.import_module(f"{self.package}.{stage}")


def all_designs() -> list[DesignInfo]:
    return [importlib.import_module(f"mlsd.designs.{pkg}").DESIGN for pkg in DESIGN_PACKAGES]


def get_design(slug: str) -> DesignInfo:
    designs = {d.slug: d for d in all_designs()}
    if slug in designs:
        return designs[slug]
    hint = did_you_mean(slug, designs)
    raise UsageError(f"unknown design '{slug}'.{hint} Type 'mlsd list' to see all ten.")


def get_executable_design(slug: str) -> DesignInfo:
    design = get_design(slug)
    if not design.executable:
        raise UsageError(
            f"design '{slug}' is not implemented yet. Type 'mlsd list' to see which designs run."
        )
    return design


def check_stage(stage: str) -> str:
    if stage in STAGES:
        return stage
    hint = did_you_mean(stage, STAGES)
    raise UsageError(f"unknown stage '{stage}'.{hint} Stages are: {', '.join(STAGES)}.")


def check_scale(scale: str) -> str:
    if scale in SCALES:
        return scale
    hint = did_you_mean(scale, SCALES)
    raise UsageError(f"unknown scale '{scale}'.{hint} Scales are: {', '.join(SCALES)}.")
