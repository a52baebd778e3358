"""Threads, decided in one place.

A user's laptop is busy. OpenMP workers that spin while waiting for a core they do not
get stall their whole team: on two cores with seven competing processes, a LightGBM fit
(30,000 x 30, 100 trees, two threads) took 37 s with libgomp's default spinning against
0.31 s idle. Waiting passively fixes the busy case (2.3 s) but triples the idle time
(1.05 s: every parallel region pays a wake-up). So:

- training asks `training_threads()` each time it starts: two threads (at most the cores
  this process may use), or one when more tasks are runnable than there are cores, so a
  fit never waits on a partner thread that has no core (the same fit with one thread:
  1.1 s beside three competitors, against 2.9 s with two spinning threads). A short spin
  (GOMP_SPINCOUNT=1000) was tried instead: it cost torch training 60% on an idle machine;
- the runner gives each stage `training_threads()` torch threads as it starts, and puts
  the setting back after it; torch training loops ask again at every epoch, so load that
  arrives mid-stage (a second mlsd run) meets one thread, not a spinning pair;
- before numpy, torch, faiss or LightGBM is imported, OpenMP workers are told to wait
  passively when the machine is already busy at start, and no runtime starts more
  threads than two;
- per-request inference in a serving path runs on one thread (`single_threaded`), as model
  servers run each worker; LightGBM predictions in a serving path pass `num_threads=1`.

A setting the user made in the environment is kept.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

# Training uses at most two threads: the speed targets are set for two cores. The thread
# count changes a torch model's arithmetic (20 captioning steps on 1 and on 2 threads end
# 0.002 apart in some weight), so a run that started on a busy machine (one thread) can
# quote trained figures an idle run of the same seed does not: issue 14, item 12.
TRAINING_THREADS_CAP = 2


def available_cores() -> int:
    """Cores this process may run on (its affinity mask), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def machine_busy() -> bool:
    """Other processes keep every core busy right now: the tasks /proc/loadavg counts as
    runnable, less this process's own running threads (a worker still spinning after a
    parallel region is not competition), at least the core count. Where that file does
    not exist, a one-minute load average above the core count."""
    cores = available_cores()
    try:
        with open("/proc/loadavg") as f:
            runnable = int(f.read().split()[3].split("/")[0])
        return runnable - _own_running_threads() >= cores
    except (OSError, IndexError, ValueError):
        return hasattr(os, "getloadavg") and os.getloadavg()[0] > cores


def _own_running_threads() -> int:
    running = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/stat") as f:
                running += f.read().rsplit(")", 1)[1].split()[0] == "R"
        except OSError:  # the thread ended meanwhile
            continue
    return running


def max_threads() -> int:
    return max(1, min(TRAINING_THREADS_CAP, available_cores()))


def training_threads() -> int:
    """Threads for one training call, decided when it starts: one on a busy machine."""
    return 1 if machine_busy() else max_threads()


def configure_before_imports() -> None:
    """Set the thread environment for every OpenMP and BLAS runtime. Effective only
    before those libraries load, so the CLI entry point calls it first thing."""
    threads = str(max_threads())
    defaults = {
        "KMP_BLOCKTIME": "0",  # Intel's OpenMP runtime, where MKL brings it: sleep at once
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }
    if machine_busy():
        defaults["OMP_WAIT_POLICY"] = "PASSIVE"
        # OpenBLAS's own threads (numpy's `@` on long vectors) ignore the OpenMP wait
        # policy and spin for cores a busy machine does not give them: one thread.
        defaults["OPENBLAS_NUM_THREADS"] = defaults["MKL_NUM_THREADS"] = "1"
    for name, value in defaults.items():
        os.environ.setdefault(name, value)


@contextmanager
def single_threaded():
    """Per-request inference on one thread: torch's intra-op pool and faiss's OpenMP
    pool are set to 1 for the block and restored after. On two cores, two threads per
    request beside a load generator and a batcher starve them, and the measurement
    shows the contention instead of the server."""
    import torch

    torch_threads = torch.get_num_threads()
    faiss = sys.modules.get("faiss")
    faiss_threads = faiss.omp_get_max_threads() if faiss else None
    torch.set_num_threads(1)
    if faiss:
        faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(torch_threads)
        if faiss:
            faiss.omp_set_num_threads(faiss_threads)


@contextmanager
def restored_after():
    """Give a stage `training_threads()` torch threads (when torch is loaded) and put
    the setting back after it, whatever the stage set."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch else max_threads()
    if torch is not None:
        torch.set_num_threads(training_threads())
    try:
        yield
    finally:
        torch = sys.modules.get("torch")
        if torch is not None and torch.get_num_threads() != before:
            torch.set_num_threads(before)
