"""What the supervisor prints: one line per state change on stdout, in dinit's style
(`[  OK  ] web`, `[FAILED] db (exited with code 1)`, `[STOPPD] web`), and its own log lines on
stderr (`zeroinit: db: restarting too quickly; stopping`). `--quiet` keeps only failures.
"""

from __future__ import annotations

import sys
from typing import TextIO

from actors.engine import Log, Notify

OK, FAILED, STOPPED = "[  OK  ]", "[FAILED]", "[STOPPD]"


class Console:
    def __init__(self, quiet: bool = False, out: TextIO | None = None,
                 err: TextIO | None = None):
        self.quiet = quiet
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def on_notify(self, effect: Notify) -> None:
        if effect.event == "started" and not self.quiet:
            self._line(self.out, f"{OK} {effect.service}")
        elif effect.event == "failed":
            reason = f" ({effect.reason})" if effect.reason else ""
            self._line(self.out, f"{FAILED} {effect.service}{reason}")
        elif effect.event == "stopped" and not self.quiet:
            status = effect.status
            # A failed start was reported already; don't announce its stop as well.
            if not (status["failed"] and status["stop_reason"] in
                    ("failed", "exec-failed", "timed-out", "dep-failed")):
                self._line(self.out, f"{STOPPED} {effect.service}")

    def on_log(self, effect: Log) -> None:
        if effect.level == "info":
            self.info(f"{effect.service}: {effect.message}")
        else:
            self.log(f"{effect.service}: {effect.message}")

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
            stream.write(text + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed console must not stop the supervisor
