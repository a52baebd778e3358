"""A pseudo-terminal driver for tests: start `python -m mlsd ...` on a real pty (so
stdin is a terminal, Ctrl-C is a signal and readline is live), wait for text, type."""

from __future__ import annotations

import codecs
import os
import pty
import re
import select
import signal
import struct
import sys
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]|\x1b\][^\x07]*\x07|\r")


class Terminal:
    def __init__(self, args: list[str], env: dict[str, str], columns: int = 100) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: a session leader whose controlling terminal is the pty
            # A shell without job control starts background jobs with SIGINT ignored, and an
            # ignored signal stays ignored across exec: Python would then never raise
            # KeyboardInterrupt, and Ctrl-C on the pty would do nothing. A person's terminal
            # delivers it, so the child starts with the default action, as a shell gives it.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execvpe(sys.executable, [sys.executable, "-m", "mlsd", *args], env)
        self.pid, self.fd = pid, fd
        import fcntl
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        self.raw = ""
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.seen = 0  # expect() searches from here on
        self.code: int | None = None

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.raw += self.decoder.decode(data)
        return True

    def expect(self, needle: str, timeout: float = 30) -> str:
        """Wait until `needle` appears after the last match; returns the text up to it."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text
            at = text.find(needle, self.seen)
            if at >= 0:
                chunk = text[self.seen: at + len(needle)]
                self.seen = at + len(needle)
                return chunk
            if time.monotonic() > deadline or not self._read(0.2):
                raise AssertionError(f"did not see {needle!r}; the terminal shows:\n{text[-3000:]}")

    def type(self, *lines: str) -> None:
        for line in lines:
            os.write(self.fd, (line + "\r").encode())
            time.sleep(0.05)  # as a person would; lets readline echo each line

    def ctrl_c(self) -> None:
        os.write(self.fd, b"\x03")

    def ctrl_d(self) -> None:
        os.write(self.fd, b"\x04")

    def wait(self, timeout: float = 30) -> int:
        """Drain the output until the child exits; its exit code."""
        deadline = time.monotonic() + timeout
        while self._read(0.2) and time.monotonic() < deadline:
            pass
        for _ in range(100):
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.code = os.waitstatus_to_exitcode(status)
                return self.code
            time.sleep(0.1)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError(f"mlsd did not exit; the terminal shows:\n{self.text[-3000:]}")
