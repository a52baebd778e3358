"""`mlsd compare latency` on an empty store: it says what it will run before running it,
and one design's failure becomes a failed row, not a lost table."""

from __future__ import annotations

import pytest

from mlsd.registry import all_designs

KEPT = {"fraud", "feature-platform"}  # the two fastest designs run for real


@pytest.fixture
def broken_designs(monkeypatch):
    """Every runnable design but two fails in its first stage (fast): one deliberate
    bug per design, so the test is about the comparison, not the designs."""
    broken = [d for d in all_designs() if d.executable and d.slug not in KEPT]

    def explode(ctx):
        raise RuntimeError("planted failure")

    for design in broken:
        monkeypatch.setattr(design.stage_module("problem"), "run", explode)
    return {d.slug for d in broken}


def test_a_failing_design_is_a_failed_row_and_the_others_still_print(cli, broken_designs):
    result = cli("compare", "latency", "--scale", "tiny", "--json")
    assert result.code == 1
    assert "running them now, about" in " ".join(result.err.split())  # said before any work
    rows = {r["design"]: r for r in result.json()["designs"]}
    assert {slug for slug, r in rows.items() if r["failed"]} == broken_designs
    for slug in KEPT:
        assert not rows[slug]["failed"] and rows[slug]["p50_ms"] <= rows[slug]["p99_ms"]
    assert all("planted failure" in rows[slug]["error"] for slug in broken_designs)


def test_the_table_marks_failed_rows_and_a_second_call_reads_what_was_recorded(cli, broken_designs):
    first = cli("compare", "latency", "--scale", "tiny")
    assert first.code == 1 and "failed" in first.out and "fraud" in first.out
    again = cli("compare", "latency", "--scale", "tiny", "--json")
    rows = {r["design"]: r for r in again.json()["designs"]}
    assert "fraud" not in again.err  # recorded by the first call, so not run again
    assert not rows["fraud"]["failed"]
