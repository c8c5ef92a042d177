"""The handlers of the lifecycle table for `type = process` (dinit's process_service), and the
launching and stopping steps scripted services share with it.

Each handler is `handler(g, rec, value)`: it changes the record (its phase first), calls back
into the dependency rules through `g` (a `Rules`), and performs no I/O: a process is started,
signalled or killed by appending an effect. Which handler runs for which phase and input is
decided by the table in `lifecycle.py`, not here.
"""

from __future__ import annotations

from typing import Any

from actors.engine.core import Rules
from actors.engine.model import (Event, ExitStatus, Kill, LogLevel, Rejected, Role, Signal, Spawn,
                                 State, StopReason, TimerKind)
from actors.engine.phases import Input, Phase
from actors.engine.record import ServiceRecord
from actors.engine.restart import RestartWindow

STOPPED, STARTING, STARTED, STOPPING = State.STOPPED, State.STARTING, State.STARTED, State.STOPPING
WATCHER_DIED = "its watcher died before it could start it"
KILLED = ExitStatus(signal="SIGKILL")  # what befalls a process whose watcher died

# ---------------------------------------------------------------------------------------------
# Steps shared with scripted services
# ---------------------------------------------------------------------------------------------


def launch(g: Rules, rec: ServiceRecord, phase: Phase = Phase.LAUNCHING) -> None:
    """Ask for the start command, with the start timer running."""
    rec.phase = phase
    rec.last_start = g.now
    rec.hung = ""
    g.effects.append(Spawn(rec.name, Role.START))
    if rec.spec.start_timeout > 0:
        g.arm_timer(rec, TimerKind.START, rec.spec.start_timeout)
    else:
        g.cancel_timer(rec)


def relaunch_after_delay(g: Rules, rec: ServiceRecord, recovering: bool = False) -> None:
    # dinit-service(5): restart-delay is the minimum time between starts of the process.
    wait = rec.last_start + rec.spec.restart_delay - g.now
    if wait <= 0:
        launch(g, rec, Phase.RECOVERY_LAUNCHING if recovering else Phase.LAUNCHING)
    else:
        rec.phase = Phase.RECOVERY_DELAY if recovering else Phase.DELAYED
        g.arm_timer(rec, TimerKind.RESTART, wait)


def start_fresh_or_delayed(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    """BRING_UP with nothing running: an automatic restart waits out restart-delay; any other
    start opens a fresh restart-limit window and launches at once."""
    if rec.in_auto_restart:
        relaunch_after_delay(g, rec)
        return
    rec.restarts = 0
    rec.window = RestartWindow(g.now, 0)
    launch(g, rec)


def signal(g: Rules, rec: ServiceRecord, name: str, kill_after: float = 0.0) -> None:
    g.effects.append(Signal(rec.name, name, rec.spec.signals_group, kill_after))


def arm_stop_timer(g: Rules, rec: ServiceRecord) -> None:
    if rec.spec.stop_timeout > 0:
        g.arm_timer(rec, TimerKind.STOP, rec.spec.stop_timeout)
    else:
        g.cancel_timer(rec)


def interrupt(g: Rules, rec: ServiceRecord, phase: Phase) -> bool:
    """Cancel a start whose command runs (or is being launched): SIGINT, the stop timer, and
    STOPPING until it ends, in `phase`. False: the end will be reported."""
    signal(g, rec, "SIGINT", rec.spec.stop_timeout)
    arm_stop_timer(g, rec)
    g.set_state(rec, STOPPING)
    rec.phase = phase
    return False


def interrupt_launch(g: Rules, rec: ServiceRecord, _: Any = None) -> bool:
    """INTERRUPT before the exec is reported: the signal may find nothing; the report then
    finds the service STOPPING and stops it."""
    return interrupt(g, rec, Phase.LAUNCHING)


def interrupt_daemon(g: Rules, rec: ServiceRecord, _: Any = None) -> bool:
    return interrupt(g, rec, Phase.TERMINATING)


def cancel_delay(g: Rules, rec: ServiceRecord, _: Any = None) -> bool:
    """INTERRUPT while waiting out restart-delay: nothing runs, so it is cancelled at once."""
    g.cancel_timer(rec)
    rec.phase = Phase.IDLE
    return True


def stop_timed_out(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    g.log(rec, LogLevel.WARNING, f"did not stop within {rec.spec.stop_timeout:g} s; killing it")
    g.effects.append(Kill(rec.name))


def start_timed_out(g: Rules, rec: ServiceRecord, _: Any = None,
                    running: Phase = Phase.TERMINATING) -> None:
    """START_TIMEOUT: the start is interrupted (a running command goes to `running`) and
    fails."""
    if rec.state is not STARTING:
        return  # a stop began meanwhile; its own timer decides now
    g.log(rec, LogLevel.WARNING,
          f"did not start within {rec.spec.start_timeout:g} s; interrupting it")
    interrupt(g, rec, running if rec.phase is Phase.RUNNING else Phase.LAUNCHING)
    rec.stop_reason = StopReason.TIMED_OUT
    rec.failure = f"start timed out after {rec.spec.start_timeout:g} s"
    g.failed_to_start(rec, immediate_stop=False)


def reject(g: Rules, rec: ServiceRecord, what: Input, why: str) -> None:
    g.effects.append(Rejected(rec.name, what.value, why))


def _exited(rec: ServiceRecord, exit: ExitStatus) -> None:
    rec.pid = None
    rec.last_exit = exit


def _terminated(rec: ServiceRecord, exit: ExitStatus) -> None:
    rec.stop_reason = StopReason.WATCHDOG if rec.hung else StopReason.TERMINATED
    rec.failure = f"process {exit.describe()}" + (f" ({rec.hung})" if rec.hung else "")


# ---------------------------------------------------------------------------------------------
# Bringing up and down
# ---------------------------------------------------------------------------------------------


def resume(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    """BRING_UP while its daemon runs: a stop turned round before it reached the process."""
    if not rec.running:
        return reject(g, rec, Input.BRING_UP, "its process is still starting")
    g.started(rec)


def stop_process(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    """BRING_DOWN while the daemon runs: its stop command, else its term-signal, and the stop
    timer (SIGKILL when it fires; the watcher escalates by itself too)."""
    rec.running = False
    spec = rec.spec
    if spec.stop_command:
        rec.phase = Phase.STOP_COMMAND
        g.effects.append(Spawn(rec.name, Role.STOP, spec.stop_timeout))
    else:
        rec.phase = Phase.TERMINATING
        if spec.term_signal:
            signal(g, rec, spec.term_signal, spec.stop_timeout)
    arm_stop_timer(g, rec)


def down_when_idle(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    """BRING_DOWN with nothing running (a pending relaunch is cancelled)."""
    rec.running = False
    if rec.phase is not Phase.IDLE:
        g.cancel_timer(rec)
        rec.phase = Phase.IDLE
    g.stopped(rec)


def down_while_launching(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    """BRING_DOWN while the exec is awaited: its report carries the stop out (`exec_started`)."""
    rec.running = False
    rec.phase = Phase.LAUNCHING


def up_after_recovery_turned_round(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    """BRING_UP while a smooth recovery waits out its delay (a stop of the recovering service
    was turned round): start afresh."""
    g.cancel_timer(rec)
    rec.phase = Phase.IDLE
    start_fresh_or_delayed(g, rec)


# ---------------------------------------------------------------------------------------------
# Reports about the start command
# ---------------------------------------------------------------------------------------------


def exec_started(g: Rules, rec: ServiceRecord, pid: int) -> None:
    rec.phase = Phase.RUNNING
    rec.pid = pid
    if rec.state is STARTING:
        if rec.spec.ready_notification is None:
            g.cancel_timer(rec)
            g.started(rec)
    elif rec.state is STOPPING and not rec.waiting_for_deps:
        stop_process(g, rec)  # a stop came while the exec status was awaited
    elif rec.state is STARTED and rec.spec.ready_notification is None:
        g.cancel_timer(rec)  # a recovery that timed out: its stop is on its way


def recovery_exec_started(g: Rules, rec: ServiceRecord, pid: int) -> None:
    if rec.state is not STARTED:
        return exec_started(g, rec, pid)  # the recovery became an ordinary start
    rec.pid = pid
    if rec.spec.ready_notification is None:
        g.cancel_timer(rec)
        rec.phase = Phase.RUNNING
    else:
        rec.phase = Phase.RECOVERING


def exec_failed(g: Rules, rec: ServiceRecord, reason: str) -> None:
    rec.phase = Phase.IDLE
    rec.pid = None
    g.cancel_timer(rec)
    rec.failure = f"could not be executed: {reason}"
    if rec.state is STARTING:
        rec.stop_reason = StopReason.EXEC_FAILED
        g.failed_to_start(rec)
    elif rec.state is STOPPING and not rec.waiting_for_deps:
        g.stopped(rec)


def recovery_exec_failed(g: Rules, rec: ServiceRecord, reason: str) -> None:
    if rec.state is not STARTED:
        return exec_failed(g, rec, reason)
    rec.phase = Phase.IDLE
    g.cancel_timer(rec)
    rec.failure = f"could not be executed: {reason}"
    # The relaunch of a smooth recovery failed: that is an unrecoverable stop.
    rec.stop_reason = StopReason.TERMINATED
    _recovery_failed(g, rec)


def became_ready(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    if rec.state is STARTING:
        g.cancel_timer(rec)
        g.started(rec)


def recovered(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    g.cancel_timer(rec)
    rec.phase = Phase.RUNNING


def readiness_failed(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    """The readiness pipe closed before a line came, while the process still runs."""
    if rec.state is not STARTING:
        return
    g.cancel_timer(rec)
    rec.stop_reason = StopReason.FAILED
    rec.failure = "closed its readiness pipe without signalling ready"
    g.set_state(rec, STOPPING)
    g.failed_to_start(rec, immediate_stop=False)
    stop_process(g, rec)


def daemon_exited(g: Rules, rec: ServiceRecord, exit: ExitStatus) -> None:
    """EXITED while RUNNING: a failed start, the end of a stop, or a crash."""
    _exited(rec, exit)
    g.cancel_timer(rec)
    rec.phase = Phase.IDLE
    if rec.state is STARTING:
        rec.stop_reason = StopReason.FAILED
        rec.failure = f"{exit.describe()} before it was ready"
        g.failed_to_start(rec)
    elif rec.state is STOPPING:
        if not rec.waiting_for_deps:
            g.stopped(rec)
        # Otherwise BRING_DOWN finds it gone once its dependents are down.
    elif rec.state is STARTED:
        if rec.spec.smooth_recovery and g.admit_automatic_restart(rec):
            g.log(rec, LogLevel.WARNING,
                  f"process {exit.describe()}; relaunching it (smooth recovery)")
            relaunch_after_delay(g, rec, recovering=True)
        else:
            # Roll back the hard dependents first; whether it restarts is decided, on settled
            # counts, in do_stop.
            _terminated(rec, exit)
            rec.force_stop = True
            g.do_stop(rec)


def recovery_died(g: Rules, rec: ServiceRecord, exit: ExitStatus) -> None:
    """The relaunched process died before it was ready: the recovery failed. (dinit notices
    this only while a start timer runs.)"""
    _exited(rec, exit)
    g.cancel_timer(rec)
    rec.phase = Phase.IDLE
    _terminated(rec, exit)
    _recovery_failed(g, rec)


def terminated_as_asked(g: Rules, rec: ServiceRecord, exit: ExitStatus) -> None:
    _exited(rec, exit)
    g.cancel_timer(rec)
    rec.phase = Phase.IDLE
    if rec.state is STOPPING and not rec.waiting_for_deps:
        g.stopped(rec)


def exited_during_stop_command(g: Rules, rec: ServiceRecord, exit: ExitStatus) -> None:
    """The daemon ended while its stop command runs: the stop ends with the command (and the
    stop timer goes on, for the command)."""
    _exited(rec, exit)
    rec.phase = Phase.STOP_COMMAND_ONLY


def _recovery_failed(g: Rules, rec: ServiceRecord) -> None:
    """Smooth recovery could not bring the process back: the service stops for good, its
    hard dependents with it (dep-failed)."""
    rec.gave_up = True
    g.notify(rec, Event.FAILED, rec.failure)
    g.unrecoverable_stop(rec)


def recovery_timed_out(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    if rec.state is STARTING:
        return start_timed_out(g, rec)
    # The relaunch of a smooth recovery did not become ready in time. dinit interrupts it at
    # once; here its dependents stop first, like any unrecoverable stop.
    rec.phase = Phase.RUNNING if rec.phase is Phase.RECOVERING else Phase.LAUNCHING
    rec.stop_reason = StopReason.TIMED_OUT
    rec.failure = f"relaunched process not ready within {rec.spec.start_timeout:g} s"
    g.log(rec, LogLevel.WARNING, f"{rec.failure}; stopping it")
    _recovery_failed(g, rec)


def relaunch(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    """RESTART_DELAY: restart-delay is over."""
    launch(g, rec, Phase.RECOVERY_LAUNCHING if rec.phase is Phase.RECOVERY_DELAY
           else Phase.LAUNCHING)


# ---------------------------------------------------------------------------------------------
# Reports about the stop command
# ---------------------------------------------------------------------------------------------


def stop_command_failed(g: Rules, rec: ServiceRecord, reason: str) -> None:
    # dinit: if the stop command can't run, fall back to term-signal (or SIGKILL).
    g.log(rec, LogLevel.ERROR, f"could not run stop command: {reason}")
    if rec.phase is Phase.STOP_COMMAND:
        rec.phase = Phase.TERMINATING
        signal(g, rec, rec.spec.term_signal or "SIGKILL")
    else:
        rec.phase = Phase.IDLE
        g.cancel_timer(rec)
        if rec.state is STOPPING:
            g.stopped(rec)


def stop_command_ended(g: Rules, rec: ServiceRecord, exit: ExitStatus) -> None:
    if not exit.clean:
        g.log(rec, LogLevel.WARNING, f"stop command {exit.describe()}")
    if rec.phase is Phase.STOP_COMMAND:
        rec.phase = Phase.TERMINATING  # the daemon is still to end
        return
    rec.phase = Phase.IDLE
    g.cancel_timer(rec)
    if rec.state is STOPPING and not rec.waiting_for_deps:
        g.stopped(rec)


# ---------------------------------------------------------------------------------------------
# The watcher died
# ---------------------------------------------------------------------------------------------


def lost_launch(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    (recovery_exec_failed if rec.phase is Phase.RECOVERY_LAUNCHING else exec_failed)(
        g, rec, WATCHER_DIED)


def lost_daemon(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    handler = {Phase.RUNNING: daemon_exited, Phase.RECOVERING: recovery_died,
               Phase.TERMINATING: terminated_as_asked}[rec.phase]
    handler(g, rec, KILLED)


def lost_stop_command(g: Rules, rec: ServiceRecord, _: Any = None) -> None:
    daemon_ran = rec.phase is Phase.STOP_COMMAND
    stop_command_ended(g, rec, KILLED)
    if daemon_ran:
        terminated_as_asked(g, rec, KILLED)
