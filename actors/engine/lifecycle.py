"""The lifecycle table: for each service type, what every input does in every process phase.

Everything that decides how a service's processes move lives in this file, as data:
`TABLE[service type][phase][input]` is a handler (in `process.py` or `scripted.py`), IGNORE
(nothing to do: the input is expected and changes nothing), or IMPOSSIBLE (no watcher of ours
sends it then, and no rule calls it then: it is reported as a `Rejected` effect, with what and
why, and otherwise dropped). Every (type, phase, input) cell is written out; a test checks that
none is missing. The models are s6-supervise's `actions[state][input]` and h11's `_state.py`.

The phases a type can be in are the rows of its table: an internal service is always IDLE; a
scripted one never TERMINATING or RECOVERING; a process never INTERRUPTING (its start is
interrupted by TERMINATING it with SIGINT).

The graph calls in through `feed(g, rec, input, value)`; `can_interrupt_start` is the one
question it asks without changing anything.
"""

from __future__ import annotations

from typing import Any, Callable

from actors.engine import notify as N
from actors.engine import process as P
from actors.engine import scripted as S
from actors.engine.core import Rules
from actors.engine.model import Rejected
from actors.engine.phases import Input, Phase
from actors.engine.record import ServiceRecord
from actors.loader.kinds import OPTION_START_INTERRUPTIBLE, ServiceType

Handler = Callable[[Rules, ServiceRecord, Any], Any]


class _Cell:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


IGNORE = _Cell("IGNORE")
IMPOSSIBLE = _Cell("IMPOSSIBLE")
Cell = Handler | _Cell

i = Input  # the columns, written short below
(UP, DOWN, INT, SPAWNED, SPAWN_FAILED, READY, READY_FAILED, EXITED, STOP_SPAWNED,
 STOP_SPAWN_FAILED, STOP_EXITED, LOST, START_TIMEOUT, STOP_TIMEOUT, DELAY_OVER, EXTEND,
 WATCHDOG) = (
    i.BRING_UP, i.BRING_DOWN, i.INTERRUPT, i.SPAWNED, i.SPAWN_FAILED, i.READY, i.READY_FAILED,
    i.EXITED, i.STOP_SPAWNED, i.STOP_SPAWN_FAILED, i.STOP_EXITED, i.LOST, i.START_TIMEOUT,
    i.STOP_TIMEOUT, i.RESTART_DELAY, i.EXTEND_TIMEOUT, i.WATCHDOG)
X, _ = IMPOSSIBLE, IGNORE


def _internal_up(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    if not rec.in_auto_restart:
        rec.restarts = 0
    g.started(rec)


def _internal_down(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    rec.running = False
    g.stopped(rec)


# An internal service has no process: only the dependency rules speak to it.
INTERNAL: dict[Phase, dict[Input, Cell]] = {
    Phase.IDLE: {
        UP: _internal_up, DOWN: _internal_down, INT: X,
        SPAWNED: X, SPAWN_FAILED: X, READY: X, READY_FAILED: X, EXITED: X,
        STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X, LOST: X,
        START_TIMEOUT: X, STOP_TIMEOUT: X, DELAY_OVER: X, EXTEND: X, WATCHDOG: X,
    },
}

# A daemon in the foreground. READY and READY_FAILED are ignored where the daemon still runs
# but no longer waits to be ready (it may say so late); STOP_SPAWNED is ignored (the stop
# command's pid matters to no rule). EXTEND and WATCHDOG (sd_notify, notify.py) come only while
# a daemon runs: a stop under way ignores them (the watcher escalates a watchdog by itself); a
# watchdog is armed only once the watcher has reported ready, so never while RECOVERING.
PROCESS: dict[Phase, dict[Input, Cell]] = {
    Phase.IDLE: {
        UP: P.start_fresh_or_delayed, DOWN: P.down_when_idle, INT: X,
        SPAWNED: X, SPAWN_FAILED: X, READY: X, READY_FAILED: X, EXITED: X,
        STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X, LOST: _,
        START_TIMEOUT: X, STOP_TIMEOUT: X, DELAY_OVER: X, EXTEND: X, WATCHDOG: X,
    },
    Phase.DELAYED: {
        UP: P.start_fresh_or_delayed, DOWN: P.down_when_idle, INT: P.cancel_delay,
        SPAWNED: X, SPAWN_FAILED: X, READY: X, READY_FAILED: X, EXITED: X,
        STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X, LOST: _,
        START_TIMEOUT: X, STOP_TIMEOUT: X, DELAY_OVER: P.relaunch, EXTEND: X, WATCHDOG: X,
    },
    Phase.LAUNCHING: {
        UP: _, DOWN: P.down_while_launching, INT: P.interrupt_launch,
        SPAWNED: P.exec_started, SPAWN_FAILED: P.exec_failed, READY: X, READY_FAILED: X,
        EXITED: X, STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X, LOST: P.lost_launch,
        START_TIMEOUT: P.start_timed_out, STOP_TIMEOUT: P.stop_timed_out, DELAY_OVER: X,
        EXTEND: X, WATCHDOG: X,
    },
    Phase.RUNNING: {
        UP: P.resume, DOWN: P.stop_process, INT: P.interrupt_daemon,
        SPAWNED: X, SPAWN_FAILED: X, READY: P.became_ready, READY_FAILED: P.readiness_failed,
        EXITED: P.daemon_exited, STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X,
        LOST: P.lost_daemon,
        START_TIMEOUT: P.start_timed_out, STOP_TIMEOUT: X, DELAY_OVER: X,
        EXTEND: N.extend_start_timeout, WATCHDOG: N.watchdog_fired,
    },
    Phase.TERMINATING: {
        UP: X, DOWN: _, INT: X,
        SPAWNED: X, SPAWN_FAILED: X, READY: _, READY_FAILED: _,
        EXITED: P.terminated_as_asked, STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X,
        LOST: P.lost_daemon,
        START_TIMEOUT: X, STOP_TIMEOUT: P.stop_timed_out, DELAY_OVER: X, EXTEND: _, WATCHDOG: _,
    },
    Phase.STOP_COMMAND: {
        UP: X, DOWN: _, INT: X,
        SPAWNED: X, SPAWN_FAILED: X, READY: _, READY_FAILED: _,
        EXITED: P.exited_during_stop_command, STOP_SPAWNED: _,
        STOP_SPAWN_FAILED: P.stop_command_failed, STOP_EXITED: P.stop_command_ended,
        LOST: P.lost_stop_command,
        START_TIMEOUT: X, STOP_TIMEOUT: P.stop_timed_out, DELAY_OVER: X, EXTEND: _, WATCHDOG: _,
    },
    Phase.STOP_COMMAND_ONLY: {
        UP: X, DOWN: _, INT: X,
        SPAWNED: X, SPAWN_FAILED: X, READY: X, READY_FAILED: X, EXITED: X,
        STOP_SPAWNED: _, STOP_SPAWN_FAILED: P.stop_command_failed,
        STOP_EXITED: P.stop_command_ended, LOST: P.lost_stop_command,
        START_TIMEOUT: X, STOP_TIMEOUT: P.stop_timed_out, DELAY_OVER: X, EXTEND: X, WATCHDOG: X,
    },
    Phase.RECOVERY_DELAY: {
        UP: P.up_after_recovery_turned_round, DOWN: P.down_when_idle, INT: X,
        SPAWNED: X, SPAWN_FAILED: X, READY: X, READY_FAILED: X, EXITED: X,
        STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X, LOST: _,
        START_TIMEOUT: X, STOP_TIMEOUT: X, DELAY_OVER: P.relaunch, EXTEND: X, WATCHDOG: X,
    },
    Phase.RECOVERY_LAUNCHING: {
        UP: _, DOWN: P.down_while_launching, INT: P.interrupt_launch,
        SPAWNED: P.recovery_exec_started, SPAWN_FAILED: P.recovery_exec_failed,
        READY: X, READY_FAILED: X, EXITED: X,
        STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X, LOST: P.lost_launch,
        START_TIMEOUT: P.recovery_timed_out, STOP_TIMEOUT: X, DELAY_OVER: X,
        EXTEND: X, WATCHDOG: X,
    },
    Phase.RECOVERING: {
        UP: P.resume, DOWN: P.stop_process, INT: X,
        SPAWNED: X, SPAWN_FAILED: X, READY: P.recovered, READY_FAILED: _,
        EXITED: P.recovery_died, STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X,
        LOST: P.lost_daemon,
        START_TIMEOUT: P.recovery_timed_out, STOP_TIMEOUT: X, DELAY_OVER: X,
        EXTEND: N.extend_start_timeout, WATCHDOG: X,
    },
}

# A start script and a stop script. Neither has a readiness pipe nor sd_notify: READY,
# READY_FAILED, EXTEND and WATCHDOG never come from a watcher of ours.
SCRIPTED: dict[Phase, dict[Input, Cell]] = {
    Phase.IDLE: {
        UP: S.start, DOWN: S.bring_down, INT: X,
        SPAWNED: X, SPAWN_FAILED: X, READY: X, READY_FAILED: X, EXITED: X,
        STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X, LOST: _,
        START_TIMEOUT: X, STOP_TIMEOUT: X, DELAY_OVER: X, EXTEND: X, WATCHDOG: X,
    },
    Phase.DELAYED: {
        UP: S.start, DOWN: S.bring_down, INT: P.cancel_delay,
        SPAWNED: X, SPAWN_FAILED: X, READY: X, READY_FAILED: X, EXITED: X,
        STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X, LOST: _,
        START_TIMEOUT: X, STOP_TIMEOUT: X, DELAY_OVER: P.relaunch, EXTEND: X, WATCHDOG: X,
    },
    Phase.LAUNCHING: {
        UP: _, DOWN: _, INT: P.interrupt_launch,
        SPAWNED: S.exec_started, SPAWN_FAILED: S.exec_failed, READY: X, READY_FAILED: X,
        EXITED: X, STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X, LOST: S.lost_launch,
        START_TIMEOUT: S.start_timed_out, STOP_TIMEOUT: P.stop_timed_out, DELAY_OVER: X,
        EXTEND: X, WATCHDOG: X,
    },
    Phase.RUNNING: {
        UP: X, DOWN: _, INT: S.interrupt_script,
        SPAWNED: X, SPAWN_FAILED: X, READY: X, READY_FAILED: X, EXITED: S.script_ended,
        STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: X, LOST: S.lost_script,
        START_TIMEOUT: S.start_timed_out, STOP_TIMEOUT: X, DELAY_OVER: X, EXTEND: X, WATCHDOG: X,
    },
    Phase.INTERRUPTING: {
        UP: X, DOWN: _, INT: X,
        SPAWNED: X, SPAWN_FAILED: X, READY: X, READY_FAILED: X,
        EXITED: S.interrupted_script_ended, STOP_SPAWNED: X, STOP_SPAWN_FAILED: X,
        STOP_EXITED: X, LOST: S.lost_script,
        START_TIMEOUT: X, STOP_TIMEOUT: P.stop_timed_out, DELAY_OVER: X, EXTEND: X, WATCHDOG: X,
    },
    Phase.STOP_LAUNCHING: {
        UP: X, DOWN: _, INT: X,
        SPAWNED: X, SPAWN_FAILED: X, READY: X, READY_FAILED: X, EXITED: X,
        STOP_SPAWNED: S.stop_exec_started, STOP_SPAWN_FAILED: S.stop_exec_failed,
        STOP_EXITED: X, LOST: S.lost_launch,
        START_TIMEOUT: X, STOP_TIMEOUT: P.stop_timed_out, DELAY_OVER: X, EXTEND: X, WATCHDOG: X,
    },
    Phase.STOP_COMMAND: {
        UP: X, DOWN: _, INT: X,
        SPAWNED: X, SPAWN_FAILED: X, READY: X, READY_FAILED: X, EXITED: X,
        STOP_SPAWNED: X, STOP_SPAWN_FAILED: X, STOP_EXITED: S.stop_command_ended,
        LOST: S.lost_script,
        START_TIMEOUT: X, STOP_TIMEOUT: P.stop_timed_out, DELAY_OVER: X, EXTEND: X, WATCHDOG: X,
    },
}

TABLE: dict[ServiceType, dict[Phase, dict[Input, Cell]]] = {
    ServiceType.INTERNAL: INTERNAL,
    ServiceType.PROCESS: PROCESS,
    ServiceType.SCRIPTED: SCRIPTED,
}


def feed(g: Rules, rec: ServiceRecord, what: Input, value: Any = None) -> Any:
    """Apply one input to a service: look up its cell and run it. Returns the handler's
    answer (for INTERRUPT: whether the start is cancelled already)."""
    row = TABLE[rec.spec.type].get(rec.phase)
    cell = row[what] if row is not None else IMPOSSIBLE
    if cell is IGNORE:
        return None
    if cell is IMPOSSIBLE:
        g.effects.append(Rejected(rec.name, what.value,
                                  f"cannot happen to a {rec.spec.type.value} service while "
                                  f"{rec.phase.value} ({rec.state.value})"))
        return True if what is Input.INTERRUPT else None
    return cell(g, rec, value)


def can_interrupt_start(g: Rules, rec: ServiceRecord) -> bool:
    """Whether a start under way may be cancelled rather than waited for."""
    if rec.spec.type is ServiceType.INTERNAL:
        return rec.waiting_for_deps
    # A shutdown interrupts a start rather than waiting for it (dinit issue #225).
    return (rec.waiting_for_deps or rec.phase is Phase.DELAYED or g.shutting_down
            or OPTION_START_INTERRUPTIBLE in rec.spec.options)
