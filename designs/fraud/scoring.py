"""The fraud model as both the offline study and the serving path run it.

Logistic regression is applied as its closed form (standardise, dot product,
sigmoid): the same numbers as scikit-learn's predict_proba without its per-call
input validation, which dominates a one-row request. LightGBM runs its booster.
A model trained on downsampled negatives is recalibrated: keeping a share r of
negatives multiplies the odds by 1/r, so the true probability is r*p / (r*p + 1 - p).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def recalibrate(p: np.ndarray, kept_share: float) -> np.ndarray:
    """Undo negative downsampling (kept_share = 1: nothing to undo)."""
    if kept_share >= 1.0:
        return p
    return kept_share * p / (kept_share * p + 1.0 - p)


@dataclass
class LogisticScorer:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    kept_share: float = 1.0

    @classmethod
    def from_pipeline(cls, pipeline, kept_share: float = 1.0) -> "LogisticScorer":
        scaler, lr = pipeline[0], pipeline[-1]
        return cls(scaler.mean_, scaler.scale_, lr.coef_[0], float(lr.intercept_[0]), kept_share)

    def predict(self, X: np.ndarray) -> np.ndarray:
        z = ((np.atleast_2d(X) - self.mean) / self.scale) @ self.coef + self.intercept
        return recalibrate(1.0 / (1.0 + np.exp(-z)), self.kept_share)

    def predict_row(self, row: list[float]) -> float:
        z = float(((np.asarray(row) - self.mean) / self.scale) @ self.coef) + self.intercept
        p = 1.0 / (1.0 + math.exp(-z))
        return float(recalibrate(p, self.kept_share))


@dataclass
class TreeScorer:
    booster: object  # lightgbm.Booster
    kept_share: float = 1.0

    def predict(self, X: np.ndarray) -> np.ndarray:
        return recalibrate(self.booster.predict(np.atleast_2d(X)), self.kept_share)

    def predict_row(self, row: list[float]) -> float:
        """One request, one thread: a serving worker's model call (mlsd/threads.py)."""
        return float(recalibrate(self.booster.predict(np.asarray(row)[None, :], num_threads=1), self.kept_share)[0])


@dataclass
class EnsembleScorer:
    """The mean of calibrated members' probabilities."""

    members: list

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.mean([m.predict(X) for m in self.members], axis=0)

    def predict_row(self, row: list[float]) -> float:
        return sum(m.predict_row(row) for m in self.members) / len(self.members)
