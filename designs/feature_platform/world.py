"""The event stream: users browse in sessions with a daily rhythm. Each event has an
event time and an arrival time: most arrive within seconds, some minutes late, a few
hours late.

A session is a chain of page views. After each view the user may add to the cart
(more likely the more pages of the session they have seen, and the keener the user);
once carted, each further step may end in a purchase a few minutes later; otherwise
the session goes on to another view or ends. The label of a (user, time) point is a
purchase in the next hour, so it depends on what the user is doing in the session:
whether they have carted, how far they have browsed, and how keen they are.

The generator knows the truth: the probability of that purchase given the user's
keenness and the session so far (`purchase_probability`), which is exact because a
user's sessions start at least two hours apart and a session with its purchase fits
in the hour (the caps below), so nothing but the current session can land in the
label's hour.

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

SESSION_GAP = 2 * HOUR     # a user's sessions start at least this far apart (later ones are dropped)
MAX_VIEWS = 15             # per session: 15 x (120 s to the next view + 30 s to a cart) + 900 s checkout < 1 h
CART_DELAY = (5.0, 30.0)   # seconds from a view to its add-to-cart
CHECKOUT = (60.0, 900.0)   # seconds from the session's last step to its purchase


@dataclass(frozen=True)
class Intent:
    """How a session behaves: a buying session pages quickly and carts; a browsing one
    wanders. The intent is the generator's; the features see it only through the pace."""

    view_gap: tuple[float, float]  # seconds between page views
    cart_per_view: float           # chance of adding to the cart after a view
    buy_if_carted: float           # chance a carted session ends in a purchase


BUYING = Intent(view_gap=(10.0, 40.0), cart_per_view=0.3, buy_if_carted=0.8)
BROWSING = Intent(view_gap=(30.0, 120.0), cart_per_view=0.03, buy_if_carted=0.25)
END_AFTER_VIEW = 0.25      # chance a session ends after a view (mean four views); halved by the promotion


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
    page_truth: np.ndarray    # the generator's probability of a purchase in the hour after that view

    def __len__(self) -> int:
        return len(self.event_id)

    def columns(self) -> dict[str, np.ndarray]:
        return {"event_id": self.event_id, "user_id": self.user, "kind": np.array(EVENT_TYPES)[self.kind],
                "amount": self.amount, "event_time": self.event_time, "arrival_time": self.arrival_time}


def purchase_probability(intent: Intent, end_after_view: float) -> np.ndarray:
    """P(the session ends in a purchase) after view k, for k = 1..MAX_VIEWS (rows) and
    carted before view k or not (columns 0, 1), by backward recursion over the chain:
    the exact chance of a purchase in the hour after that view."""
    buy, cart = intent.buy_if_carted, intent.cart_per_view
    table = np.zeros((MAX_VIEWS + 2, 2))
    for k in range(MAX_VIEWS, 0, -1):
        go_on = (1 - end_after_view) if k < MAX_VIEWS else 0.0
        table[k] = [cart * buy + (1 - cart) * go_on * table[k + 1, 0], buy]
    return table


def _session_starts(cfg, rng, activity: np.ndarray) -> list[tuple[int, float]]:
    """(user, start) per session, a user's sessions at least SESSION_GAP apart."""
    hour_p = HOURLY / HOURLY.sum()
    visits = np.where(np.arange(cfg.days) >= cfg.promo_day, 2.0, 1.0)  # the promotion doubles the visits
    starts = []
    for u in range(cfg.n_users):
        day = np.repeat(np.arange(cfg.days), rng.poisson(cfg.sessions_per_user_day * activity[u] * visits))
        n = day.size
        times = np.sort(day * DAY + rng.choice(24, n, p=hour_p) * HOUR + rng.uniform(0, HOUR, n))
        last = -np.inf
        for t in times.tolist():
            if t - last >= SESSION_GAP:
                starts.append((u, t))
                last = t
    return starts


def generate(cfg, rng: np.random.Generator) -> Events:
    activity = rng.lognormal(0, 0.6, cfg.n_users)           # sessions per day, relative
    keenness = rng.beta(2, 6, cfg.n_users)                  # the user's share of buying sessions
    tables = {(intent, promo): purchase_probability(intent, END_AFTER_VIEW / 2 if promo else END_AFTER_VIEW)
              for intent in (BUYING, BROWSING) for promo in (False, True)}
    rows: list[tuple[int, int, float, float]] = []
    pages: list[tuple[int, float, float]] = []
    for u, start in _session_starts(cfg, rng, activity):
        promo = int(start // DAY) >= cfg.promo_day
        end = END_AFTER_VIEW / 2 if promo else END_AFTER_VIEW
        intent = BUYING if rng.random() < keenness[u] else BROWSING
        table = tables[(intent, promo)]
        t, carted = start, False
        for k in range(1, MAX_VIEWS + 1):
            rows.append((u, 0, 0.0, t))
            pages.append((u, t, table[k, int(carted)]))
            step = t
            if not carted and rng.random() < intent.cart_per_view:
                step = t + rng.uniform(*CART_DELAY)
                rows.append((u, 1, 0.0, step))
                carted = True
            if k == MAX_VIEWS or rng.random() < end:
                if carted and rng.random() < intent.buy_if_carted:
                    rows.append((u, 2, float(rng.lognormal(3.5, 0.7)), step + rng.uniform(*CHECKOUT)))
                break
            t = step + rng.uniform(*intent.view_gap)
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
    order = order[~lost[order]]
    page_user, page_time, page_truth = (np.array(c) for c in zip(*pages))
    by_time = np.argsort(page_time, kind="stable")
    by_time = by_time[page_time[by_time] < cfg.days * DAY]
    return Events(np.arange(len(order)), user[order].astype(np.int64), kind[order].astype(np.int64),
                  amount[order], event_time[order], event_time[order] + delay[order],
                  page_user[by_time].astype(np.int64), page_time[by_time], page_truth[by_time])


def next_purchase(events: Events, user: np.ndarray, t: np.ndarray) -> np.ndarray:
    """For each (user, time), the time of the user's first purchase after it (inf if none)."""
    buys = events.kind == 2
    span = float(events.event_time.max()) + 2 * DAY  # keeps one user's keys clear of the next user's
    keys = np.sort(events.user[buys] * span + events.event_time[buys])
    query = user * span + t
    at = np.searchsorted(keys, query, side="right")
    found = np.full(len(t), np.inf)
    inside = at < len(keys)
    hit = inside.copy()
    hit[inside] = (keys[at[inside]] // span).astype(np.int64) == user[inside]  # same user
    found[hit] = keys[at[hit]] - user[hit] * span
    return found


def observations(events: Events, cfg, rng: np.random.Generator, first_day: int, last_day: int):
    """Prediction moments, as production has them: a second after a page view (the user
    is on the site; pages are served even when their events are lost), (user, time,
    label, truth) with label = a purchase in the next hour and truth its probability."""
    day = events.page_time // DAY
    views = np.flatnonzero((day >= first_day) & (day <= last_day))
    n = min(len(views), cfg.n_users * cfg.observations_per_user)
    pick = np.sort(rng.choice(views, n, replace=False))
    user, t = events.page_user[pick], events.page_time[pick] + 1.0
    label = (next_purchase(events, user, t) <= t + HOUR).astype(np.int8)
    return user, t, label, events.page_truth[pick]
