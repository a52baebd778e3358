"""The design's real run, started in the background when practice starts.

While the user types the first answer (minutes), the design runs its stages (seconds),
so each stage's numbers are ready when its reference answer has been read. The run
is recorded in the results store like any `mlsd run`.
"""

from __future__ import annotations

import threading

from mlsd.registry import DesignInfo


class BackgroundRun:
    def __init__(self, design: DesignInfo, stage: str | None, scale: str, seed: int) -> None:
        self.design, self.stage, self.scale, self.seed = design, stage, scale, seed
        self.done: dict[str, object] = {}
        self.error: str | None = None
        self.finished = False
        self.run_id: int | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="mlsd-practice-run", daemon=True)

    def start(self) -> "BackgroundRun":
        self._thread.start()
        return self

    def _work(self) -> None:
        from mlsd.runner import record, run_design

        try:
            run = run_design(self.design, stage=self.stage, scale=self.scale, seed=self.seed,
                             on_stage_done=self._stage_done)
            self.run_id = record(run)
        except Exception as exc:  # shown beside the practice, which goes on without numbers
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            with self._changed:
                self.finished = True
                self._changed.notify_all()

    def _stage_done(self, stage_run) -> None:
        with self._changed:
            self.done[stage_run.stage] = stage_run
            self._changed.notify_all()

    def wait(self, stage: str) -> tuple[object | None, str | None]:
        """The stage's StageRun once it has run, or (None, why) if the run failed."""
        with self._changed:
            self._changed.wait_for(lambda: stage in self.done or self.finished)
            if stage in self.done:
                return self.done[stage], None
            return None, self.error or f"the run stopped before the {stage} stage"

    def wait_finished(self) -> None:
        """Until the whole run has finished and been recorded (or failed)."""
        with self._changed:
            self._changed.wait_for(lambda: self.finished)
