"""Shared fixtures: every test gets its own results store (MLSD_HOME), and `cli`
runs the real command line in-process, the way a user's shell would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from mlsd.cli.main import main


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


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


def run_subprocess(args: list[str], home) -> CliResult:
    """`python -m mlsd ARGS` in a fresh interpreter: the real entry point, end to end."""
    env = {**os.environ, "MLSD_HOME": str(home), "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "mlsd", *args], capture_output=True, text=True, env=env,
                          timeout=300)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)
