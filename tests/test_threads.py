"""Thread hygiene decided in one place (mlsd/threads.py): what a busy start sets."""

from __future__ import annotations

import os

import pytest

from mlsd import threads

NAMES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "KMP_BLOCKTIME")


@pytest.fixture
def environ(monkeypatch) -> dict:
    """A copy of the environment without the thread settings; the real one is untouched."""
    copy = {k: v for k, v in os.environ.items() if k not in NAMES}
    monkeypatch.setattr(os, "environ", copy)
    return copy


def test_a_busy_start_waits_passively_and_keeps_blas_on_one_thread(environ, monkeypatch):
    monkeypatch.setattr(threads, "machine_busy", lambda: True)
    threads.configure_before_imports()
    assert environ["OMP_WAIT_POLICY"] == "PASSIVE"
    assert environ["OPENBLAS_NUM_THREADS"] == environ["MKL_NUM_THREADS"] == "1"


def test_an_idle_start_uses_the_cores_it_may_run_on(environ, monkeypatch):
    monkeypatch.setattr(threads, "machine_busy", lambda: False)
    threads.configure_before_imports()
    assert "OMP_WAIT_POLICY" not in environ
    assert environ["OPENBLAS_NUM_THREADS"] == environ["OMP_NUM_THREADS"] == str(threads.max_threads())


def test_a_user_setting_wins(environ, monkeypatch):
    environ["OPENBLAS_NUM_THREADS"] = "3"
    monkeypatch.setattr(threads, "machine_busy", lambda: True)
    threads.configure_before_imports()
    assert environ["OPENBLAS_NUM_THREADS"] == "3"
