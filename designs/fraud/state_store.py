"""The online velocity store: the feature state the serving path reads and writes per
request, kept in SQLite in WAL mode, one JSON record per card, user, merchant and device.

A production fraud service keeps this state in Redis or a feature store and pays a
network round trip for it; here it pays what a store costs without the network: a
file-backed database, a query, deserialising and serialising every record, and one
atomic read-modify-write transaction per request, so two workers cannot book over
each other. SQLite's own housekeeping stays on the request path: every 1,000 WAL pages
the committing request copies them back into the database file (a checkpoint). JSON round-trips floats exactly (shortest repr), so the served features
equal the training features bit for bit.
"""

from __future__ import annotations

import json
import sqlite3
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from mlsd.designs.fraud.features import CardState, Profile, UserState, VelocityState, Window


class SqliteKV:
    """Key -> text value in one SQLite file in WAL mode: batched reads (like Redis MGET)
    and writes inside one transaction per request."""

    def __init__(self, path: str) -> None:
        # isolation_level=None: we issue BEGIN and COMMIT ourselves; check_same_thread=False:
        # the open-loop run serves from a worker thread, one request at a time.
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        # No fsync: a commit reaches the OS page cache, safe if the process dies, not if the
        # machine does. The velocity state is derived data (a replay of the transaction
        # stream rebuilds it), as feature stores run Redis without fsync. With fsync at
        # each WAL checkpoint (synchronous=NORMAL) the checkpointing commit stalled for
        # 13-20 ms here, and every request queued behind it paid for it.
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
        self._selects: dict[int, str] = {}

    def get_many(self, keys: list[str]) -> dict[str, str]:
        sql = self._selects.get(len(keys))
        if sql is None:
            sql = self._selects[len(keys)] = f"SELECT key, value FROM kv WHERE key IN ({','.join('?' * len(keys))})"
        return dict(self.db.execute(sql, keys).fetchall())

    def put_many(self, items: Iterable[tuple[str, str]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", items)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE takes the write lock at the start: a read-modify-write that
        another writer cannot interleave with."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


# Records as JSON. Windows keep their running total as stored, not re-summed: re-summing
# would change the float's last bits and the features with it.

def encode_window(w: Window) -> dict:
    return {"events": list(w.events), "total": w.total}


def decode_window(record: dict) -> Window:
    return Window(deque(tuple(e) for e in record["events"]), record["total"])


def encode_card(c: CardState) -> str:
    return json.dumps({"user": c.user, **encode_window(c.window), "last_seen": c.last_seen,
                       "merchants": sorted(c.merchants), "amount_stats": c.amount_stats}, separators=(",", ":"))


def decode_card(text: str) -> CardState:
    r = json.loads(text)
    return CardState(r["user"], decode_window(r), r["last_seen"], set(r["merchants"]), r["amount_stats"])


def encode_user(u: UserState) -> str:
    return json.dumps({**encode_window(u.window), "devices": sorted(u.devices)}, separators=(",", ":"))


def decode_user(text: str) -> UserState:
    r = json.loads(text)
    return UserState(decode_window(r), set(r["devices"]))


def encode_plain_window(w: Window) -> str:
    return json.dumps(encode_window(w), separators=(",", ":"))


def decode_plain_window(text: str | None) -> Window:
    return Window() if text is None else decode_window(json.loads(text))


class VelocityStore:
    """The velocity state of every card, user, merchant and device in a SqliteKV.
    Cards and users are written up front from the profile (the issuer knows its customers);
    a merchant or device with no record yet has an empty window."""

    def __init__(self, kv: SqliteKV) -> None:
        self.kv = kv

    def load(self, state: VelocityState) -> int:
        """Write `state` (left unchanged) into the store; the number of records written."""
        profile: Profile = state.profile
        cards = (state.cards.get(c) or profile.new_card(c) for c in range(len(profile.card_user)))
        users = (state.users.get(u) or profile.new_user(u) for u in range(len(profile.user_devices)))
        records = [(f"card:{i}", encode_card(c)) for i, c in enumerate(cards)]
        records += [(f"user:{i}", encode_user(u)) for i, u in enumerate(users)]
        records += [(f"merchant:{i}", encode_plain_window(w)) for i, w in state.merchants.items()]
        records += [(f"device:{i}", encode_plain_window(w)) for i, w in state.devices.items()]
        with self.kv.transaction():
            self.kv.put_many(records)
        return len(records)

    def transaction(self):
        """One read-modify-write of the state, atomic against other workers."""
        return self.kv.transaction()

    def read(self, card: int, user: int, merchant: int, device: int) -> tuple:
        """(card, user, merchant window, device window or None) in one query."""
        keys = [f"card:{card}", f"user:{user}", f"merchant:{merchant}"] + ([f"device:{device}"] if device >= 0 else [])
        found = self.kv.get_many(keys)
        device_window = decode_plain_window(found.get(keys[3])) if device >= 0 else None
        return (decode_card(found[keys[0]]), decode_user(found[keys[1]]),
                decode_plain_window(found.get(keys[2])), device_window)

    def write(self, card: int, user: int, merchant: int, device: int, states: tuple) -> None:
        c, u, m, d = states
        records = [(f"card:{card}", encode_card(c)), (f"user:{user}", encode_user(u)),
                   (f"merchant:{merchant}", encode_plain_window(m))]
        if d is not None:
            records.append((f"device:{device}", encode_plain_window(d)))
        self.kv.put_many(records)
