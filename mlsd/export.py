"""`--export DIR`: the data behind every printed number, as files for a notebook.

Each stage's `exports` (column tables: the synthetic data, features, the test-set
labels and scores) become CSV files, and the full results go to results.json, so
PR-AUC, latency percentiles and the rest can be recomputed outside mlsd.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from mlsd.errors import UsageError


def write_csv(path: Path, columns: dict[str, np.ndarray]) -> int:
    names = list(columns)
    arrays = [np.asarray(columns[n]) for n in names]
    lengths = {a.shape[0] for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"{path.name}: columns have different lengths {sorted(lengths)}")
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        writer.writerows(zip(*(a.tolist() for a in arrays)))
    return lengths.pop()


MARKER = ".mlsd-export"  # written into every export folder: mlsd may overwrite only folders holding it


def ensure_folder(directory: Path) -> None:
    """Create the export folder, or say why not (checked before a run starts). A folder
    that already holds files mlsd did not write is refused: an export never overwrites
    someone's results.json."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--export {directory} is a file, not a folder. Pass a new folder, e.g. "
                         f"--export {directory.parent / 'mlsd-export'}.")
    if directory.is_dir() and any(directory.iterdir()) and not (directory / MARKER).exists():
        raise UsageError(f"export folder {directory} already holds files mlsd did not write. Pass an empty or "
                         f"new folder, e.g. --export {directory / 'mlsd-export'}.")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / MARKER).write_text("files in this folder were written by mlsd run --export\n")
    except OSError as exc:
        raise UsageError(f"cannot write export folder {directory}: {exc.strerror}. Pass another --export DIR.") from None


def export_run(directory: Path, run, run_id: int) -> list[Path]:
    """Write every stage's export tables and results.json (the `--json` payload of a
    full run, with the number the run was recorded under) into `directory`."""
    ensure_folder(directory)
    for stale in directory.glob("*.csv"):  # an earlier export's tables, which this run may not write again
        stale.unlink()
    written = []
    for stage_run in run.stages:
        for name, columns in stage_run.result.exports.items():
            path = directory / f"{stage_run.stage}_{name}.csv"
            write_csv(path, columns)
            written.append(path)
    results = directory / "results.json"
    results.write_text(json.dumps({**run.to_dict(), "run_id": run_id}, indent=2))
    written.append(results)
    return written
