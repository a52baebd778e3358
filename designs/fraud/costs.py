"""Choosing a decision threshold by expected cost rather than by accuracy or F1.

Declining everything scored at or above t costs: the false-negative cost of every
positive below t, plus the false-positive cost of every negative at or above t.
Costs may differ per example (a missed fraud costs its amount).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CostCurve:
    thresholds: np.ndarray  # decline when score >= threshold; descending
    costs: np.ndarray
    best_threshold: float
    best_cost: float
    cost_flag_none: float  # every example passes (threshold above every score)
    cost_flag_all: float


def cost_curve(y: np.ndarray, scores: np.ndarray, fn_cost: np.ndarray, fp_cost: np.ndarray) -> CostCurve:
    """Exact total cost at every distinct score threshold, in one sort."""
    y = np.asarray(y).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    fn_cost = np.broadcast_to(np.asarray(fn_cost, dtype=np.float64), y.shape)
    fp_cost = np.broadcast_to(np.asarray(fp_cost, dtype=np.float64), y.shape)
    order = np.argsort(-scores, kind="stable")
    s, yo = scores[order], y[order]
    caught = np.cumsum(np.where(yo, fn_cost[order], 0.0))  # FN cost avoided by flagging top k
    false_alarms = np.cumsum(np.where(yo, 0.0, fp_cost[order]))
    total_fn = float(fn_cost[y].sum())
    # Only the last of a run of equal scores is a real cut: ties are flagged together.
    cut = np.r_[s[1:] != s[:-1], True]
    thresholds = s[cut]
    costs = total_fn - caught[cut] + false_alarms[cut]
    best = int(np.argmin(costs))
    flag_none = total_fn
    if flag_none <= costs[best]:
        best_threshold, best_cost = float(np.nextafter(s[0], np.inf)), flag_none
    else:
        best_threshold, best_cost = float(thresholds[best]), float(costs[best])
    return CostCurve(thresholds, costs, best_threshold, best_cost, flag_none, float(costs[-1]))


def cost_at(y: np.ndarray, scores: np.ndarray, threshold: float, fn_cost, fp_cost) -> float:
    """Total cost of flagging score >= threshold; the check for cost_curve."""
    y = np.asarray(y).astype(bool)
    flag = np.asarray(scores) >= threshold
    fn_cost = np.broadcast_to(np.asarray(fn_cost, dtype=np.float64), y.shape)
    fp_cost = np.broadcast_to(np.asarray(fp_cost, dtype=np.float64), y.shape)
    return float(fn_cost[y & ~flag].sum() + fp_cost[~y & flag].sum())
