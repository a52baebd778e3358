"""Open-loop offered load: requests arrive on a Poisson schedule whether or not the server
keeps up, the way independent users do.

A closed loop (send, wait, send the next) slows down with the server and hides its
queueing ("coordinated omission"). Here each request's latency runs from its SCHEDULED
arrival to its completion, so a server that falls behind is charged for the wait it causes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlsd.blocks.serving.latency import LatencyReport, summarize

if TYPE_CHECKING:
    import numpy



@dataclass(frozen=True)
class LoadResult:
    offered_rps: float
    report: LatencyReport  # latency per completed request; throughput = completed / wall time
    completed: int
    errors: int  # raised, failed to submit, or still pending at the timeout


def offered_load(
    submit: Callable[[Any], Future],
    requests: Sequence[Any],
    rate_rps: float,
    rng: numpy.random.Generator,
    *,
    timeout_s: float = 60.0,
) -> LoadResult:
    """Submit `requests` at Poisson arrivals of mean rate `rate_rps` from this thread and
    wait (at most `timeout_s` overall) for them all to finish."""
    if rate_rps <= 0:
        raise ValueError(f"rate_rps must be positive, got {rate_rps}")
    if not requests:
        raise ValueError("no requests to offer")
    clock = time.perf_counter_ns
    gaps_ns = rng.exponential(1e9 / rate_rps, size=len(requests))
    gaps_ns[0] = 0.0  # the first request arrives at the start
    offsets_ns = gaps_ns.cumsum().astype("int64")

    completed_ns: list[int | None] = [None] * len(requests)
    submitted: list[tuple[int, Future]] = []
    errors = 0

    finished = threading.Condition()  # done-callbacks run after wait() would return: count them
    done_count = 0

    def record_completion(index: int) -> Callable[[Future], None]:
        def record(_: Future) -> None:
            nonlocal done_count
            done_ns = clock()
            with finished:
                completed_ns[index] = done_ns
                done_count += 1
                finished.notify()
        return record

    start_ns = clock()
    deadline_ns = start_ns + int(timeout_s * 1e9)
    scheduled_ns = [start_ns + int(offset) for offset in offsets_ns]
    for index, (request, due_ns) in enumerate(zip(requests, scheduled_ns)):
        _sleep_until(due_ns, clock)
        try:
            future = submit(request)
        except Exception:
            errors += 1
            continue
        future.add_done_callback(record_completion(index))
        submitted.append((index, future))

    with finished:
        finished.wait_for(lambda: done_count == len(submitted),
                          timeout=max(0.0, (deadline_ns - clock()) / 1e9))
    latencies_ns: list[int] = []
    last_done_ns = start_ns
    for index, future in submitted:
        done_ns = completed_ns[index]
        if done_ns is None or future.cancelled() or future.exception(timeout=0) is not None:
            errors += 1
            continue
        latencies_ns.append(done_ns - scheduled_ns[index])
        last_done_ns = max(last_done_ns, done_ns)
    if not latencies_ns:
        raise RuntimeError(f"none of {len(requests)} requests completed ({errors} errors)")
    wall_s = (last_done_ns - scheduled_ns[0]) / 1e9
    return LoadResult(offered_rps=float(rate_rps), report=summarize(latencies_ns, wall_s),
                      completed=len(latencies_ns), errors=errors)


def _sleep_until(due_ns: int, clock: Callable[[], int]) -> None:
    """Sleep until the arrival time. No busy-wait: a spinning Python thread holds the GIL
    and would starve the very server it is measuring (sleep overshoots by ~0.1 ms)."""
    remaining_ns = due_ns - clock()
    if remaining_ns > 0:
        time.sleep(remaining_ns / 1e9)
