"""Each cascade stage earns its place: it ships only if it beats the stage before it on
the validation queries, by a paired bootstrap interval over queries that excludes zero.
A stage that does not help is dropped, and serving runs the cascade without it. The
same gain on the test queries is reported beside the decision, never used for it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlsd.blocks.uncertainty import Interval, bootstrap, mean_of
from mlsd.designs.search_ranking.ranking import ndcg_at
from mlsd.designs.search_ranking.world import Queries


@dataclass(frozen=True)
class StageCheck:
    stage: str
    validation_gain: float    # mean NDCG@10 after the stage minus before it
    validation_interval: Interval
    test_gain: float
    test_interval: Interval
    worse_on: int             # test queries where the stage lowered NDCG@10
    test_queries: int

    @property
    def shipped(self) -> bool:
        """Helps on validation: the interval of its gain lies above zero."""
        return self.validation_interval.low > 0


def ndcg_gain(before: dict[int, np.ndarray], after: dict[int, np.ndarray], chosen: list[int], queries: Queries,
              seed: int) -> tuple[float, Interval, np.ndarray]:
    """Mean NDCG@10 gain of `after` over `before` on the chosen queries, its bootstrap
    interval (paired: both systems on the same resampled queries, so the interval of the
    per-query differences' mean), and the per-query gains."""
    gains = np.array([ndcg_at(after[q], queries, q) - ndcg_at(before[q], queries, q) for q in chosen])
    return float(gains.mean()), bootstrap(mean_of(gains), len(gains), seed), gains


def check_stage(stage: str, before: dict[int, np.ndarray], after: dict[int, np.ndarray], val: list[int],
                test: list[int], queries: Queries, seed: int) -> StageCheck:
    val_gain, val_interval, _ = ndcg_gain(before, after, val, queries, seed)
    test_gain, test_interval, per_query = ndcg_gain(before, after, test, queries, seed)
    return StageCheck(stage, val_gain, val_interval, test_gain, test_interval, int(np.sum(per_query < 0)), len(test))
