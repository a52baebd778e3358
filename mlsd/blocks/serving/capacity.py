"""How many workers a peak needs: the replica formula every serving stage shares."""

from __future__ import annotations

import math

TARGET_UTILISATION = 0.6  # plan workers to run at 60% so a traffic spike does not queue


def replicas_for(peak_rps: float, per_worker_rps: float, utilisation: float = TARGET_UTILISATION) -> int:
    """Workers that serve `peak_rps` when each, measured alone, serves `per_worker_rps`,
    kept at `utilisation` of its capacity. At least one; rounds up (a part worker is a worker)."""
    if per_worker_rps <= 0:
        raise ValueError("per-worker throughput must be positive")
    return max(1, math.ceil(peak_rps / (per_worker_rps * utilisation)))
