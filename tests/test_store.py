"""The results store: round trip, WAL mode, and never overwriting a file it cannot read."""

from __future__ import annotations

import json
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


def _schema_1_database_with_a_run():
    """A results file as mlsd 0.1 (schema 1, before practice) left it."""
    db_path().parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db_path()) as conn:
        conn.executescript("BEGIN;" + MIGRATIONS[0] + "; PRAGMA user_version=1;")
        run = sample_run(p99=7.0)
        run_id = conn.execute(
            "INSERT INTO runs(design, scale, seed, config, version, machine, started_at, duration_s)"
            " VALUES (?,?,?,?,?,?,?,?)", (run["design"], run["scale"], run["seed"], json.dumps(run["config"]),
                                          run["version"], run["machine"], run["started_at"], run["duration_s"]),
        ).lastrowid
        stage = run["stages"][0]
        stage_id = conn.execute("INSERT INTO stage_runs(run_id, stage, duration_s, result) VALUES (?,?,?,?)",
                                (run_id, stage["stage"], stage["duration_s"], json.dumps(stage["result"]))).lastrowid
        m = stage["result"]["metrics"][0]
        conn.execute("INSERT INTO metrics VALUES (?,?,?,?,?,?,?,?)", (stage_id, m["name"], m["value"], m["unit"],
                     m["higher_is_better"], m["target"], m["baseline"], m["oracle"]))
    conn.close()


def test_an_old_database_is_upgraded_with_its_runs_kept_and_a_backup_beside_it(mlsd_home):
    _schema_1_database_with_a_run()
    with Store.open() as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        found = store.latest_stage("fraud", "serving", version="0.1.0", scale="tiny", machine="m")
        assert found["result"]["metrics"][0]["value"] == 7.0
        assert store.conn.execute("SELECT COUNT(*) FROM practice_sessions").fetchone()[0] == 0
        columns = {row[1] for row in store.conn.execute("PRAGMA table_info(metrics)")}
        assert {"ci_low", "ci_high", "vs_baseline_low", "vs_baseline_high", "censored"} <= columns
        store.record_run(sample_run(p99=8.0))  # a run of today's shape goes into the upgraded file
    backup = db_path().with_name(db_path().name + ".schema1.bak")
    with sqlite3.connect(backup) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 1
        assert old.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


def _record_one_answer():
    from mlsd.practice.history import Answer, PracticeLog

    with Store.open() as store:
        log = PracticeLog(store)
        session = log.start("fraud", ["problem", "data"], 1.0, True, "file")
        log.save_answer(session, Answer("problem", "problem", "Q?", "my answer", False, [], 55,
                                        [{"point": "p", "weight": 1.0, "why": "w"}], 12.5, 300.0))
        return session.id


def test_practice_answers_survive_reopening_and_a_later_migration(mlsd_home, monkeypatch):
    from mlsd import store as store_module
    from mlsd.practice.history import PracticeLog

    session_id = _record_one_answer()
    future = [*MIGRATIONS, "ALTER TABLE practice_answers ADD COLUMN note TEXT;"]
    monkeypatch.setattr(store_module, "MIGRATIONS", future)
    with Store.open() as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(future)
        session = PracticeLog(store).session(session_id)
        assert session.answers["problem"].answer == "my answer" and session.remaining == ["data"]


def test_a_failing_migration_changes_nothing_and_keeps_every_answer(mlsd_home, monkeypatch):
    from mlsd import store as store_module
    from mlsd.practice.history import PracticeLog

    session_id = _record_one_answer()
    broken = [*MIGRATIONS, "CREATE TABLE extra (x INTEGER); ALTER TABLE no_such_table ADD COLUMN y TEXT;"]
    monkeypatch.setattr(store_module, "MIGRATIONS", broken)
    with pytest.raises(StoreError, match="cannot migrate"):
        Store.open()
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    with Store.open() as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "extra" not in tables  # the half-applied migration was rolled back
        assert PracticeLog(store).session(session_id).answers["problem"].score == 55


def _corrupt_pages(path) -> bytes:
    """A store whose 100-byte header is intact but whose later pages are garbage."""
    with Store.open(path) as store:
        for _ in range(30):
            store.record_run(sample_run())
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    data[2 * page:len(data)] = b"\xab" * (len(data) - 2 * page)
    path.write_bytes(bytes(data))
    return bytes(data)


def test_corrupt_pages_behind_an_intact_header_are_caught_at_open(mlsd_home):
    mlsd_home.mkdir(parents=True)
    corrupted = _corrupt_pages(db_path())
    with pytest.raises(StoreError, match="damaged"):
        Store.open()
    assert db_path().read_bytes() == corrupted


def test_a_run_on_a_corrupt_store_stops_before_any_work(cli, mlsd_home, monkeypatch):
    mlsd_home.mkdir(parents=True)
    _corrupt_pages(db_path())
    monkeypatch.setattr("mlsd.runner.run_design", lambda *a, **k: pytest.fail("the run started"))
    result = cli("run", "fraud", "--scale", "tiny")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1 and "mv " in result.err


def test_progress_on_no_store_creates_nothing(cli, mlsd_home):
    result = cli("progress")
    assert result.code == 0 and "No practice recorded yet" in result.out
    assert not mlsd_home.exists()


def test_progress_reads_a_read_only_store_in_a_read_only_folder(cli, mlsd_home):
    import os

    with Store.open() as store:
        store.record_run(sample_run())
    os.chmod(db_path(), 0o444)
    os.chmod(mlsd_home, 0o555)
    try:
        if os.access(db_path(), os.W_OK):
            pytest.skip("running as a user who can write anything (root)")
        result = cli("progress", "--json")
        assert result.code == 0, result.err
    finally:
        os.chmod(mlsd_home, 0o755)
        os.chmod(db_path(), 0o644)


def test_a_home_that_is_a_file_is_named_as_the_problem(cli, tmp_path, monkeypatch):
    home = tmp_path / "not-a-folder"
    home.write_text("x")
    monkeypatch.setenv("MLSD_HOME", str(home))
    result = cli("run", "fraud", "--scale", "tiny")
    assert result.code == 2 and "is a file, not a folder" in result.err and "mv " not in result.err


def test_progress_leaves_the_store_and_its_folder_as_they_were(cli, mlsd_home):
    with Store.open() as store:
        store.record_run(sample_run())
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = db_path().read_bytes()
    result = cli("progress", "--json")
    assert result.code == 0, result.err
    assert db_path().read_bytes() == before
    sidecars = {p.name for p in mlsd_home.iterdir()} - {db_path().name}
    assert sidecars <= {db_path().name + "-wal", db_path().name + "-shm"}  # SQLite's own reader files
