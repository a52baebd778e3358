"""Drift statistics shared by every monitoring stage: PSI and the two-sample KS test.

PSI (population stability index) = sum over bins of (a - e) * ln(a / e), where e and
a are the reference and current shares of a bin. Bins are reference quantiles, so
each holds about the same reference share. Rule of thumb: < 0.1 stable, 0.1-0.25
moderate shift, > 0.25 major shift.
"""

from __future__ import annotations

import numpy as np

PSI_WARN = 0.1
PSI_ALARM = 0.25
_EPS = 1e-4  # share given to an empty bin so ln() stays finite; small against 1/bins


def psi_from_shares(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI of two share vectors over the same bins (each summing to 1)."""
    e = np.clip(np.asarray(expected, dtype=np.float64), _EPS, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), _EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """PSI of a numeric feature, binned at the reference's quantiles.

    Repeated quantile edges (a feature that is often 0) merge into one bin, so a
    discrete feature is compared value by value rather than split arbitrarily.
    """
    reference = np.asarray(reference, dtype=np.float64)
    current = np.asarray(current, dtype=np.float64)
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    # Bin i holds (edge[i-1], edge[i]]: a value equal to an edge stays below it, so the
    # values of a 0/1 feature land in different bins even when every edge is 0.
    ref_counts = np.bincount(np.searchsorted(edges, reference, side="left"), minlength=edges.size + 1)
    cur_counts = np.bincount(np.searchsorted(edges, current, side="left"), minlength=edges.size + 1)
    return psi_from_shares(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum())


def psi_categorical(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI over the categories seen in either sample (a new category counts fully)."""
    cats = np.union1d(np.unique(reference), np.unique(current))
    ref = np.array([(reference == c).mean() for c in cats])
    cur = np.array([(current == c).mean() for c in cats])
    return psi_from_shares(ref, cur)


def ks(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value (scipy)."""
    from scipy.stats import ks_2samp

    result = ks_2samp(reference, current)
    return float(result.statistic), float(result.pvalue)
