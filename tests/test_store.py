"""The results store: round trip, WAL mode, and never overwriting a file it cannot read."""

from __future__ import annotations

import sqlite3

import pytest

from mlsd.errors import StoreError
from mlsd.store import MIGRATIONS, Store, db_path


def sample_run(design="fraud", stage="serving", p99=3.0):
    metric = {"name": "latency_p99_ms", "value": p99, "unit": "ms", "higher_is_better": False,
              "target": 100.0, "baseline": None, "oracle": None, "label": "", "met": True}
    return {"design": design, "scale": "tiny", "seed": 0, "config": {"a": 1}, "version": "0.1.0",
            "machine": "m", "started_at": "2026-01-01T00:00:00+00:00", "duration_s": 1.0,
            "stages": [{"stage": stage, "duration_s": 0.5, "result": {"metrics": [metric]}}]}


def test_round_trip_and_latest_wins(mlsd_home):
    with Store.open() as store:
        store.record_run(sample_run(p99=3.0))
        newest = store.record_run(sample_run(p99=2.0))
        found = store.latest_stage("fraud", "serving", version="0.1.0", scale="tiny", machine="m")
        assert found["run_id"] == newest and found["result"]["metrics"][0]["value"] == 2.0
        assert store.latest_stage("fraud", "serving", version="9.9", scale="tiny", machine="m") is None
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("SELECT COUNT(*) FROM metrics").fetchone()[0] == 2
    assert db_path().parent == mlsd_home


def test_a_corrupt_file_is_reported_and_left_untouched(mlsd_home):
    mlsd_home.mkdir(parents=True)
    path = db_path()
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    with pytest.raises(StoreError, match="Move it aside"):
        Store.open()
    assert path.read_bytes() == garbage


def test_a_newer_schema_is_refused(mlsd_home):
    mlsd_home.mkdir(parents=True)
    conn = sqlite3.connect(db_path())
    conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer mlsd"):
        Store.open()


def test_corrupt_store_gives_one_line_and_exit_2(cli, mlsd_home):
    mlsd_home.mkdir(parents=True)
    db_path().write_bytes(b"garbage" * 500)
    result = cli("compare", "latency", "--scale", "tiny")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert db_path().read_bytes() == b"garbage" * 500
