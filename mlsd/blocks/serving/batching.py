"""Dynamic batching: the serving policy of NVIDIA Triton's `dynamic_batching`.

A model call has a fixed cost (kernel launches, Python dispatch, a GPU round trip) plus
a small cost per item, so one call on eight requests is far cheaper than eight calls on
one. The batcher holds each request for at most `max_queue_delay_ms` so that others can
join it: a little latency is traded for much more throughput, and under load the queue
fills by itself, so the wait is short exactly when batching pays most.

The knobs mirror Triton's model configuration (`config.pbtxt`):

    max_batch_size: 32                       -> max_batch_size
    dynamic_batching {
      preferred_batch_size: [ 8, 16 ]        -> preferred_batch_sizes
      max_queue_delay_microseconds: 5000     -> max_queue_delay_ms (in milliseconds here)
    }

`max_batch_size=1, max_queue_delay_ms=0` is the batch-1 server on the same queue and
worker: the fair baseline to compare against.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BatchStats:
    """What the worker formed: how many batches, of which sizes, and why each was sent."""

    batches: int
    requests: int
    histogram: dict[int, int] = field(default_factory=dict)  # batch size -> how many batches
    reasons: dict[str, int] = field(default_factory=dict)  # DISPATCH_REASONS -> how many batches

    @property
    def mean_batch_size(self) -> float:
        return self.requests / self.batches if self.batches else 0.0

    @property
    def max_batch_size(self) -> int:
        return max(self.histogram, default=0)


# Why the worker sent a batch: it was full, everything queued formed a preferred size,
# the oldest request had waited the queue delay, or the batcher was closing.
DISPATCH_REASONS = ("full", "preferred", "delay", "closing")


@dataclass
class _Pending:
    item: Any
    future: Future
    enqueued_s: float


class DynamicBatcher:
    """One worker thread that groups queued requests into batches and calls `handler`
    once per batch; `handler(items)` returns one result per item, in order."""

    def __init__(
        self,
        handler: Callable[[list[Any]], Sequence[Any]],
        *,
        max_batch_size: int = 32,
        max_queue_delay_ms: float = 5.0,
        preferred_batch_sizes: Sequence[int] = (),
        name: str = "batcher",
    ) -> None:
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, got {max_batch_size}")
        if max_queue_delay_ms < 0:
            raise ValueError(f"max_queue_delay_ms must be >= 0, got {max_queue_delay_ms}")
        bad = [size for size in preferred_batch_sizes if not 1 <= size <= max_batch_size]
        if bad:
            raise ValueError(f"preferred batch sizes {bad} are outside 1..{max_batch_size}")
        self.handler = handler
        self.max_batch_size = max_batch_size
        self.max_queue_delay_ms = float(max_queue_delay_ms)
        self.preferred_batch_sizes = tuple(sorted(set(preferred_batch_sizes)))
        self.name = name
        self._queue: deque[_Pending] = deque()
        self._ready = threading.Condition()
        self._closed = False
        self._batches = 0
        self._requests = 0
        self._histogram: dict[int, int] = {}
        self._reasons: dict[str, int] = {}
        self._worker = threading.Thread(target=self._serve, name=name, daemon=True)
        self._worker.start()

    def submit(self, item: Any) -> Future:
        """Queue one request; its future resolves to the handler's result for it."""
        future: Future = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError(f"{self.name} is closed")
            self._queue.append(_Pending(item, future, time.perf_counter()))
            self._ready.notify()
        return future

    def close(self) -> None:
        """Serve what is already queued (without waiting out the delay), then stop."""
        with self._ready:
            self._closed = True
            self._ready.notify()
        if self._worker is not threading.current_thread():
            self._worker.join()

    def __enter__(self) -> DynamicBatcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def stats(self) -> BatchStats:
        with self._ready:
            return BatchStats(self._batches, self._requests, dict(sorted(self._histogram.items())),
                              dict(self._reasons))

    # The worker -------------------------------------------------------------------

    def _serve(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._run(batch)

    def _next_batch(self) -> list[_Pending] | None:
        """Block for the first request, then collect until the batch is full, a preferred
        size is reached with nobody else waiting, or the oldest request has waited
        `max_queue_delay_ms`."""
        delay_s = self.max_queue_delay_ms / 1e3
        with self._ready:
            while not self._queue:
                if self._closed:
                    return None
                self._ready.wait()
            while True:
                waiting = len(self._queue)
                if waiting >= self.max_batch_size:
                    reason = "full"
                    break
                if self._closed:
                    reason = "closing"
                    break
                if waiting in self.preferred_batch_sizes:
                    reason = "preferred"  # everything queued forms a preferred size
                    break
                remaining_s = self._queue[0].enqueued_s + delay_s - time.perf_counter()
                if remaining_s <= 0:
                    reason = "delay"
                    break
                self._ready.wait(remaining_s)
            size = min(len(self._queue), self.max_batch_size)
            batch = [self._queue.popleft() for _ in range(size)]
            self._batches += 1
            self._requests += size
            self._histogram[size] = self._histogram.get(size, 0) + 1
            self._reasons[reason] = self._reasons.get(reason, 0) + 1
            return batch

    def _run(self, batch: list[_Pending]) -> None:
        live = [p for p in batch if p.future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self.handler([p.item for p in live])
            if len(results) != len(live):
                raise ValueError(f"{self.name}: handler returned {len(results)} results "
                                 f"for a batch of {len(live)}")
        except BaseException as exc:  # the batch fails, the worker keeps serving
            for p in live:
                p.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for p, result in zip(live, results):
            p.future.set_result(result)


def triton_config(
    name: str,
    max_batch_size: int,
    max_queue_delay_ms: float,
    preferred_batch_sizes: Sequence[int],
    inputs: Sequence[tuple[str, str, Sequence[int]]],
    outputs: Sequence[tuple[str, str, Sequence[int]]],
    platform: str = "pytorch_libtorch",
) -> str:
    """A Triton `config.pbtxt` (protobuf text format) for these batching knobs.

    `inputs`/`outputs` are (name, data type such as "TYPE_UINT8", dims); dims exclude
    the batch dimension, which Triton adds when max_batch_size > 0; -1 is a variable dim.
    """

    def tensors(field_name: str, specs: Sequence[tuple[str, str, Sequence[int]]]) -> list[str]:
        if not specs:
            return []
        blocks = []
        for tensor_name, data_type, dims in specs:
            if not data_type.startswith("TYPE_"):
                raise ValueError(f"{tensor_name}: data_type must be a Triton TYPE_* name, got {data_type!r}")
            blocks.append(
                "  {\n"
                f"    name: {_quote(tensor_name)}\n"
                f"    data_type: {data_type}\n"
                f"    dims: [ {', '.join(str(int(d)) for d in dims)} ]\n"
                "  }"
            )
        return [f"{field_name} [", ",\n".join(blocks), "]"]

    lines = [
        f"name: {_quote(name)}",
        f"platform: {_quote(platform)}",
        f"max_batch_size: {int(max_batch_size)}",
        *tensors("input", inputs),
        *tensors("output", outputs),
        "dynamic_batching {",
    ]
    if preferred_batch_sizes:
        lines.append(f"  preferred_batch_size: [ {', '.join(str(int(s)) for s in preferred_batch_sizes)} ]")
    lines.append(f"  max_queue_delay_microseconds: {round(max_queue_delay_ms * 1000)}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
