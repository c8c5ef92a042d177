"""The lifecycle handlers for what a `ready-notification = notify` service says over sd_notify
beyond READY=1 (which is the READY input, as for a readiness pipe), and for its watchdog.

* EXTEND_TIMEOUT (`EXTEND_TIMEOUT_USEC=N`): a start under way gets at least N more
  microseconds from now; the start timer is pushed out, never pulled in (systemd's
  sd_notify(3): "cannot be used to shorten the timeout").
* WATCHDOG: its watcher saw the watchdog deadline pass (or `WATCHDOG=trigger`) and sends the
  process SIGABRT, then SIGKILL after stop-timeout, by itself, so that a root restart cannot
  lose the deadline. The engine only remembers why: the exit that follows is a crash like any
  other (dependents rolled back, restart by policy, limits counted) whose stop reason is
  WATCHDOG instead of TERMINATED (`process._terminated`).

Which phase takes which input is decided by the table in `lifecycle.py`, as for every input.
Pure, like every handler: the record changes, effects come out.
"""

from __future__ import annotations

from typing import Any

from actors.engine.core import Rules
from actors.engine.model import LogLevel, State, TimerKind
from actors.engine.record import ServiceRecord


def extend_start_timeout(g: Rules, rec: ServiceRecord, seconds: float) -> None:
    """EXTEND_TIMEOUT while a start (or a smooth recovery's relaunch) waits for readiness."""
    timer = rec.timer
    if timer is None or timer.kind is not TimerKind.START or seconds <= 0:
        return  # no start timeout runs: nothing to extend
    if g.now + seconds > timer.deadline:
        g.arm_timer(rec, TimerKind.START, seconds)


def watchdog_fired(g: Rules, rec: ServiceRecord, why: Any) -> None:
    """WATCHDOG while the daemon runs: it is being aborted; its exit is the crash."""
    if rec.state is not State.STARTED:
        return  # a stop or a failed start is already deciding its fate
    rec.hung = str(why) or "watchdog"
    g.log(rec, LogLevel.WARNING, f"hung ({rec.hung}); aborting it")
