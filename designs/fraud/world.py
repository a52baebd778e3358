"""The synthetic card-transaction world the fraud design runs on.

Users own cards and devices and shop at favourite merchants with a daily rhythm.
Fraud comes from attack generators, each with a known probability that a
transaction it emits is fraud (`p_true`): labels are Bernoulli draws from it, so the
oracle is the PR-AUC of `p_true` itself. Chargebacks (labels) arrive days later.

Timeline: `days` of history (the offline study), then `monitor_days` in which, on
`shift_day`, a crypto-exchange partner launches and a crypto cash-out fraud follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CATEGORIES = ("grocery", "restaurant", "online", "travel", "electronics", "crypto")
CATEGORY_SHARE = np.array([0.32, 0.26, 0.20, 0.08, 0.12, 0.02])
CATEGORY_LOG_AMOUNT = np.log([40.0, 30.0, 60.0, 300.0, 200.0, 150.0])
CRYPTO = CATEGORIES.index("crypto")
ONLINE = CATEGORIES.index("online")
ELECTRONICS = CATEGORIES.index("electronics")
TRAVEL = CATEGORIES.index("travel")

PATTERNS = ("legit", "card testing", "account takeover", "compromised merchant", "crypto cash-out")
LEGIT, CARD_TESTING, ACCOUNT_TAKEOVER, COMPROMISED_MERCHANT, CRYPTO_CASHOUT = range(5)

# Hour-of-day shape of legitimate traffic: quiet at night, busiest mid-day and evening.
RHYTHM = np.array([2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 7, 8, 9, 8, 7, 7, 8, 9, 9, 8, 6, 5, 4, 3], dtype=float)
RHYTHM /= RHYTHM.sum()
NIGHT = np.array([8, 8, 8, 7, 6, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 6, 7], dtype=float)
NIGHT /= NIGHT.sum()

P_LEGIT = 0.0003  # friendly fraud and noise: a legit-looking transaction can still charge back
FAVOURITES = 8  # merchants a user returns to; the state is bootstrapped with them
DAY = 86400.0

COLUMNS = ("txn_id", "ts", "card", "user", "merchant", "category", "device", "amount",
           "p_true", "is_fraud", "pattern", "label_time")


@dataclass
class World:
    """Everything the generator knows. `history` and `future` are column dicts sorted
    by time; `future` starts where `history` ends."""

    history: dict[str, np.ndarray]
    future: dict[str, np.ndarray]
    card_user: np.ndarray
    user_favourites: np.ndarray  # (users, FAVOURITES) merchant ids
    user_devices: list[np.ndarray]
    user_log_amount: np.ndarray  # the bootstrap profile's typical log amount per user
    merchant_category: np.ndarray
    shift_day: int
    dirt: dict[str, int]


def generate(cfg, rng: np.random.Generator) -> World:
    """Generate the whole timeline for a FraudConfig (see mlsd.designs.fraud)."""
    n_users, n_merchants = cfg.n_users, cfg.n_merchants
    total_days = cfg.days + cfg.monitor_days
    shift_day = cfg.days + cfg.monitor_days // 2 - 1

    merchant_category = rng.choice(len(CATEGORIES), size=n_merchants, p=CATEGORY_SHARE)
    merchant_log_amount = CATEGORY_LOG_AMOUNT[merchant_category] + rng.normal(0, 0.3, n_merchants)
    popularity = 1.0 / np.arange(1, n_merchants + 1) ** 0.8
    popularity = rng.permutation(popularity / popularity.sum())
    # The crypto partner's merchants exist from the start but see no traffic before launch.
    n_launch = max(3, n_merchants // 40)
    launch_merchants = np.arange(n_merchants, n_merchants + n_launch)
    merchant_category = np.r_[merchant_category, np.full(n_launch, CRYPTO)]
    merchant_log_amount = np.r_[merchant_log_amount, np.full(n_launch, np.log(150.0))]

    cards_per_user = 1 + (rng.random(n_users) < 0.3)
    card_user = np.repeat(np.arange(n_users), cards_per_user)
    first_card = np.r_[0, np.cumsum(cards_per_user)[:-1]]
    devices_per_user = 1 + (rng.random(n_users) < 0.4)
    first_device = np.r_[0, np.cumsum(devices_per_user)[:-1]]
    user_devices = [first_device[u] + np.arange(devices_per_user[u]) for u in range(n_users)]
    next_device = [int(devices_per_user.sum())]

    def new_devices(k: int) -> np.ndarray:
        ids = np.arange(next_device[0], next_device[0] + k)
        next_device[0] += k
        return ids

    favourites = np.stack([rng.choice(n_merchants, FAVOURITES, replace=False, p=popularity) for _ in range(n_users)])
    user_offset = rng.normal(0, 0.3, n_users)
    user_log_amount = merchant_log_amount[favourites].mean(axis=1) + user_offset
    rate = rng.gamma(2.0, cfg.txns_per_user_day / 2.0, n_users)

    # --- legitimate traffic --------------------------------------------------------
    counts = rng.poisson(rate[:, None], size=(n_users, total_days))
    user = np.repeat(np.repeat(np.arange(n_users), total_days), counts.ravel())
    day = np.repeat(np.tile(np.arange(total_days), n_users), counts.ravel())
    n = user.size
    ts = (day * 24 + rng.choice(24, n, p=RHYTHM) + rng.random(n)) * 3600.0
    card = first_card[user] + rng.integers(0, 1 << 30, n) % cards_per_user[user]
    at_favourite = rng.random(n) < 0.85
    merchant = np.where(at_favourite, favourites[user, rng.integers(0, FAVOURITES, n)],
                        rng.choice(n_merchants, n, p=popularity))
    device = first_device[user] + rng.integers(0, 1 << 30, n) % devices_per_user[user]
    changed_phone = rng.random(n) < 0.01
    device[changed_phone] = new_devices(int(changed_phone.sum()))
    # Launch: half the users adopt the crypto partner and use it for half their purchases.
    adopters = rng.random(n_users) < 0.5
    to_crypto = (day >= shift_day) & adopters[user] & (rng.random(n) < 0.5)
    merchant[to_crypto] = launch_merchants[user[to_crypto] % n_launch]
    amount = np.exp(merchant_log_amount[merchant] + user_offset[user] + rng.normal(0, 0.6, n))
    legit = _columns(ts, card, card_user[card], merchant, merchant_category[merchant], device, amount,
                     np.full(n, P_LEGIT), LEGIT)

    # --- attacks --------------------------------------------------------------------
    daily_legit = n / total_days
    target_per_day = cfg.fraud_rate * daily_legit
    fraud_devices = new_devices(max(4, int(target_per_day)))  # shared by fraud rings
    online = np.flatnonzero(merchant_category[:n_merchants] == ONLINE)
    pricey = np.flatnonzero(np.isin(merchant_category[:n_merchants], (ELECTRONICS, TRAVEL, ONLINE)))
    parts = [legit]
    for d in range(total_days):
        for _ in range(rng.poisson(0.35 * target_per_day / 9.0)):
            parts.append(_card_testing(rng, d, card_user, online, pricey, fraud_devices, merchant_category))
        for _ in range(rng.poisson(0.35 * target_per_day / 2.0)):
            parts.append(_account_takeover(rng, d, first_card, cards_per_user, pricey, new_devices,
                                           user_log_amount, merchant_category))
        for _ in range(rng.poisson(0.30 * target_per_day / 14.0)):
            parts.append(_compromised_merchant(rng, d, card_user, merchant_log_amount, merchant_category,
                                               new_devices, n_merchants))
        if d >= shift_day:
            for _ in range(rng.poisson(0.6 * target_per_day / 1.5)):
                parts.append(_crypto_cashout(rng, d, card_user, first_device, launch_merchants))
    txns = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    inside = txns["ts"] < total_days * DAY  # an attack that starts late on the last day is cut off
    txns = {k: v[inside] for k, v in txns.items()}
    order = np.argsort(txns["ts"], kind="stable")
    txns = {k: v[order] for k, v in txns.items()}
    m = txns["ts"].size
    txns["txn_id"] = np.arange(m)
    txns["is_fraud"] = rng.random(m) < txns["p_true"]
    delay = np.exp(np.log(2 * DAY) + 0.6 * rng.normal(size=m))  # chargebacks: median 2 days
    txns["label_time"] = np.where(txns["is_fraud"], txns["ts"] + delay, np.inf)

    split = int(np.searchsorted(txns["ts"], cfg.days * DAY))
    history = {k: v[:split] for k, v in txns.items()}
    future = {k: v[split:] for k, v in txns.items()}
    history, dirt = _inject_dirt(history, rng)
    return World(history, future, card_user, favourites, user_devices, user_log_amount,
                 merchant_category, shift_day, dirt)


def _columns(ts, card, user, merchant, category, device, amount, p_true, pattern) -> dict[str, np.ndarray]:
    n = np.size(ts)
    return {
        "ts": np.asarray(ts, dtype=np.float64),
        "card": np.asarray(card, dtype=np.int64),
        "user": np.asarray(user, dtype=np.int64),
        "merchant": np.asarray(merchant, dtype=np.int64),
        "category": np.asarray(category, dtype=np.int64),
        "device": np.asarray(device, dtype=np.int64),
        "amount": np.round(np.asarray(amount, dtype=np.float64), 2),
        "p_true": np.broadcast_to(np.asarray(p_true, dtype=np.float64), (n,)).copy(),
        "pattern": np.full(n, pattern, dtype=np.int64),
    }


def _card_testing(rng, d, card_user, online, pricey, fraud_devices, merchant_category):
    """Small probes in a burst to check a stolen card works, then often a cash-out."""
    card = rng.integers(card_user.size)
    start = (d * 24 + rng.choice(24, p=NIGHT) + rng.random()) * 3600.0
    k = 4 + rng.poisson(5)
    ts = start + np.sort(rng.random(k)) * rng.uniform(120, 900)
    merchants = rng.choice(online, k)
    amounts = rng.uniform(0.5, 5.0, k)
    device = rng.choice(fraud_devices)
    p = np.full(k, 0.8)
    if rng.random() < 0.6:
        j = 1 + rng.integers(2)
        ts = np.r_[ts, ts[-1] + np.sort(rng.uniform(600, 7200, j))]
        merchants = np.r_[merchants, rng.choice(pricey, j)]
        amounts = np.r_[amounts, np.exp(np.log(600) + 0.4 * rng.normal(size=j))]
        p = np.r_[p, np.full(j, 0.95)]
    n = ts.size
    return _columns(ts, np.full(n, card), np.full(n, card_user[card]), merchants,
                    merchant_category[merchants], np.full(n, device), amounts, p, CARD_TESTING)


def _account_takeover(rng, d, first_card, cards_per_user, pricey, new_devices, user_log_amount,
                      merchant_category):
    """A stolen login: an unseen device, a few purchases far above the user's usual."""
    user = rng.integers(first_card.size)
    card = first_card[user] + rng.integers(cards_per_user[user])
    k = 1 + rng.integers(3)
    start = (d * 24 + rng.choice(24, p=NIGHT) + rng.random()) * 3600.0
    ts = start + np.sort(rng.uniform(0, 7200, k))
    merchants = rng.choice(pricey, k)
    amounts = np.exp(user_log_amount[user] + np.log(rng.uniform(4, 12, k)))
    device = new_devices(1)[0]
    return _columns(ts, np.full(k, card), np.full(k, user), merchants, merchant_category[merchants],
                    np.full(k, device), amounts, 0.9, ACCOUNT_TAKEOVER)


def _compromised_merchant(rng, d, card_user, merchant_log_amount, merchant_category, new_devices, n_merchants):
    """A breached merchant: for a few hours, many unrelated cards, larger amounts,
    through a handful of the attacker's terminals."""
    merchant = rng.integers(n_merchants)
    k = 8 + rng.poisson(8)
    start = (d * 24 + rng.random() * 20) * 3600.0
    ts = start + np.sort(rng.uniform(0, rng.uniform(3, 8) * 3600.0, k))
    cards = rng.integers(card_user.size, size=k)
    amounts = np.exp(merchant_log_amount[merchant] + 0.8 + 0.5 * rng.normal(size=k))
    devices = rng.choice(new_devices(3), k)
    return _columns(ts, cards, card_user[cards], np.full(k, merchant), np.full(k, merchant_category[merchant]),
                    devices, amounts, 0.7, COMPROMISED_MERCHANT)


def _crypto_cashout(rng, d, card_user, first_device, launch_merchants):
    """After the launch: stolen cards drained into crypto through the victim's own
    (remotely controlled) device, at ordinary hours: little the old model has seen."""
    card = rng.integers(card_user.size)
    user = card_user[card]
    k = 1 + rng.integers(2)
    start = (d * 24 + rng.choice(24, p=RHYTHM) + rng.random()) * 3600.0
    ts = start + np.sort(rng.uniform(0, 3600, k))
    merchants = rng.choice(launch_merchants, k)
    amounts = np.exp(np.log(350) + 0.4 * rng.normal(size=k))
    return _columns(ts, np.full(k, card), np.full(k, user), merchants, np.full(k, CRYPTO),
                    np.full(k, first_device[user]), amounts, 0.85, CRYPTO_CASHOUT)


def _inject_dirt(txns: dict[str, np.ndarray], rng) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """What real pipelines deliver: retried duplicates, missing device ids, refunds
    that leaked in as negative amounts. Only legit rows are touched; the counts are
    returned so the data stage can show its checks found them all."""
    n = txns["ts"].size
    legit_rows = np.flatnonzero(txns["pattern"] == LEGIT)
    k_dup, k_null, k_neg = max(2, n // 1000), max(2, n // 500), max(1, n // 2000)
    picked = rng.choice(legit_rows, k_dup + k_null + k_neg, replace=False)
    dup, null, neg = np.split(picked, [k_dup, k_dup + k_null])
    txns = {k: v.copy() for k, v in txns.items()}
    txns["device"][null] = -1
    txns["amount"][neg] = -txns["amount"][neg]
    txns["is_fraud"][neg] = False
    order = np.argsort(np.r_[np.arange(n), dup], kind="stable")  # each duplicate right after its original
    txns = {k: np.r_[v, v[dup]][order] for k, v in txns.items()}
    txns["ts"] = txns["ts"] + np.r_[np.zeros(n), np.full(k_dup, 0.001)][order]  # a retry, a millisecond later
    return txns, {"duplicates": int(k_dup), "null_device": int(k_null), "negative_amount": int(k_neg)}
