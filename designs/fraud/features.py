"""Velocity features from one streaming implementation, for training and serving alike.

`transaction_features` is the one implementation: given the states of the card, user,
merchant and device a transaction touches, it computes the features from what they
saw *before* it (the decision happens before the transaction is booked), then books
it into them. `VelocityState` keeps those states in process dictionaries: training
replays the history through it. The serving path reads the same states from the online
store (`state_store.py`) and calls the same function, so the two cannot drift apart.
`recompute_features` is the independent check: a brute-force batch computation over
the raw history that the data stage compares on a sample.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field

import numpy as np

from mlsd.designs.fraud.world import CATEGORIES, DAY

MINUTE, HOUR = 60.0, 3600.0
MAX_GAP = 7 * DAY  # time since last transaction is capped: "never" and "a week ago" look alike
PRIOR_WEIGHT = 20.0  # pseudo-transactions behind the bootstrap profile's typical amount
PRIOR_STD = 0.6

FEATURES: tuple[str, ...] = (
    "amount", "log_amount", "hour_sin", "hour_cos",
    "card_cnt_1m", "card_cnt_1h", "card_cnt_24h", "card_sum_1h", "card_sum_24h",
    "card_distinct_merchants_24h", "card_log_secs_since_last", "card_amount_z", "card_merchant_new",
    "user_cnt_1h", "user_cnt_24h", "user_sum_24h", "device_new_for_user", "user_distinct_devices_24h",
    "merchant_cnt_1h", "merchant_cnt_24h", "merchant_surge_ratio",
    "device_cnt_1h", "device_cnt_24h", "device_distinct_cards_24h",
) + tuple(f"cat_{c}" for c in CATEGORIES)
INDEX = {name: i for i, name in enumerate(FEATURES)}


@dataclass
class Window:
    """The last 24 h of one entity: (ts, amount, other id) events and their sum."""

    events: deque = field(default_factory=deque)
    total: float = 0.0

    def evict(self, now: float) -> None:
        events = self.events
        while events and events[0][0] <= now - DAY:
            self.total -= events.popleft()[1]

    def recent(self, now: float, span: float) -> tuple[int, float]:
        """Count and sum of events after now - span, scanning from the newest."""
        count, total = 0, 0.0
        for ts, amount, _ in reversed(self.events):
            if ts <= now - span:
                break
            count += 1
            total += amount
        return count, total

    def add(self, ts: float, amount: float, other: int) -> None:
        self.events.append((ts, amount, other))
        self.total += amount


@dataclass
class CardState:
    """One card: its window (other id: the merchant), when it was last used, the merchants
    it has paid, and running statistics of its log amount."""

    user: int
    window: Window
    last_seen: float | None
    merchants: set
    amount_stats: list  # [n, mean, M2] of log amount (Welford), seeded by the owner's profile


@dataclass
class UserState:
    """One customer: their window over all their cards (other id: the device) and the
    devices they are known to use."""

    window: Window
    devices: set


@dataclass
class Profile:
    """What the issuer knows of its customers before any transaction: whose card is whose,
    favourite merchants, known devices, typical amount. A card or user the state has not
    seen yet starts from here, as a production system starts from its history."""

    card_user: np.ndarray
    favourites: list
    user_devices: list
    user_log_amount: np.ndarray

    def new_card(self, card: int) -> CardState:
        user = int(self.card_user[card])
        prior = [PRIOR_WEIGHT, float(self.user_log_amount[user]), PRIOR_WEIGHT * PRIOR_STD**2]
        return CardState(user, Window(), None, set(self.favourites[user].tolist()), prior)

    def new_user(self, user: int) -> UserState:
        return UserState(Window(), set(self.user_devices[user].tolist()))


def transaction_features(c: CardState, u: UserState, m: Window, d: Window | None, ts: float, card: int,
                         merchant: int, category: int, device: int, amount: float) -> list[float]:
    """Features of this transaction from the states before it, then book it into them
    (changed in place). `d` is the device's window, None when the device is unknown."""
    log_amount = math.log1p(amount)
    hour = (ts % DAY) / HOUR
    cw, uw = c.window, u.window
    for w in (cw, uw, m):
        w.evict(ts)
    c1m, _ = cw.recent(ts, MINUTE)
    c1h, s1h = cw.recent(ts, HOUR)
    distinct_merchants = len({e[2] for e in cw.events})
    gap = MAX_GAP if c.last_seen is None else min(ts - c.last_seen, MAX_GAP)
    n, mean, m2 = c.amount_stats
    z = (log_amount - mean) / max(math.sqrt(m2 / n), 0.25)
    merchant_new = float(merchant not in c.merchants)
    u1h, _ = uw.recent(ts, HOUR)
    device_new = float(d is not None and device not in u.devices)
    distinct_devices = len({e[2] for e in uw.events})
    m1h, _ = m.recent(ts, HOUR)
    m24 = len(m.events)
    surge = m1h * 24.0 / (m24 + 1.0)
    if d is not None:
        d.evict(ts)
        d1h, _ = d.recent(ts, HOUR)
        d24, d_cards = len(d.events), len({e[2] for e in d.events})
    else:
        d1h = d24 = d_cards = 0
    row = [
        amount, log_amount, math.sin(2 * math.pi * hour / 24), math.cos(2 * math.pi * hour / 24),
        c1m, c1h, len(cw.events), math.log1p(s1h), math.log1p(max(cw.total, 0.0)),
        distinct_merchants, math.log1p(gap), z, merchant_new,
        u1h, len(uw.events), math.log1p(max(uw.total, 0.0)), device_new, distinct_devices,
        m1h, m24, surge,
        d1h, d24, d_cards,
    ]
    row.extend(1.0 if category == k else 0.0 for k in range(len(CATEGORIES)))
    # Book the transaction.
    cw.add(ts, amount, merchant)
    uw.add(ts, amount, device)
    m.add(ts, amount, card)
    if d is not None:
        d.add(ts, amount, card)
        u.devices.add(device)
    c.last_seen = ts
    c.merchants.add(merchant)
    n += 1
    delta = log_amount - mean
    mean += delta / n
    m2 += delta * (log_amount - mean)
    c.amount_stats = [n, mean, m2]
    return row


class VelocityState:
    """The feature state in process dictionaries: what training replays the history through."""

    def __init__(self, card_user, user_favourites, user_devices, user_log_amount) -> None:
        self.profile = Profile(card_user, user_favourites, user_devices, user_log_amount)
        self.cards: dict[int, CardState] = {}
        self.users: dict[int, UserState] = {}
        self.merchants: defaultdict[int, Window] = defaultdict(Window)
        self.devices: defaultdict[int, Window] = defaultdict(Window)

    def card(self, card: int) -> CardState:
        """The card's state, started from the profile on its first transaction (kept)."""
        found = self.cards.get(card)
        if found is None:
            found = self.cards[card] = self.profile.new_card(card)
        return found

    def user(self, user: int) -> UserState:
        found = self.users.get(user)
        if found is None:
            found = self.users[user] = self.profile.new_user(user)
        return found

    def features(self, ts: float, card: int, merchant: int, category: int, device: int, amount: float) -> list[float]:
        """Features of this transaction from the state before it, then book it."""
        c = self.card(card)
        return transaction_features(c, self.user(c.user), self.merchants[merchant],
                                    self.devices[device] if device >= 0 else None,
                                    ts, card, merchant, category, device, amount)


def stream_features(state: VelocityState, txns: dict[str, np.ndarray], track=None) -> np.ndarray:
    """Replay transactions (time-ordered) through the state; one feature row each."""
    columns = [txns[k].tolist() for k in ("ts", "card", "merchant", "category", "device", "amount")]
    rows = zip(*columns)
    if track is not None:
        rows = track(rows, txns["ts"].size)
    return np.array([state.features(*row) for row in rows], dtype=np.float64)


def recompute_features(world, txns: dict[str, np.ndarray], i: int) -> np.ndarray:
    """Features of transaction i computed from scratch over all earlier rows, with
    numpy masks instead of running state: the independent check of stream_features."""
    ts, card, merchant, device, amount = (txns[k][i] for k in ("ts", "card", "merchant", "device", "amount"))
    user = world.card_user[card]
    before = np.arange(txns["ts"].size) < i
    day_window = before & (txns["ts"] > ts - DAY)

    def window(mask, span):
        sel = mask & (txns["ts"] > ts - span)
        return int(sel.sum()), float(txns["amount"][sel].sum())

    is_card, is_user, is_merchant = txns["card"] == card, txns["user"] == user, txns["merchant"] == merchant
    log_amount = math.log1p(amount)
    hour = (ts % DAY) / HOUR
    c1m, _ = window(before & is_card, MINUTE)
    c1h, s1h = window(before & is_card, HOUR)
    c24, s24 = window(before & is_card, DAY)
    prev = txns["ts"][before & is_card]
    gap = MAX_GAP if prev.size == 0 else min(ts - prev.max(), MAX_GAP)
    logs = np.log1p(txns["amount"][before & is_card])
    prior_mean = float(world.user_log_amount[user])
    n = PRIOR_WEIGHT + logs.size
    mean = (PRIOR_WEIGHT * prior_mean + logs.sum()) / n
    m2 = PRIOR_WEIGHT * PRIOR_STD**2 + ((logs - logs.mean()) ** 2).sum() if logs.size else PRIOR_WEIGHT * PRIOR_STD**2
    if logs.size:
        m2 += PRIOR_WEIGHT * logs.size / n * (logs.mean() - prior_mean) ** 2
    z = (log_amount - mean) / max(math.sqrt(m2 / n), 0.25)
    known_merchants = set(world.user_favourites[user].tolist()) | set(txns["merchant"][before & is_card].tolist())
    u1h, _ = window(before & is_user, HOUR)
    u24, us24 = window(before & is_user, DAY)
    user_devs = txns["device"][before & is_user]
    known_devices = set(world.user_devices[user].tolist()) | set(user_devs[user_devs >= 0].tolist())
    m1h, _ = window(before & is_merchant, HOUR)
    m24, _ = window(before & is_merchant, DAY)
    if device >= 0:
        is_device = txns["device"] == device
        d1h, _ = window(before & is_device, HOUR)
        d24, _ = window(before & is_device, DAY)
        d_cards = np.unique(txns["card"][day_window & is_device]).size
    else:
        d1h = d24 = d_cards = 0
    row = [
        amount, log_amount, math.sin(2 * math.pi * hour / 24), math.cos(2 * math.pi * hour / 24),
        c1m, c1h, c24, math.log1p(s1h), math.log1p(max(s24, 0.0)),
        np.unique(txns["merchant"][day_window & is_card]).size, math.log1p(gap), z,
        float(merchant not in known_merchants),
        u1h, u24, math.log1p(max(us24, 0.0)), float(device >= 0 and device not in known_devices),
        np.unique(txns["device"][day_window & is_user]).size,
        m1h, m24, m1h * 24.0 / (m24 + 1.0),
        d1h, d24, d_cards,
    ]
    row.extend(1.0 if txns["category"][i] == k else 0.0 for k in range(len(CATEGORIES)))
    return np.array(row, dtype=np.float64)
