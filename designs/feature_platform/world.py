"""The event stream: users browse in sessions (views, sometimes a cart, sometimes a
purchase after it) with a daily rhythm. Each event has an event time and an arrival
time: most arrive within seconds, some minutes late, a few hours late. The label of a
(user, time) point is whether the user purchases in the next hour; what drives it
(recent carts and views, the user's propensity) is the generator's, and the features
see it only through the event history.

Incidents for monitoring are part of the world: a promotion that doubles browsing, a
day the view stream stops arriving, a day the pipeline falls ten minutes behind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAY = 86_400
HOUR = 3_600
EVENT_TYPES = ("view", "cart", "purchase")
HOURLY = np.array([1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 9, 9, 8, 8, 8, 9, 10, 12, 12, 10, 6, 3], float)


@dataclass
class Events:
    event_id: np.ndarray
    user: np.ndarray
    kind: np.ndarray         # index into EVENT_TYPES
    amount: np.ndarray       # purchase amount, 0 otherwise
    event_time: np.ndarray   # seconds since the start
    arrival_time: np.ndarray  # when the platform received it
    page_user: np.ndarray     # every page view served, whether or not its event reached the pipeline
    page_time: np.ndarray

    def __len__(self) -> int:
        return len(self.event_id)

    def columns(self) -> dict[str, np.ndarray]:
        return {"event_id": self.event_id, "user_id": self.user, "kind": np.array(EVENT_TYPES)[self.kind],
                "amount": self.amount, "event_time": self.event_time, "arrival_time": self.arrival_time}


def generate(cfg, rng: np.random.Generator) -> Events:
    users = np.arange(cfg.n_users)
    activity = rng.lognormal(0, 0.6, cfg.n_users)           # sessions per day, relative
    propensity = rng.beta(2, 6, cfg.n_users)                # how often a session ends in a cart
    rows: list[tuple[int, int, float, float]] = []
    hour_p = HOURLY / HOURLY.sum()
    for u in users:
        n_sessions = rng.poisson(cfg.sessions_per_user_day * activity[u] * cfg.days)
        days = rng.integers(0, cfg.days, n_sessions)
        starts = days * DAY + rng.choice(24, n_sessions, p=hour_p) * HOUR + rng.uniform(0, HOUR, n_sessions)
        for day, start in zip(days, starts):
            promo = 2.0 if day >= cfg.promo_day else 1.0
            t = start
            for _ in range(1 + rng.poisson(3 * promo)):
                rows.append((u, 0, 0.0, t))
                t += rng.uniform(20, 120)
            if rng.random() < propensity[u]:
                rows.append((u, 1, 0.0, t))
                if rng.random() < 0.55:
                    t += rng.uniform(300, 3000)
                    rows.append((u, 2, float(rng.lognormal(3.5, 0.7)), t))
    user, kind, amount, event_time = (np.array(c) for c in zip(*rows))
    keep = event_time < cfg.days * DAY
    user, kind, amount, event_time = user[keep], kind[keep], amount[keep], event_time[keep]
    delay = rng.lognormal(np.log(2.0), 0.5, len(user))
    late = rng.random(len(user))
    delay += np.where(late < 0.05, rng.exponential(300, len(user)), 0.0)          # minutes late
    delay += np.where(late < 0.005, rng.uniform(HOUR, 3 * HOUR, len(user)), 0.0)   # hours late
    day = (event_time // DAY).astype(int)
    delay += np.where(day == cfg.lag_day, 600.0, 0.0)                               # the pipeline falls behind
    lost = (day == cfg.outage_day) & (kind == 0)                                    # the view stream is down
    order = np.argsort(event_time, kind="stable")
    pages = order[kind[order] == 0]
    order = order[~lost[order]]
    return Events(np.arange(len(order)), user[order].astype(np.int64), kind[order].astype(np.int64),
                  amount[order], event_time[order], event_time[order] + delay[order],
                  user[pages].astype(np.int64), event_time[pages])


def observations(events: Events, cfg, rng: np.random.Generator, first_day: int, last_day: int):
    """Prediction moments, as production has them: a second after a page view (the user
    is on the site; pages are served even when their events are lost), (user, time,
    label) with label = a purchase in the next hour."""
    day = events.page_time // DAY
    views = np.flatnonzero((day >= first_day) & (day <= last_day))
    n = min(len(views), cfg.n_users * cfg.observations_per_user)
    pick = np.sort(rng.choice(views, n, replace=False))
    user, t = events.page_user[pick], events.page_time[pick] + 1.0
    purchases = events.kind == 2
    by_user: dict[int, list[float]] = {}
    for u, et in zip(events.user[purchases].tolist(), events.event_time[purchases].tolist()):
        by_user.setdefault(u, []).append(et)
    label = np.array([any(ti < p <= ti + HOUR for p in by_user.get(int(u), ())) for u, ti in zip(user, t)])
    order = np.argsort(t, kind="stable")
    return user[order], t[order], label[order].astype(np.int8)
