"""The results store: every run, and later every practice session, in one SQLite file.

It lives in the user data directory (platformdirs), or in $MLSD_HOME when set. WAL
mode lets a `mlsd compare` read while a run writes. A file that is not a readable
mlsd database is reported and left exactly as it is: never replaced, never migrated
blindly. Migrations are numbered and recorded in SQLite's `user_version`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from mlsd.errors import StoreError

DB_NAME = "mlsd.sqlite3"

# Append only: migration N brings a database from user_version N to N+1.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        design TEXT NOT NULL,
        scale TEXT NOT NULL,
        seed INTEGER NOT NULL,
        config TEXT NOT NULL,
        version TEXT NOT NULL,
        machine TEXT NOT NULL,
        started_at TEXT NOT NULL,
        duration_s REAL NOT NULL
    );
    CREATE TABLE stage_runs (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        stage TEXT NOT NULL,
        duration_s REAL NOT NULL,
        result TEXT NOT NULL
    );
    CREATE TABLE metrics (
        stage_run_id INTEGER NOT NULL REFERENCES stage_runs(id),
        name TEXT NOT NULL,
        value REAL,
        unit TEXT,
        higher_is_better INTEGER,
        target REAL,
        baseline REAL,
        oracle REAL
    );
    CREATE INDEX stage_runs_by_stage ON stage_runs(stage, run_id);
    """,
    # 2: practice sessions. `parts` is the JSON list of part keys in the order asked
    # ("problem" ... "monitoring", "followup:serving:0"); follow-ups join it when chosen.
    """
    CREATE TABLE practice_sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- numbers are shown to users: never reused
        design TEXT NOT NULL,
        parts TEXT NOT NULL,
        minutes_factor REAL NOT NULL,
        timer INTEGER NOT NULL,
        source TEXT NOT NULL,
        version TEXT NOT NULL,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'finished')),
        draft TEXT
    );
    CREATE TABLE practice_answers (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES practice_sessions(id),
        part TEXT NOT NULL,
        stage TEXT NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        skipped INTEGER NOT NULL,
        hints TEXT NOT NULL,
        score INTEGER NOT NULL,
        points TEXT NOT NULL,
        seconds REAL,
        budget_s REAL NOT NULL,
        answered_at TEXT NOT NULL,
        UNIQUE (session_id, part)
    );
    CREATE INDEX practice_sessions_by_design ON practice_sessions(design, id);
    """,
    # 3: bootstrap intervals of a metric and of its gap to the baseline (mlsd.blocks.uncertainty)
    """
    ALTER TABLE metrics ADD COLUMN ci_low REAL;
    ALTER TABLE metrics ADD COLUMN ci_high REAL;
    ALTER TABLE metrics ADD COLUMN vs_baseline_low REAL;
    ALTER TABLE metrics ADD COLUMN vs_baseline_high REAL;
    """,
    # 4: a value cut off at its measurement's limit (the true value lies beyond it)
    """
    ALTER TABLE metrics ADD COLUMN censored INTEGER NOT NULL DEFAULT 0;
    """,
]


def home() -> Path:
    """Where mlsd keeps its data: $MLSD_HOME, else the platform's user data dir."""
    override = os.environ.get("MLSD_HOME")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("mlsd", appauthor=False))


def db_path() -> Path:
    return home() / DB_NAME


def explain_failure(path: Path, exc: BaseException) -> str:
    """One line naming what is actually wrong with the store and the fix for that case."""
    folder = path.parent
    elsewhere = "or set MLSD_HOME to another folder"
    if folder.exists() and not folder.is_dir():
        return f"cannot use results folder {folder}: it is a file, not a folder. Set MLSD_HOME to a folder."
    if isinstance(exc, PermissionError) or (folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK)):
        return f"cannot write to results folder {folder} (permission denied). Make it writable {elsewhere}."
    if path.is_file() and not os.access(path, os.W_OK) or "readonly" in str(exc):
        return f"results database {path} is read-only. Make it writable (chmod u+w '{path}') {elsewhere}."
    if isinstance(exc, sqlite3.DatabaseError):
        return (f"results database {path} is damaged or not an mlsd database ({exc}). Move it aside "
                f"(mv '{path}' '{path}.bak') {elsewhere}; nothing in it is changed.")
    return f"cannot use results database {path}: {exc}. Set MLSD_HOME to another folder."


class Store:
    """A thin, explicit layer over the SQLite file. Open it with `Store.open()`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path | None = None) -> "Store":
        """Open (creating and migrating it if needed) for reading and writing. Checks the
        file's integrity first, so a run never computes for minutes and then fails to record."""
        path = path or db_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version and conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("database disk image is malformed")
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(explain_failure(path, exc)) from None
        return cls._ready(conn, path, version)

    @classmethod
    def open_readonly(cls, path: Path | None = None) -> "Store | None":
        """For commands that only read (`mlsd progress`): never creates, migrates or writes
        anything, so a read-only store or folder works. None when no store exists yet."""
        path = path or db_path()
        if not path.is_file():
            return None
        try:
            try:
                conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
                version = conn.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.OperationalError:  # a WAL file in a read-only folder: read the file as it is
                conn = sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True, timeout=10)
                version = conn.execute("PRAGMA user_version").fetchone()[0]
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("database disk image is malformed")
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(explain_failure(path, exc)) from None
        if version < len(MIGRATIONS):  # an older schema must be upgraded, which needs writing
            conn.close()
            return cls.open(path)
        return cls._ready(conn, path, version)

    @classmethod
    def _ready(cls, conn: sqlite3.Connection, path: Path, version: int) -> "Store":
        if version > len(MIGRATIONS):
            conn.close()
            raise StoreError(
                f"results database {path} was written by a newer mlsd (schema {version}). "
                "Upgrade mlsd (pip install -U mlsd) or set MLSD_HOME to another folder."
            )
        store = cls(conn, path)
        try:
            store._migrate(version)
        except StoreError:
            conn.close()
            raise
        return store

    def _migrate(self, version: int) -> None:
        if 0 < version < len(MIGRATIONS):
            self._backup(version)
        for number in range(version, len(MIGRATIONS)):
            try:
                with self.conn:  # one transaction per migration: all of it or none
                    self.conn.executescript("BEGIN;" + MIGRATIONS[number] + f"; PRAGMA user_version={number + 1};")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"cannot migrate results database {self.path}: {exc}") from None

    def _backup(self, version: int) -> None:
        """Before changing the schema of a database that holds data, copy it aside
        once (mlsd.sqlite3.schema1.bak): recorded answers survive even a bad migration."""
        target = self.path.with_name(f"{self.path.name}.schema{version}.bak")
        if target.exists():
            return
        try:
            with sqlite3.connect(target) as copy:
                self.conn.backup(copy)
            copy.close()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(f"cannot back up results database {self.path} before upgrading it: {exc}") from None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- runs ---------------------------------------------------------------
    def record_run(self, run: dict[str, Any]) -> int:
        """Store one run: its identity, and per stage its duration, result and metrics."""
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO runs(design, scale, seed, config, version, machine, started_at, duration_s)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (run["design"], run["scale"], run["seed"], json.dumps(run["config"]), run["version"],
                 run["machine"], run["started_at"], run["duration_s"]),
            )
            run_id = cur.lastrowid
            for stage in run["stages"]:
                cur = self.conn.execute(
                    "INSERT INTO stage_runs(run_id, stage, duration_s, result) VALUES (?,?,?,?)",
                    (run_id, stage["stage"], stage["duration_s"], json.dumps(stage["result"])),
                )
                self.conn.executemany(
                    "INSERT INTO metrics(stage_run_id, name, value, unit, higher_is_better, target, baseline, oracle,"
                    " ci_low, ci_high, vs_baseline_low, vs_baseline_high, censored) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [(cur.lastrowid, m["name"], m["value"], m["unit"], m["higher_is_better"],
                      m["target"], m["baseline"], m["oracle"], m.get("ci_low"), m.get("ci_high"),
                      m.get("vs_baseline_low"), m.get("vs_baseline_high"), bool(m.get("censored")))
                     for m in stage["result"]["metrics"]],
                )
        return int(run_id)

    def latest_stage(self, design: str, stage: str, *, version: str, scale: str, machine: str) -> dict[str, Any] | None:
        """The newest recorded result of one stage for this version, scale and machine."""
        row = self.conn.execute(
            "SELECT r.id, r.started_at, r.seed, s.duration_s, s.result FROM stage_runs s"
            " JOIN runs r ON r.id = s.run_id"
            " WHERE r.design=? AND s.stage=? AND r.version=? AND r.scale=? AND r.machine=?"
            " ORDER BY r.id DESC LIMIT 1",
            (design, stage, version, scale, machine),
        ).fetchone()
        if row is None:
            return None
        run_id, started_at, seed, duration, result = row
        return {"run_id": run_id, "started_at": started_at, "seed": seed, "duration_s": duration,
                "result": json.loads(result)}
