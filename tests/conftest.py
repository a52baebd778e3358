"""Shared fixtures: every test gets its own results store (MLSD_HOME), and `cli`
runs the real command line in-process, the way a user's shell would."""

from __future__ import annotations

import pytest
from helpers import CliResult

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
