"""What the supervisor prints: one line per state change on stdout, in dinit's style
(`[  OK  ] web`, `[FAILED] db (exited with code 1)`, `[STOPPD] web`), and its own log lines on
stderr (`zeroinit: db: restarting too quickly; stopping`). `--quiet` keeps only failures.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from actors.engine import Event, Log, LogLevel, Notify, Rejected
from actors.engine.model import FAILURE_REASONS
from actors.loader.errors import printable

OK, FAILED, STOPPED = "[  OK  ]", "[FAILED]", "[STOPPD]"


class Console:
    def __init__(self, quiet: bool = False, out: TextIO | None = None,
                 err: TextIO | None = None, clock: Callable[[], float] = time.monotonic):
        self.quiet = quiet
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.clock = clock  # for the rate limit only (tests pass a fake one)
        # topic -> (when its last line was printed, lines held back since)
        self._limited: dict[str, tuple[float, int]] = {}

    def on_notify(self, effect: Notify) -> None:
        if effect.event is Event.STARTED and not self.quiet:
            self._line(self.out, f"{OK} {effect.service}")
        elif effect.event is Event.FAILED:
            reason = f" ({effect.reason})" if effect.reason else ""
            self._line(self.out, f"{FAILED} {effect.service}{reason}")
        elif effect.event is Event.STOPPED and not self.quiet:
            status = effect.status
            # A failed start was reported already; don't announce its stop as well.
            if not (status.failed and status.stop_reason in FAILURE_REASONS):
                self._line(self.out, f"{STOPPED} {effect.service}")

    def on_log(self, effect: Log) -> None:
        if effect.level is LogLevel.INFO:
            self.info(f"{effect.service}: {effect.message}")
        else:
            self.log(f"{effect.service}: {effect.message}")

    def on_rejected(self, effect: Rejected) -> None:
        self.log_limited("rejected", f"{effect.service}: ignored {effect.what}: {effect.why}")

    def log_limited(self, topic: str, message: str) -> None:
        """A problem a peer can cause at will (garbage on a socket, impossible reports): at
        most one line a second per topic, saying how many were held back, so that a flood
        can't flood the log."""
        now = self.clock()
        last, held = self._limited.get(topic, (float("-inf"), 0))
        if now - last < 1.0:
            self._limited[topic] = (last, held + 1)
            return
        self._limited[topic] = (now, 0)
        self.log(message + (f" (and {held} more since)" if held else ""))

    def log(self, message: str) -> None:
        """A problem worth reporting, even with --quiet."""
        self._line(self.err, f"zeroinit: {message}")

    def info(self, message: str) -> None:
        """What the supervisor is doing (shutting down, ...): not with --quiet."""
        if not self.quiet:
            self._line(self.err, f"zeroinit: {message}")

    @staticmethod
    def _line(stream: TextIO, text: str) -> None:
        try:
            # Control characters escaped (names and reasons come from files and peers); the
            # lines of a multi-line message (a traceback) stay lines.
            stream.write("\n".join(map(printable, text.split("\n"))) + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed console must not stop the supervisor
