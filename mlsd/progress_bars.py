"""Progress reporting for long stage work (training, feature replay, load generation).

Stages call `ctx.progress.track(...)`; whether that draws a rich bar, a spinner, or
nothing (JSON output, tests, pipes) is the CLI's choice, not the stage's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class Progress:
    """Silent progress: the default for tests, pipes and `--json`."""

    def track(self, items: Iterable[T], total: int | None = None, description: str = "") -> Iterator[T]:
        yield from items

    @contextmanager
    def stage(self, name: str, quiet: bool):
        yield


class RichProgress(Progress):
    """Bars on stderr. A quiet (prerequisite) stage shows one spinner line instead."""

    def __init__(self, console) -> None:
        self.console = console
        self._quiet = False
        self._bars = None

    @contextmanager
    def stage(self, name: str, quiet: bool):
        from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._quiet = quiet
        if quiet:
            with self.console.status(f"running prerequisite stage [bold]{name}[/]…"):
                yield
            return
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                   TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), TimeRemainingColumn())
        from rich.progress import Progress as Bars

        with Bars(*columns, console=self.console, transient=True) as bars:
            self._bars = bars
            try:
                yield
            finally:
                self._bars = None

    def track(self, items: Iterable[T], total: int | None = None, description: str = "") -> Iterator[T]:
        if self._quiet or self._bars is None:
            yield from items
            return
        if total is None and hasattr(items, "__len__"):
            total = len(items)  # type: ignore[arg-type]
        task = self._bars.add_task(description, total=total)
        step = max(1, (total or 0) // 200)  # redraw ~200 times, not once per item: a bar must not slow the loop
        done = 0
        for item in items:
            yield item
            done += 1
            if done % step == 0:
                self._bars.update(task, completed=done)
        self._bars.remove_task(task)
