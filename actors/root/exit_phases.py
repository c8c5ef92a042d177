"""How the root ends, once no service is active any more: the watchers are given a moment to
retire, a cinit tree's `shutdown` service runs once, whatever is left of the process tree is
terminated (SIGTERM, then SIGKILL after the sweep timeout), and only then does the loop end.

`ExitPhases.check(now)` is called after every step of the loop; it says whether the root is
finished. It also gives the loop the deadline it must wake up for (`deadline`).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from actors.engine import Engine, State
from actors.root import container
from actors.root.console import Console
from actors.root.services import Services
from actors.root.watcher_table import WatcherTable

EXIT_GRACE = 5.0  # once idle, how long to wait for watchers to leave before exiting anyway
SWEEP_TIMEOUT = 10.0  # leftovers get SIGTERM, then SIGKILL after this (dinit's stop-timeout)
SWEEP_POLL = 0.05  # while sweeping, re-check this often: a grandchild's death wakes nobody
FINAL_SERVICE = "shutdown"  # a cinit tree's service that runs once, after everything else


class ExitPhases:
    def __init__(self, engine: Engine, services: Services, watchers: WatcherTable,
                 console: Console, keep: Callable[[], set[int]], settle: Callable[[], None]):
        self.engine, self.services, self.watchers = engine, services, watchers
        self.console = console
        self.keep = keep            # our own helpers, never swept (the zygote)
        self.settle = settle        # carry out the engine's effects
        self.idle = False           # the engine said no service is active
        self.grace_ends: float | None = None
        self.sweep: container.Sweep | None = None
        self.final_started = False

    def deadline(self, now: float) -> float | None:
        if self.sweep is not None:
            return now + SWEEP_POLL
        return self.grace_ends

    def check(self, now: float) -> bool:
        """Take the next exit step that is due; True once the root may finish."""
        if self.engine.active_count > 0:
            if self.final_started and self.engine.state(FINAL_SERVICE) is State.STARTED:
                self.engine.shutdown(now)  # the final one-shot did its job
                self.settle()
            elif self.sweep is None:
                self.idle = False
                self.grace_ends = None
            return False
        if not self.idle:
            return False
        if self.grace_ends is None:
            self.grace_ends = now + EXIT_GRACE
        if len(self.watchers) and now < self.grace_ends:
            return False
        if self._run_final_service(now):
            return False
        if self.sweep is None:
            self.sweep = container.Sweep(self.keep(), now + SWEEP_TIMEOUT)
            self.sweep.start()
        return self.sweep.step(now)

    def _run_final_service(self, now: float) -> bool:
        """Start a cinit tree's `shutdown` (a directory service), once, after the others."""
        if self.final_started or self.services.loader.find(FINAL_SERVICE) is None:
            return False
        self.final_started = True
        if self.services.ensure_loaded(FINAL_SERVICE) is not None:
            return False
        source = self.engine.spec(FINAL_SERVICE).source
        if source is None or not os.path.isdir(source.path):
            return False
        self.engine.reopen()
        self.engine.start(FINAL_SERVICE, now)
        self.idle = False
        self.grace_ends = None
        self.settle()
        return True

    def kill_everything(self) -> None:
        """Escalation (a second Ctrl-C, SIGQUIT): SIGKILL to every process below the
        supervisor but its own helpers and watchers."""
        keep = self.keep()
        for pid in container.descendants(os.getpid()):
            if pid not in keep and not self.watchers.is_watcher(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
