"""The one updating line a long `zeroctl start`/`stop`/`restart` shows on a terminal:

    start: 4s; still starting db (4s), web (1s)

It is written to stderr only when stderr is a terminal (never when piped, never with
--json), rewritten in place every half second while the reply has not come, and erased
before the result is printed. What is still starting or stopping is asked on a second
connection (`list`), so the waiting request is left alone.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

TRANSITIONAL = ("starting", "stopping")


class WaitLine:
    def __init__(self, endpoint: str, command: str, out: TextIO):
        self.endpoint, self.command, self.out = endpoint, command, out
        self.began = time.monotonic()
        self.first_seen: dict[str, float] = {}  # service -> when it was first seen moving
        self._client = None
        self._shown = False

    @classmethod
    def on_terminal(cls, session, command: str) -> WaitLine | None:
        """A line on stderr if it is a terminal, else None (nothing is shown)."""
        if not sys.stderr.isatty():
            return None
        return cls(session.endpoint, command, sys.stderr)

    def update(self) -> None:
        statuses = self._statuses()
        now = time.monotonic()
        if statuses is not None:
            moving = {s["name"]: s["state"] for s in statuses if s["state"] in TRANSITIONAL}
            for name in moving:
                self.first_seen.setdefault(name, now)
            for name in list(self.first_seen):
                if name not in moving:
                    del self.first_seen[name]
            text = describe(self.command, now - self.began,
                            [(n, moving[n], now - t) for n, t in self.first_seen.items()])
        else:
            text = describe(self.command, now - self.began, [])
        self.out.write("\r\033[K" + text[:_width() - 1])
        self.out.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.out.write("\r\033[K")
            self.out.flush()
        if self._client is not None:
            self._client.close()

    def _statuses(self) -> list[dict[str, Any]] | None:
        from broker.client import Client, RemoteError, Unreachable
        try:
            if self._client is None:
                self._client = Client(self.endpoint, timeout=1.0)
            return self._client.call("list")
        except (Unreachable, RemoteError):
            return None


def describe(command: str, elapsed: float, moving: list[tuple[str, str, float]]) -> str:
    """`start: 4s; still starting db (4s), web (1s)`: what is still on its way, longest
    first, grouped by what it is doing."""
    text = f"{command}: {elapsed:.0f}s"
    for state in TRANSITIONAL:
        names = sorted((m for m in moving if m[1] == state), key=lambda m: -m[2])
        if names:
            text += f"; still {state} " + ", ".join(f"{n} ({t:.0f}s)" for n, _, t in names)
    return text


def _width() -> int:
    import shutil
    return shutil.get_terminal_size((80, 24)).columns
