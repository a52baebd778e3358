"""`make bench` (python -m mlsd.bench): measure every runnable design and rewrite
docs/benchmarks.md and mlsd/reference_times.json from what was measured.

Each run is a fresh `python -m mlsd run DESIGN --scale S --json` process with its own
results store, timed as a whole command (interpreter start included) with its peak
memory from `os.wait4`. A busy machine is made by the benchmark itself: N processes
running `while True: pass`, started before the run and stopped after it; the slowdown
is the busy time over the idle time of the same design and scale in the same session.
Two mlsd runs at once are measured as a pair started together. The numbers in the docs
are the last session's, on the machine named there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from mlsd.registry import STAGES, all_designs
from mlsd.threads import available_cores

ROOT = Path(__file__).resolve().parent.parent
TARGETS_S = {"tiny": 15, "default": 60}
SLOWDOWN_TARGETS = {3: 3.0, 7: 6.0}  # competing processes -> the most a run may slow down
PAIR_TARGET = 2.0


@dataclass
class Measurement:
    design: str
    scale: str
    load: int  # competing CPU-bound processes
    wall_s: float
    peak_mb: float
    stages_s: dict[str, float] = field(default_factory=dict)
    serving: dict[str, float] = field(default_factory=dict)  # metric name -> value
    error: str = ""


def time_run(design: str, scale: str, load: int, home: Path) -> Measurement:
    """One whole command, timed, with its peak resident memory."""
    env = {**os.environ, "MLSD_HOME": str(home), "NO_COLOR": "1"}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "mlsd", "run", design, "--scale", scale, "--json"],
                                stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        text, problem = out.read(), err.read()
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    if proc.returncode != 0:
        return Measurement(design, scale, load, wall, peak_mb, error=(problem.strip().splitlines() or ["?"])[-1])
    results = json.loads(text)
    stages = {s["stage"]: s["duration_s"] for s in results["stages"]}
    serving = next(s for s in results["stages"] if s["stage"] == "serving")["result"]["metrics"]
    return Measurement(design, scale, load, wall, peak_mb, stages, {m["name"]: m["value"] for m in serving})


@contextmanager
def competing(n: int):
    """N CPU-bound processes for the duration of the block, always stopped after it."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.5 if n else 0)  # let them take their share before the run starts
        yield
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()


def run_pair(first: str, second: str, scale: str, home: Path) -> tuple[float, float]:
    """Two mlsd runs started together: each one's wall time."""
    env = {**os.environ, "MLSD_HOME": str(home), "NO_COLOR": "1"}
    started = time.perf_counter()
    procs = {name: subprocess.Popen([sys.executable, "-m", "mlsd", "run", name, "--scale", scale, "--json"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
             for name in (first, second)}
    finished = {}
    while len(finished) < 2:
        for name, proc in procs.items():
            if name not in finished and proc.poll() is not None:
                finished[name] = time.perf_counter() - started
        time.sleep(0.05)
    return finished[first], finished[second]


MACHINE_PROBE = (
    "import time, numpy as np\n"
    "t = time.perf_counter(); sum(i * i for i in range(10_000_000)); py = time.perf_counter() - t\n"
    "a = np.random.default_rng(0).random((512, 512), dtype=np.float32)\n"
    "t = time.perf_counter()\n"
    "for _ in range(200): a @ a\n"
    "print(py, time.perf_counter() - t)\n"
)


def machine_speed(repeat: int = 5) -> dict[str, float]:
    """Seconds for two fixed workloads (pure Python; a float32 matrix product), best of
    `repeat` in a fresh interpreter: figures from two machines compare only through these."""
    runs = [subprocess.run([sys.executable, "-c", MACHINE_PROBE], capture_output=True, text=True, check=True,
                           env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}).stdout.split()
            for _ in range(repeat)]
    return {"python_s": round(min(float(r[0]) for r in runs), 3), "matmul_s": round(min(float(r[1]) for r in runs), 3)}


def speed_note(speed: dict[str, float], previous: dict[str, float] | None) -> str:
    """This machine's reference workloads, and against the last benchmark's machine."""
    note = (f"Machine speed (best of 5, one thread): pure Python {speed['python_s']:.3f} s, float32 matrix "
            f"products {speed['matmul_s']:.3f} s.")
    if previous:
        ratios = ", ".join(f"{k.removesuffix('_s').replace('matmul', 'matrix')} {speed[k] / previous[k]:.2f}x"
                           for k in ("python_s", "matmul_s") if previous.get(k))
        note += f" Against the machine of the benchmark before this one: {ratios} its time."
    return note


def startup_seconds(args: list[str], repeat: int = 10) -> float:
    """Median wall time of a quick command, interpreter start included."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mlsd", *args], stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def render(measured: list[Measurement], pairs: dict, startup: dict[str, float], loads: list[int],
           speed_line: str = "") -> str:
    """The whole of docs/benchmarks.md, from the measurements alone."""
    idle = {(m.design, m.scale): m for m in measured if m.load == 0}
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m mlsd.bench`); do not edit by hand. Every figure is a",
        "measurement of the last session, not an assert: the tests never check timings.",
        "",
        f"Machine: {platform.machine()}, {available_cores()} cores available to the process, Python "
        f"{platform.python_version()}, {date.today().isoformat()}. Each run is a fresh `python -m mlsd run DESIGN "
        "--scale S --json`, timed as a whole command (interpreter start and imports included); peak memory is "
        "the process's maximum resident set. Busy columns: the benchmark starts N processes running "
        "`while True: pass` before the run and stops them after it; the slowdown is busy time over idle time.",
        "",
        speed_line,
        "",
        "## Start-up",
        "",
        "| command | median of 10 | target |",
        "|---|---|---|",
        *[f"| `mlsd {name}` | {s:.2f} s | < 0.3 s |" for name, s in startup.items()],
        "",
        "## Whole runs, idle and busy",
        "",
        "| design | scale | idle | target | peak memory | " + " | ".join(f"{n} competing" for n in loads if n)
        + " |",
        "|---|---|---|---|---|" + "---|" * sum(1 for n in loads if n),
    ]
    for (design, scale), m in idle.items():
        if m.error:
            lines.append(f"| {design} | {scale} | failed: {m.error} | | | " + " | " * sum(1 for n in loads if n))
            continue
        target = TARGETS_S.get(scale)
        verdict = "" if target is None else (" ✓" if m.wall_s <= target else " ✗")
        cells = []
        for n in (n for n in loads if n):
            busy = next((b for b in measured if (b.design, b.scale, b.load) == (design, scale, n)), None)
            if busy is None or busy.error:
                cells.append("—" if busy is None else "failed")
                continue
            ratio = busy.wall_s / m.wall_s
            mark = "✓" if ratio <= SLOWDOWN_TARGETS.get(n, float("inf")) else "✗"
            cells.append(f"{busy.wall_s:.1f} s ({ratio:.1f}x {mark})")
        lines.append(f"| {design} | {scale} | {m.wall_s:.1f} s{verdict} | ≤ {target} s | {m.peak_mb:,.0f} MB | "
                     + " | ".join(cells) + " |")
    lines += [
        "",
        f"Targets: idle `tiny` ≤ 15 s and `default` ≤ 60 s, under 2 GiB; busy slowdown at most "
        f"{SLOWDOWN_TARGETS[3]:.0f}x with three competing processes and {SLOWDOWN_TARGETS[7]:.0f}x with seven "
        "(close to the CPU share the run gets: a third, then a quarter of two cores).",
        "",
        "## Stage times, idle",
        "",
        "| design | scale | " + " | ".join(STAGES) + " | stages total | whole command |",
        "|---|---|" + "---|" * (len(STAGES) + 2),
    ]
    for (design, scale), m in idle.items():
        if not m.error:
            lines.append(f"| {design} | {scale} | " + " | ".join(f"{m.stages_s.get(s, 0):.1f} s" for s in STAGES)
                         + f" | {sum(m.stages_s.values()):.1f} s | {m.wall_s:.1f} s |")
    lines += [
        "",
        "## Serving, idle and with three competing processes",
        "",
        "p50 and p99 of each design's serving path (one worker, one thread per request), its compute floor (the "
        "model or index call alone, inputs ready) and the ratio of the two: the overhead the serving design adds. "
        "Speech's p50 includes the audio a streaming step must wait for, so its ratio is large by design.",
        "",
        "| design | scale | load | p50 ms | p99 ms | budget ms | compute floor p50 ms | p50 / floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    budgets = {d.slug: d.latency_budget_ms for d in all_designs()}
    for m in measured:
        if m.error or m.load not in (0, 3):
            continue
        floor = m.serving.get("compute_floor_p50_ms")
        ratio = f"{m.serving['latency_p50_ms'] / floor:.1f}x" if floor else "—"
        within = "✓" if m.serving["latency_p99_ms"] <= budgets[m.design] else "✗"
        lines.append(f"| {m.design} | {m.scale} | {m.load} | {m.serving['latency_p50_ms']:.3f} | "
                     f"{m.serving['latency_p99_ms']:.3f} {within} | {budgets[m.design]:g} | "
                     f"{floor if floor is None else round(floor, 3)} | {ratio} |")
    if pairs:
        lines += ["", "## Two mlsd runs at once", "",
                  "| pair | scale | first | second | target |", "|---|---|---|---|---|"]
        for (first, second, scale), (a, b) in pairs.items():
            ra, rb = a / idle[(first, scale)].wall_s, b / idle[(second, scale)].wall_s
            lines.append(f"| {first} + {second} | {scale} | {a:.1f} s ({ra:.1f}x) | {b:.1f} s ({rb:.1f}x) | "
                         f"each ≤ {PAIR_TARGET:.0f}x |")
    return "\n".join(lines) + "\n"


def reference_times(measured: list[Measurement], path: Path, speed: dict[str, float]) -> dict:
    """The idle stage times, merged into what the file already holds for designs and
    scales not measured this time, and the machine's speed on the reference workloads."""
    designs: dict[str, dict] = json.loads(path.read_text()).get("designs", {}) if path.exists() else {}
    for m in measured:
        if m.load == 0 and not m.error:
            designs.setdefault(m.design, {})[m.scale] = {s: round(v, 2) for s, v in m.stages_s.items()}
    return {"about": "Seconds per stage of the last `make bench` on an idle machine (docs/benchmarks.md). "
                     "mlsd compare latency uses them to say how long the runs it must make will take.",
            "machine": speed, "designs": designs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mlsd.bench", description=__doc__.split("\n\n")[0])
    runnable = [d.slug for d in all_designs() if d.executable]
    parser.add_argument("--designs", default=",".join(runnable), help="comma-separated slugs (default: all runnable)")
    parser.add_argument("--scales", default="tiny,default")
    parser.add_argument("--loads", default="0,3,7", help="competing processes per measurement; 0 is idle")
    parser.add_argument("--no-write", action="store_true", help="print the report instead of writing the docs")
    args = parser.parse_args(argv)
    designs, scales = args.designs.split(","), args.scales.split(",")
    loads = sorted({0, *(int(n) for n in args.loads.split(","))})
    measured: list[Measurement] = []
    times = ROOT / "mlsd" / "reference_times.json"
    previous_speed = json.loads(times.read_text()).get("machine") if times.exists() else None
    speed = machine_speed()
    print(speed_note(speed, previous_speed), file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        startup = {"--help": startup_seconds(["--help"]), "list": startup_seconds(["list"])}
        for load in loads:
            for scale in scales:
                for design in designs:
                    with competing(load):
                        m = time_run(design, scale, load, home)
                    measured.append(m)
                    print(f"{design} {scale} load {load}: {m.wall_s:.1f} s, {m.peak_mb:,.0f} MB {m.error}",
                          file=sys.stderr, flush=True)
        pairs = {}
        if "tiny" in scales and len(designs) >= 2:
            pairs[(designs[0], designs[1], "tiny")] = run_pair(designs[0], designs[1], "tiny", home)
    report = render(measured, pairs, startup, loads, speed_note(speed, previous_speed))
    if args.no_write:
        print(report)
        return
    (ROOT / "docs" / "benchmarks.md").write_text(report)
    times.write_text(json.dumps(reference_times(measured, times, speed), indent=2) + "\n")
    print("wrote docs/benchmarks.md and mlsd/reference_times.json", file=sys.stderr)


if __name__ == "__main__":
    main()
