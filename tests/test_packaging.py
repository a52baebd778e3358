"""A wheel ships only the data files pyproject.toml names: check none is left out.

`pip install .` (not editable) once dropped the fraud rules file; an editable install
and the tests never noticed, because they read the source tree.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_data_file_in_the_package_is_declared_as_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["mlsd"]
    package = ROOT / "mlsd"
    data_files = [p.relative_to(package) for p in package.rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert data_files, "expected the walkthroughs and rules files"
    undeclared = [str(p) for p in data_files if not any(p.match(g) for g in globs)]
    assert not undeclared, f"add these to [tool.setuptools.package-data] in pyproject.toml: {undeclared}"
