"""The layout installs as one package: designs/ and walkthroughs/ at the top of the
repository become mlsd.designs and mlsd.walkthroughs.

setuptools' `packages.find` silently drops remapped folders, and `pip install .` once
dropped the fraud rules file while the editable install and the tests never noticed
(they read the source tree). So: every package folder is listed, every data file is
declared, and a real wheel, unpacked outside the repository, runs the CLI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from mlsd.registry import DESIGN_PACKAGES

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
SOURCE_ROOTS = {"mlsd": ROOT / "mlsd", "mlsd.designs": ROOT / "designs", "mlsd.walkthroughs": ROOT / "walkthroughs"}


def _package_folders() -> dict[str, Path]:
    """Every folder with an __init__.py, by the package name it installs as."""
    found = {}
    for prefix, folder in SOURCE_ROOTS.items():
        for init in folder.rglob("__init__.py"):
            parts = init.parent.relative_to(folder).parts
            if "__pycache__" not in parts:
                found[".".join((prefix, *parts))] = init.parent
    return found


def _data_files() -> list[tuple[str, Path]]:
    """(package, path relative to that package's folder) for every non-Python file."""
    out = []
    for package, folder in SOURCE_ROOTS.items():
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts:
                out.append((package, path.relative_to(folder)))
    return out


def test_package_dirs_map_the_card_layout():
    assert SETUPTOOLS["package-dir"] == {"mlsd": "mlsd", "mlsd.designs": "designs", "mlsd.walkthroughs": "walkthroughs"}


def test_every_package_folder_is_listed_and_nothing_listed_is_missing():
    listed = set(SETUPTOOLS["packages"])
    on_disk = set(_package_folders())
    assert not on_disk - listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(on_disk - listed)}"
    assert not listed - on_disk, f"listed in pyproject.toml but no such folder: {sorted(listed - on_disk)}"


def test_every_design_folder_is_registered():
    folders = {p.name for p in (ROOT / "designs").iterdir() if (p / "__init__.py").exists()}
    assert folders == set(DESIGN_PACKAGES), (
        f"designs/ folders and mlsd/registry.py DESIGN_PACKAGES differ: {sorted(folders ^ set(DESIGN_PACKAGES))}")


def test_every_data_file_is_declared_as_package_data():
    globs = SETUPTOOLS["package-data"]
    files = _data_files()
    assert any(f.suffix == ".md" for _, f in files) and any(f.suffix == ".yaml" for _, f in files)
    undeclared = [f"{pkg}: {f}" for pkg, f in files if not any(f.match(g) for g in globs.get(pkg, []))]
    assert not undeclared, f"add these to [tool.setuptools.package-data] in pyproject.toml: {undeclared}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A real wheel of the working tree, built the way `pip install .` builds it."""
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    return next(out.glob("mlsd-*.whl"))


def test_the_wheel_carries_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for package, folder in _package_folders().items():
        base = package.replace(".", "/")
        expected |= {f"{base}/{p.name}" for p in folder.glob("*.py")}
    expected |= {f"{pkg.replace('.', '/')}/{f.as_posix()}" for pkg, f in _data_files()}
    assert not expected - names, f"missing from the wheel: {sorted(expected - names)}"
    assert not any(n.startswith(("designs/", "walkthroughs/")) for n in names), "no top-level designs package"


def test_the_installed_wheel_runs_outside_the_repository(wheel, tmp_path):
    """Unpacked into a folder that comes first on sys.path, run from elsewhere: the CLI
    lists the designs and reads a walkthrough from the installed files, not the tree."""
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    env = {**os.environ, "PYTHONPATH": str(target), "MLSD_HOME": str(tmp_path / "home"), "NO_COLOR": "1",
           "COLUMNS": "200"}

    def mlsd(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "mlsd", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=120)

    where = subprocess.run([sys.executable, "-c", "import mlsd.designs.fraud, mlsd.walkthroughs as w;"
                            "print(mlsd.designs.fraud.__file__); print(w.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=env)
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(target)) for line in where.stdout.split()), where.stdout
    listed = mlsd("list")
    assert listed.returncode == 0 and "Speech Recognition" in listed.stdout, listed.stderr
    learned = mlsd("learn", "speech", "--stage", "model")
    assert learned.returncode == 0 and "Rubric" in learned.stdout, learned.stderr
