"""Shared fixtures: every test gets its own results store (MLSD_HOME), and `cli`
runs the real command line in-process, the way a user's shell would."""

from __future__ import annotations

import pytest
from helpers import CliResult, tiny_run

from mlsd.cli.main import main


@pytest.fixture(autouse=True)
def mlsd_home(tmp_path, monkeypatch):
    home = tmp_path / "mlsd-home"
    monkeypatch.setenv("MLSD_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    return home


@pytest.fixture
def cli(capsys):
    """Run `mlsd ARGS...` in-process through main(); returns exit code and output."""

    def run(*args: str) -> CliResult:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    """`tiny_runs(design)`: that design's tiny run, made once per test session and shared
    by its end-to-end tests and the contract test, so checking a design twice costs one run."""
    made: dict[str, dict] = {}

    def get(design: str) -> dict:
        if design not in made:
            made[design] = tiny_run(tmp_path_factory, design)
        return made[design]

    return get
