"""The latency probe every serving stage uses.

Wall-clock time per request with `time.perf_counter_ns`, after a warm-up that is not
timed, over many requests, one worker thread. Percentiles are numpy's linear
interpolation; throughput is requests divided by the probe's own wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mlsd.results import Metric, metric
from mlsd.threads import available_cores


@dataclass(frozen=True)
class LatencyReport:
    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    throughput_rps: float
    threads: int
    cores: int

    def metrics(self, budget_ms: float | None = None) -> list[Metric]:
        """p50/p95/p99 (p99 held against the budget) and throughput, vocabulary names."""
        return [
            metric("latency_p50_ms", self.p50_ms),
            metric("latency_p95_ms", self.p95_ms),
            metric("latency_p99_ms", self.p99_ms, target=budget_ms),
            metric("throughput_rps", self.throughput_rps),
        ]

    def row(self, name: str) -> list[Any]:
        return [name, self.n, round(self.p50_ms, 3), round(self.p95_ms, 3), round(self.p99_ms, 3),
                round(self.throughput_rps)]


LATENCY_COLUMNS = ["path", "requests", "p50 ms", "p95 ms", "p99 ms", "req/s"]


def summarize(samples_ns: Sequence[int], wall_s: float | None = None, threads: int = 1) -> LatencyReport:
    """Percentiles of per-request times (nanoseconds), and throughput over `wall_s` when
    the samples were a timed loop (a component's share of a request has none: NaN)."""
    import numpy as np

    ms = np.asarray(samples_ns, dtype=np.float64) / 1e6
    if ms.size == 0:
        raise ValueError("no latency samples")
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return LatencyReport(
        n=int(ms.size), p50_ms=float(p50), p95_ms=float(p95), p99_ms=float(p99),
        mean_ms=float(ms.mean()), max_ms=float(ms.max()),
        throughput_rps=float(ms.size / wall_s) if wall_s else float("nan"),
        threads=threads, cores=available_cores(),
    )


def measure_latency(
    handle: Callable[[Any], Any],
    requests: Iterable[Any],
    *,
    warmup: int = 50,
    track: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> LatencyReport:
    """Call `handle` on each request in order; the first `warmup` calls are not timed
    (caches, lazy initialisation, branch predictors settle), the rest are."""
    items = list(requests)
    if len(items) <= warmup:
        raise ValueError(f"need more than {warmup} requests to measure latency, got {len(items)}")
    for request in items[:warmup]:
        handle(request)
    timed = items[warmup:]
    samples: list[int] = []
    clock = time.perf_counter_ns
    started = clock()
    for request in (track(timed) if track else timed):
        t0 = clock()
        handle(request)
        samples.append(clock() - t0)
    return summarize(samples, (clock() - started) / 1e9)


CONTENTION_RATIO = 1.5  # model time in the path over the same calls alone: past run-to-run noise


def path_note(path_p50_ms: float, floor_p50_ms: float, parts: dict[str, float], model_part: str) -> str:
    """What a serving path's timings say: its p50 against the compute floor, the largest
    part of the path by p50, and, when the model part inside the path is slower than the
    same calls alone, that the model call (contention for the CPU) explains it, not the
    other parts. `parts` maps each part of the path to its p50 in ms."""
    name, p50 = max(parts.items(), key=lambda item: item[1])
    note = (f"The serving path's p50 is {path_p50_ms / floor_p50_ms:.1f}x the compute floor; the largest part of "
            f"the path is {name} ({p50:.3f} ms p50).")
    in_path = parts[model_part]
    if in_path > CONTENTION_RATIO * floor_p50_ms:
        others = " or ".join(n for n in parts if n != model_part)
        note += (f" The {model_part} inside the path ({in_path:.3f} ms) is {in_path / floor_p50_ms:.1f}x the same "
                 f"calls alone: the model call is where the time goes (contention for the CPU), not {others}.")
    return note
