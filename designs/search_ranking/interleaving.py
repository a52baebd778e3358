"""Online comparison of two rankers: team-draft interleaving against an A/B test.

An A/B test shows ranker A to some users and ranker B to others, so the difference is
buried under user-to-user and query-to-query variance. Interleaving shows both rankers
to the same user on the same query, in one merged list, and asks whose documents got
the clicks: that variance cancels, which is why it needs far fewer queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


def team_draft(
    a: Sequence[int], b: Sequence[int], k: int, rng: np.random.Generator
) -> tuple[list[int], list[int]]:
    """Team-draft interleaving (Radlinski, Kurup & Joachims 2008).

    Returns the interleaved list (length <= k) and, per position, the team that picked
    it (0 = A, 1 = B). Like picking sides in a playground game: the team that has picked
    less goes next, a coin breaks ties, and each pick is that team's highest-ranked
    document not yet taken, so neither ranker is favoured by position.
    """
    rankings = (a, b)
    picked, out, teams, seen = [0, 0], [], [], set()
    for _ in range(min(k, len(set(a) | set(b)))):
        if picked[0] == picked[1]:
            team = int(rng.integers(2))
        else:
            team = int(picked[1] < picked[0])
        doc = next((d for d in rankings[team] if d not in seen), None)
        if doc is None:  # this team has run out: the other one fills the slot
            team = 1 - team
            doc = next(d for d in rankings[team] if d not in seen)
        seen.add(doc)
        out.append(doc)
        teams.append(team)
        picked[team] += 1
    return out, teams


def credit(teams: Sequence[int], clicked_positions: Sequence[int]) -> int:
    """+1 if A's documents got more clicks, -1 if B's, 0 on a tie or no click."""
    a = sum(teams[p] == 0 for p in clicked_positions)
    return int(np.sign(2 * a - len(clicked_positions)))  # A's clicks minus B's


@dataclass(frozen=True)
class Verdict:
    queries: int  # at the first significant look (per arm for A/B), else the budget
    significant: bool
    winner: str | None  # "A", "B" or None
    p_value: float


def median_verdict(verdicts: Sequence[Verdict]) -> tuple[float, bool]:
    """Median queries to a verdict over replications, and whether it is censored. A test
    that never decided ran out of budget: its true count lies beyond it, so it sorts after
    every decided one, and the median is censored ("> budget") when the middle
    replication is such a test. With an even count, the lower of the middle two."""
    ranked = sorted(verdicts, key=lambda v: (not v.significant, v.queries))
    middle = ranked[(len(ranked) - 1) // 2]
    return float(middle.queries), not middle.significant


def _sequential(n: int, p_at, alpha: float, every: int, start: int) -> Verdict:
    """Look at n = start, start + every, ... and stop at the first p < alpha / looks."""
    looks = range(start, n + 1, every)
    per_look = alpha / max(len(looks), 1)
    p, sign = 1.0, 0
    for m in looks:
        p, sign = p_at(m)
        if p < per_look:
            return Verdict(m, True, "A" if sign > 0 else "B", p)
    return Verdict(n, False, None, p)


def sequential_sign_test(
    outcomes: Sequence[int],
    alpha: float = 0.05,
    check_every: int = 50,
    min_queries: int = 100,
) -> Verdict:
    """Interleaving verdict from per-query outcomes in {-1, 0, +1}: a two-sided binomial
    sign test on the non-tied queries (ties carry no preference), looked at every
    `check_every` queries from `min_queries` on. Peeking and stopping at the first
    significant look inflates the false-positive rate well past alpha, so alpha is split
    evenly over the looks (Bonferroni): conservative, but the overall rate stays <= alpha.
    """
    x = np.asarray(outcomes)
    wins, losses = np.cumsum(x > 0), np.cumsum(x < 0)

    def p_at(m: int) -> tuple[float, int]:
        w, l = int(wins[m - 1]), int(losses[m - 1])
        if w + l == 0:
            return 1.0, 0
        return float(stats.binomtest(w, w + l, 0.5).pvalue), w - l

    return _sequential(len(x), p_at, alpha, check_every, min_queries)


def sequential_ab_test(
    clicks_a: Sequence[int],
    clicks_b: Sequence[int],
    alpha: float = 0.05,
    check_every: int = 50,
    min_queries: int = 100,
) -> Verdict:
    """A/B verdict on click-through (1 if a query got any click): the arms see different
    queries and users, so a two-sided pooled two-proportion z-test, with the same look
    schedule and alpha split; `queries` counts queries per arm."""
    ca, cb = np.cumsum(clicks_a), np.cumsum(clicks_b)

    def p_at(m: int) -> tuple[float, int]:
        ra, rb = ca[m - 1] / m, cb[m - 1] / m
        pooled = (ra + rb) / 2
        se = np.sqrt(pooled * (1 - pooled) * 2 / m)
        if se == 0:
            return 1.0, 0
        return float(2 * stats.norm.sf(abs(ra - rb) / se)), int(np.sign(ra - rb))

    return _sequential(min(len(ca), len(cb)), p_at, alpha, check_every, min_queries)
