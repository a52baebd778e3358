"""Answers typed at the terminal (or written in $EDITOR), against a countdown.

The answer is read line by line with `input()` (readline editing where available);
each line's prompt shows the time left, and on a capable terminal a clock in the
top-right corner ticks every second while the user types. Two empty lines in a row
or Ctrl-D submit; `/hint`, `/skip` and `/quit` on a line of their own act.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

from rich.console import Console

from mlsd.errors import UsageError
from mlsd.practice import plan
from mlsd.practice.answers_file import MAX_ANSWER_CHARS
from mlsd.practice.scoring import next_hint
from mlsd.practice.session import Reply

COMMANDS = {"/hint": "hint", "/h": "hint", "?": "hint", "/skip": "skip", "/s": "skip", "/quit": "quit", "/q": "quit"}
KEYS_HELP = "Two empty lines or Ctrl-D submit · /hint a rubric point · /skip · /quit (saved; --resume continues)"


def minutes_text(seconds: float) -> str:
    """'10 min' for whole minutes, '2:30 min' otherwise."""
    return f"{seconds / 60:.0f} min" if abs(seconds / 60 - round(seconds / 60)) < 1e-6 else f"{clock(seconds)} min"


def clock(seconds_left: float) -> str:
    """'4:05' while time remains, '+0:42' once it has run out."""
    sign = "" if seconds_left >= 0 else "+"
    total = int(abs(seconds_left) + (0.999 if seconds_left >= 0 else 0))
    return f"{sign}{total // 60}:{total % 60:02d}"


@contextmanager
def corner_clock(deadline: float, enabled: bool):
    """Tick the time left in the terminal's top-right corner until the block ends.

    The cursor is saved and restored around each write (one write() call, so it never
    interleaves with the echo of what the user types)."""
    if not enabled:
        yield
        return
    stop = threading.Event()
    fd = sys.stdout.fileno()

    def draw(text: str) -> None:
        columns = os.get_terminal_size(fd).columns
        os.write(fd, f"\x1b7\x1b[1;{max(1, columns - len(text))}H{text}\x1b8".encode())

    def tick() -> None:
        while not stop.wait(1.0 - (time.monotonic() % 1.0)):
            left = deadline - time.monotonic()
            draw(f" {clock(left)} left " if left >= 0 else f" {clock(left)[1:]} over ")

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=2)
        draw(" " * 12)


def live_clock_possible() -> bool:
    return sys.stdout.isatty() and os.environ.get("TERM", "dumb") not in ("dumb", "")


class TerminalAnswers:
    """Reads answers typed at the terminal."""

    name = "terminal"

    def __init__(self, console: Console, timer: bool) -> None:
        self.console = console
        self.timer = timer
        self.interrupted = False  # Ctrl-C: the session is saved, and the exit code says so (130)
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:  # Windows
            pass

    def followups_available(self) -> int | None:
        return None

    def ready(self, part: plan.Part, budget_s: float) -> bool:
        minutes = f" ({minutes_text(budget_s)})" if self.timer else ""
        verb = "start the clock for" if self.timer else "go on to"
        try:
            reply = input(f"Press Enter to {verb} {part.title}{minutes}, or q to stop here: ")
        except EOFError:
            print()
            return False
        except KeyboardInterrupt:
            print()
            self.interrupted = True
            return False
        return reply.strip().lower() not in ("q", "quit", "/q", "/quit")

    def ask(self, part: plan.Part, budget_s: float, draft: str) -> Reply:
        self.console.print(f"[dim]{KEYS_HELP}[/]")
        lines = draft.splitlines() if draft else []
        if lines:
            self.console.print("[dim]Your draft from last time (keep typing to add to it):[/]")
            self.console.print(draft, markup=False, highlight=False)
        hints: list[str] = []
        started = time.monotonic()
        deadline = started + budget_s
        warned = False
        empty_in_a_row = 0
        with corner_clock(deadline, self.timer and live_clock_possible()):
            while True:
                left = deadline - time.monotonic()
                if self.timer and left < 0 and not warned:
                    self.console.print("[yellow]Time is up for this part: wrap up, then two empty lines.[/]")
                    warned = True
                prompt = f"{clock(left)} › " if self.timer else "› "
                try:
                    line = input(prompt)
                except EOFError:
                    print()
                    break
                except KeyboardInterrupt:
                    print()
                    self.interrupted = True
                    return Reply("quit", "\n".join(lines).strip(), time.monotonic() - started, tuple(hints))
                command = COMMANDS.get(line.strip().lower())
                if command == "hint":
                    self._hint(part, lines, hints)
                    continue
                if command in ("skip", "quit"):
                    return Reply(command, "\n".join(lines).strip(), time.monotonic() - started, tuple(hints))
                if line.strip().startswith("/") and " " not in line.strip():
                    self.console.print(f"[yellow]Unknown command {line.strip()}.[/] {KEYS_HELP}", markup=True)
                    continue
                if line.strip():
                    empty_in_a_row = 0
                    lines.append(line)
                    continue
                empty_in_a_row += 1
                if empty_in_a_row >= 2:
                    if any(line.strip() for line in lines):
                        break
                    self.console.print("[yellow]Nothing typed yet.[/] Type your answer, or /skip.")
                    empty_in_a_row = 0
                    continue
                lines.append("")
        text = "\n".join(lines).strip()
        return Reply("answer" if text else "skip", text, time.monotonic() - started, tuple(hints))

    def _hint(self, part: plan.Part, lines: list[str], hints: list[str]) -> None:
        point = next_hint("\n".join(lines), part.rubric, hints)
        if point is None:
            self.console.print("[dim]No more hints: your answer touches every rubric point already.[/]")
            return
        hints.append(point.point)
        self.console.print(f"[cyan]Hint {len(hints)}:[/] think about [bold]{point.point}[/]"
                           " [dim](a hinted point earns half credit)[/]")


class EditorAnswers(TerminalAnswers):
    """Opens $VISUAL or $EDITOR on a file holding the questions; the saved file is the answer."""

    name = "editor"

    def __init__(self, console: Console, timer: bool) -> None:
        super().__init__(console, timer)
        self.command = editor_command()

    def ask(self, part: plan.Part, budget_s: float, draft: str) -> Reply:
        header = [f"# {part.title} — {minutes_text(budget_s)}. Lines starting with # are ignored.",
                  "# Write your answer below, save and close the editor. A file holding only /skip",
                  "# or /quit skips this part or stops (saved; --resume continues). No hints here.", "#"]
        header += [f"# - {q}" for q in part.questions]
        with tempfile.NamedTemporaryFile("w+", suffix=".md", prefix="mlsd-answer-", delete=False,
                                         encoding="utf-8") as f:
            f.write("\n".join(header) + "\n\n" + draft)
            path = f.name
        started = time.monotonic()
        try:
            subprocess.run([*self.command, path], check=False)
            with open(path, encoding="utf-8", errors="replace") as f:  # a stray byte must not cost the answer
                text = "\n".join(line for line in f.read().splitlines() if not line.startswith("#")).strip()
            text = text[:MAX_ANSWER_CHARS]
        except KeyboardInterrupt:
            self.interrupted = True
            return Reply("quit", draft, time.monotonic() - started)
        finally:
            os.unlink(path)
        seconds = time.monotonic() - started
        command = COMMANDS.get(text.lower())
        if command in ("skip", "quit"):
            return Reply(command, "" if command == "skip" else draft, seconds)
        return Reply("answer" if text else "skip", text, seconds)


def editor_command() -> list[str]:
    """$VISUAL, else $EDITOR, else the first of nano, vim and vi that exists."""
    import shutil

    configured = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if configured:
        return shlex.split(configured)
    for name in ("nano", "vim", "vi"):
        if shutil.which(name):
            return [name]
    raise UsageError("--editor needs an editor: set EDITOR (e.g. export EDITOR=nano) or leave --editor out.")
