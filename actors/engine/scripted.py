"""The handlers of the lifecycle table for `type = scripted` (dinit's scripted_service):
`command` runs to completion to start the service, `stop-command`, if any, runs to stop it.

Launching, delays, timers and signals are the steps `process.py` defines; what differs is
what an exit means. Which handler runs for which phase and input is decided by the table in
`lifecycle.py`.
"""

from __future__ import annotations

from typing import Any

from actors.engine import process
from actors.engine.core import Rules
from actors.engine.model import ExitStatus, LogLevel, Role, Spawn, State, StopReason
from actors.engine.phases import Phase
from actors.engine.record import ServiceRecord
from actors.loader.kinds import OPTION_SKIPPABLE

STARTING, STOPPING = State.STARTING, State.STOPPING


def start(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    """BRING_UP with nothing running."""
    if rec.running:
        g.started(rec)  # a stop turned round before its stop command ran
        return
    if rec.phase is Phase.DELAYED:
        g.cancel_timer(rec)
        rec.phase = Phase.IDLE
    process.start_fresh_or_delayed(g, rec)


def bring_down(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    """BRING_DOWN with nothing running: undo a completed start with the stop command."""
    if rec.phase is Phase.DELAYED:
        g.cancel_timer(rec)
        rec.phase = Phase.IDLE
    if not rec.running:
        # Its start command never completed, so there is nothing to undo (dinit would run
        # the stop command even for a start that never began).
        g.stopped(rec)
        return
    rec.running = False
    _run_stop_command(g, rec)


def _run_stop_command(g: Rules, rec: ServiceRecord) -> None:
    if not rec.spec.stop_command:
        rec.phase = Phase.IDLE
        g.stopped(rec)
        return
    rec.phase = Phase.STOP_LAUNCHING
    g.effects.append(Spawn(rec.name, Role.STOP, rec.spec.stop_timeout))
    process.arm_stop_timer(g, rec)


def interrupt_script(g: Rules, rec: ServiceRecord, _: Any = None) -> bool:
    return process.interrupt(g, rec, Phase.INTERRUPTING)


def start_timed_out(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    process.start_timed_out(g, rec, running=Phase.INTERRUPTING)


def exec_started(g: Rules, rec: ServiceRecord, pid: int) -> None:
    rec.pid = pid
    # Interrupted while it was being launched: its end cleans up as an interrupted one.
    rec.phase = Phase.INTERRUPTING if rec.state is STOPPING else Phase.RUNNING


def stop_exec_started(g: Rules, rec: ServiceRecord, pid: int) -> None:
    rec.pid = pid
    rec.phase = Phase.STOP_COMMAND


def exec_failed(g: Rules, rec: ServiceRecord, reason: str) -> None:
    rec.phase = Phase.IDLE
    rec.pid = None
    g.cancel_timer(rec)
    if rec.state is STARTING:
        rec.stop_reason = StopReason.EXEC_FAILED
        rec.failure = f"could not be executed: {reason}"
        g.failed_to_start(rec)
    else:
        g.log(rec, LogLevel.ERROR, f"could not run its command: {reason}")
        g.stopped(rec)  # interrupted while launching: nothing ran


def stop_exec_failed(g: Rules, rec: ServiceRecord, reason: str) -> None:
    rec.phase = Phase.IDLE
    rec.pid = None
    g.cancel_timer(rec)
    g.log(rec, LogLevel.ERROR, f"could not run stop command: {reason}")
    g.stopped(rec)


def script_ended(g: Rules, rec: ServiceRecord, exit: ExitStatus) -> None:
    """The start command ended: the service is started, skipped, or failed to start."""
    _ended(g, rec)
    rec.last_exit = exit
    if exit.clean:
        g.started(rec)
    elif exit.signal == "SIGINT" and OPTION_SKIPPABLE in rec.spec.options:
        rec.start_skipped = True
        g.started(rec)
    else:
        rec.stop_reason = StopReason.FAILED
        rec.failure = f"command {exit.describe()}"
        g.failed_to_start(rec)


def interrupted_script_ended(g: Rules, rec: ServiceRecord, exit: ExitStatus) -> None:
    _ended(g, rec)
    rec.last_exit = exit
    if exit.code is not None and exit.code != 0:
        g.stopped(rec)  # a command that failed by itself needs no clean-up
    else:
        _run_stop_command(g, rec)  # it completed, or our SIGINT ended it: clean up


def stop_command_ended(g: Rules, rec: ServiceRecord, exit: ExitStatus) -> None:
    _ended(g, rec)
    if not exit.clean:
        # dinit: a failing stop command is a warning; the service is stopped.
        g.log(rec, LogLevel.WARNING, f"stop command {exit.describe()}")
    g.stopped(rec)


def _ended(g: Rules, rec: ServiceRecord) -> None:
    rec.phase = Phase.IDLE
    rec.pid = None
    g.cancel_timer(rec)


def lost_launch(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    (stop_exec_failed if rec.phase is Phase.STOP_LAUNCHING else exec_failed)(
        g, rec, process.WATCHER_DIED)


def lost_script(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    handler = {Phase.RUNNING: script_ended, Phase.INTERRUPTING: interrupted_script_ended,
               Phase.STOP_COMMAND: stop_command_ended}[rec.phase]
    handler(g, rec, process.KILLED)
