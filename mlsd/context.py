"""The context a stage runs in: seed, scale, config, earlier artifacts, progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from mlsd.progress_bars import Progress
    from mlsd.registry import DesignInfo


@dataclass
class Context:
    """`rng` is this stage's own numpy Generator, derived from (seed, stage), so a
    stage draws the same numbers whether or not the stages before it were shown."""

    design: "DesignInfo"
    stage: str
    scale: str
    seed: int
    config: Any
    rng: "np.random.Generator"
    progress: "Progress"
    artifacts: dict[str, Any] = field(default_factory=dict)

    def need(self, key: str) -> Any:
        """An artifact an earlier stage produced. Missing means a stage bug, not user error."""
        if key not in self.artifacts:
            raise RuntimeError(f"stage {self.stage} needs artifact {key!r}, which no earlier stage made")
        return self.artifacts[key]

    def seed_torch(self) -> None:
        """Seed torch from this stage's generator (imported only by stages that use it)."""
        import torch

        torch.manual_seed(int(self.rng.integers(2**31 - 1)))
