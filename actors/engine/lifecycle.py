"""What each type of service does once its dependencies are up or its dependents are down, and
how it reacts to its process: exec success or failure, readiness, exit, and its one timer.

`Internal` has no process. `Process` is a daemon in the foreground (dinit's process_service);
`Scripted` runs a start command to completion and a stop command to stop (scripted_service).
Each method changes the record and calls back into the graph's rules; none performs I/O: a
process is started, signalled or killed by appending an effect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actors.engine.model import (ExitStatus, Kill, Role, Signal, Spawn, State, StopReason,
                                 TimerKind)
from actors.engine.record import ServiceRecord
from actors.engine.restart import RestartWindow
from actors.loader.spec import OPTION_SIGNAL_PROCESS_ONLY, OPTION_SKIPPABLE, OPTION_START_INTERRUPTIBLE

if TYPE_CHECKING:
    from actors.engine.graph import Graph

STOPPED, STARTING, STARTED, STOPPING = State.STOPPED, State.STARTING, State.STARTED, State.STOPPING


class Internal:
    """No process: started as soon as its dependencies are, stopped once its dependents are."""

    def __init__(self, graph: Graph):
        self.g = graph

    def bring_up(self, rec: ServiceRecord) -> None:
        if not rec.in_auto_restart:
            rec.restarts = 0
        self.g.started(rec)

    def bring_down(self, rec: ServiceRecord) -> None:
        rec.running = False
        self.g.stopped(rec)

    def can_interrupt_start(self, rec: ServiceRecord) -> bool:
        return rec.waiting_for_deps

    def interrupt_start(self, rec: ServiceRecord) -> bool:
        """Cancel a start under way; True if it is cancelled already, False if the cancel was
        issued and the end will be reported."""
        return True

    # A service without a process hears nothing from one; a stray report is ignored.
    def on_spawned(self, rec: ServiceRecord, pid: int, role: Role) -> None:
        pass

    def on_spawn_failed(self, rec: ServiceRecord, reason: str, role: Role) -> None:
        pass

    def on_ready(self, rec: ServiceRecord) -> None:
        pass

    def on_ready_failed(self, rec: ServiceRecord) -> None:
        pass

    def on_exited(self, rec: ServiceRecord, exit: ExitStatus, role: Role) -> None:
        pass

    def on_timer(self, rec: ServiceRecord, kind: TimerKind) -> None:
        pass


class Process(Internal):
    """A long-running process; started once executing, or once ready with a notification."""

    # --- starting -----------------------------------------------------------------------------

    def bring_up(self, rec: ServiceRecord) -> None:
        if rec.awaiting_exec:
            return  # a launch is in flight; its report decides
        if rec.running and rec.pid is not None:
            self.g.started(rec)  # a stop turned round before it reached the process
            return
        if rec.in_auto_restart:
            self._relaunch_after_delay(rec)
            return
        # A start that is not an automatic restart opens a fresh restart-limit window.
        rec.restarts = 0
        rec.window = RestartWindow(self.g.now, 0)
        self._launch(rec)

    def _launch(self, rec: ServiceRecord) -> None:
        g = self.g
        rec.last_start = g.now
        rec.awaiting_exec = True
        g.effects.append(Spawn(rec.name, Role.START))
        if rec.spec.start_timeout > 0:
            g.arm_timer(rec, TimerKind.START, rec.spec.start_timeout)
        else:
            g.cancel_timer(rec)

    def _relaunch_after_delay(self, rec: ServiceRecord) -> None:
        # dinit-service(5): restart-delay is the minimum time between starts of the process.
        wait = rec.last_start + rec.spec.restart_delay - self.g.now
        if wait <= 0:
            self._launch(rec)
        else:
            self.g.arm_timer(rec, TimerKind.RESTART, wait)

    def can_interrupt_start(self, rec: ServiceRecord) -> bool:
        # A shutdown interrupts a start rather than waiting for it (dinit issue #225).
        return (rec.waiting_for_deps or self._restart_pending(rec) or self.g.shutting_down
                or OPTION_START_INTERRUPTIBLE in rec.spec.options)

    def interrupt_start(self, rec: ServiceRecord) -> bool:
        if self._restart_pending(rec):
            self.g.cancel_timer(rec)
            return True
        self._signal(rec, "SIGINT")
        self._arm_stop_timer(rec)
        self.g.set_state(rec, STOPPING)
        return False

    @staticmethod
    def _restart_pending(rec: ServiceRecord) -> bool:
        return rec.timer is not None and rec.timer.kind is TimerKind.RESTART

    # --- stopping -----------------------------------------------------------------------------

    def bring_down(self, rec: ServiceRecord) -> None:
        g = self.g
        rec.running = False
        rec.smooth_recovering = False  # going down: no recovery is under way any more
        if rec.stop_cmd_running or rec.stop_issued or rec.awaiting_exec:
            return  # a stop is under way, or the exec status is still to come
        if rec.pid is None:
            # Already dead (perhaps waiting for a relaunch during smooth recovery).
            if self._restart_pending(rec):
                g.cancel_timer(rec)
            g.stopped(rec)
            return
        if rec.spec.stop_command:
            rec.stop_cmd_running = True
            g.effects.append(Spawn(rec.name, Role.STOP))
        elif rec.spec.term_signal:
            self._signal(rec, rec.spec.term_signal)
        rec.stop_issued = True
        self._arm_stop_timer(rec)

    def _arm_stop_timer(self, rec: ServiceRecord) -> None:
        if rec.spec.stop_timeout > 0:
            self.g.arm_timer(rec, TimerKind.STOP, rec.spec.stop_timeout)
        else:
            self.g.cancel_timer(rec)

    def _signal(self, rec: ServiceRecord, signal: str) -> None:
        group = OPTION_SIGNAL_PROCESS_ONLY not in rec.spec.options
        self.g.effects.append(Signal(rec.name, signal, group))

    # --- reports from the process -------------------------------------------------------------

    def on_spawned(self, rec: ServiceRecord, pid: int, role: Role) -> None:
        if role is Role.STOP:
            return
        rec.awaiting_exec = False
        rec.pid = pid
        if rec.state is STARTING:
            if rec.spec.ready_notification is None:
                self.g.cancel_timer(rec)
                self.g.started(rec)
        elif rec.state is STARTED:
            if rec.spec.ready_notification is None:
                self.g.cancel_timer(rec)
                rec.smooth_recovering = False
        elif rec.state is STOPPING and not rec.waiting_for_deps:
            # A stop came while the exec status was awaited; carry it out now.
            self.bring_down(rec)

    def on_ready(self, rec: ServiceRecord) -> None:
        if rec.state is STARTING and not rec.awaiting_exec:
            self.g.cancel_timer(rec)
            self.g.started(rec)
        elif rec.state is STARTED and rec.smooth_recovering:
            self.g.cancel_timer(rec)
            rec.smooth_recovering = False

    def on_ready_failed(self, rec: ServiceRecord) -> None:
        """The readiness pipe closed before a line came, while the process still runs."""
        if rec.state is not STARTING:
            return
        self.g.cancel_timer(rec)
        rec.stop_reason = StopReason.FAILED
        rec.failure = "closed its readiness pipe without signalling ready"
        self.g.set_state(rec, STOPPING)
        self.g.failed_to_start(rec, immediate_stop=False)
        self.bring_down(rec)

    def on_spawn_failed(self, rec: ServiceRecord, reason: str, role: Role) -> None:
        g = self.g
        if role is Role.STOP:
            # dinit: if the stop command can't run, fall back to term-signal (or SIGKILL).
            rec.stop_cmd_running = False
            g.log(rec, "error", f"could not run stop command: {reason}")
            if rec.pid is not None:
                self._signal(rec, rec.spec.term_signal or "SIGKILL")
            elif rec.state is STOPPING:
                rec.stop_issued = False
                g.stopped(rec)
            return
        rec.awaiting_exec = False
        rec.pid = None
        g.cancel_timer(rec)
        rec.failure = f"could not be executed: {reason}"
        if rec.state is STARTING:
            rec.stop_reason = StopReason.EXEC_FAILED
            g.failed_to_start(rec)
        elif rec.state is STARTED:
            # The relaunch of a smooth recovery failed: that is an unrecoverable stop.
            rec.stop_reason = StopReason.TERMINATED
            self._recovery_failed(rec)
        elif rec.state is STOPPING and not rec.waiting_for_deps:
            rec.stop_issued = False
            g.stopped(rec)

    def on_exited(self, rec: ServiceRecord, exit: ExitStatus, role: Role) -> None:
        g = self.g
        if role is Role.STOP:
            rec.stop_cmd_running = False
            if not exit.clean:
                g.log(rec, "warning", f"stop command {exit.describe()}")
            if rec.pid is None and rec.state is STOPPING and not rec.waiting_for_deps:
                rec.stop_issued = False
                g.stopped(rec)
            return
        rec.pid = None
        rec.awaiting_exec = False
        rec.last_exit = exit
        g.cancel_timer(rec)
        if rec.state is STARTED and rec.smooth_recovering:
            # The relaunched process died before it was ready: the recovery failed. (dinit
            # notices this only while a start timer runs.)
            self._terminated(rec, exit)
            self._recovery_failed(rec)
        elif rec.state is STARTING:
            rec.stop_reason = StopReason.FAILED
            rec.failure = f"{exit.describe()} before it was ready"
            g.failed_to_start(rec)
        elif rec.state is STOPPING:
            if not rec.waiting_for_deps and not rec.stop_cmd_running:
                rec.stop_issued = False
                g.stopped(rec)
            # Otherwise bring_down finds the process gone once dependents are down.
        elif rec.state is STARTED:
            if rec.spec.smooth_recovery and g._admit_automatic_restart(rec):
                rec.smooth_recovering = True
                g.log(rec, "warning", f"process {exit.describe()}; relaunching it (smooth recovery)")
                self._relaunch_after_delay(rec)
            else:
                # Roll back the hard dependents first; whether it restarts is decided, on
                # settled counts, in do_stop.
                self._terminated(rec, exit)
                rec.force_stop = True
                g.do_stop(rec)

    def _recovery_failed(self, rec: ServiceRecord) -> None:
        """Smooth recovery could not bring the process back: the service stops for good, its
        hard dependents with it (dep-failed)."""
        rec.smooth_recovering = False
        rec.gave_up = True
        self.g.notify(rec, "failed", rec.failure)
        self.g.unrecoverable_stop(rec)

    @staticmethod
    def _terminated(rec: ServiceRecord, exit: ExitStatus) -> None:
        rec.stop_reason = StopReason.TERMINATED
        rec.failure = f"process {exit.describe()}"

    def on_timer(self, rec: ServiceRecord, kind: TimerKind) -> None:
        g = self.g
        if kind is TimerKind.RESTART:
            self._launch(rec)
        elif kind is TimerKind.STOP:
            g.log(rec, "warning", f"did not stop within {rec.spec.stop_timeout:g} s; killing it")
            g.effects.append(Kill(rec.name))
        elif kind is TimerKind.START and rec.state is STARTING:
            g.log(rec, "warning",
                  f"did not start within {rec.spec.start_timeout:g} s; interrupting it")
            self.interrupt_start(rec)
            rec.stop_reason = StopReason.TIMED_OUT
            rec.failure = f"start timed out after {rec.spec.start_timeout:g} s"
            g.failed_to_start(rec, immediate_stop=False)
        elif kind is TimerKind.START and rec.smooth_recovering:
            # The relaunch of a smooth recovery did not become ready in time. dinit interrupts
            # it at once; here its dependents stop first, like any unrecoverable stop.
            rec.stop_reason = StopReason.TIMED_OUT
            rec.failure = (f"relaunched process not ready within "
                           f"{rec.spec.start_timeout:g} s")
            g.log(rec, "warning", f"{rec.failure}; stopping it")
            self._recovery_failed(rec)


class Scripted(Process):
    """`command` runs to completion to start; `stop-command`, if any, runs to stop."""

    def interrupt_start(self, rec: ServiceRecord) -> bool:
        rec.interrupting_start = not super().interrupt_start(rec)
        return not rec.interrupting_start

    def bring_up(self, rec: ServiceRecord) -> None:
        if rec.running:
            self.g.started(rec)  # a stop turned round before its stop command ran
            return
        super().bring_up(rec)

    def bring_down(self, rec: ServiceRecord) -> None:
        if rec.pid is not None or rec.awaiting_exec:
            return  # a command is still running; its end is reported
        if not rec.running:
            # Its start command never completed, so there is nothing to undo (dinit would run
            # the stop command even for a start that never began).
            self.g.stopped(rec)
            return
        rec.running = False
        self._run_stop_command(rec)

    def _run_stop_command(self, rec: ServiceRecord) -> None:
        g = self.g
        if not rec.spec.stop_command:
            g.stopped(rec)
            return
        rec.awaiting_exec = True
        g.effects.append(Spawn(rec.name, Role.STOP))
        self._arm_stop_timer(rec)

    def on_spawned(self, rec: ServiceRecord, pid: int, role: Role) -> None:
        rec.awaiting_exec = False
        rec.pid = pid

    def on_ready(self, rec: ServiceRecord) -> None:
        pass

    def on_ready_failed(self, rec: ServiceRecord) -> None:
        pass

    def on_spawn_failed(self, rec: ServiceRecord, reason: str, role: Role) -> None:
        g = self.g
        rec.awaiting_exec = False
        rec.pid = None
        g.cancel_timer(rec)
        if rec.state is STARTING:
            rec.stop_reason = StopReason.EXEC_FAILED
            rec.failure = f"could not be executed: {reason}"
            g.failed_to_start(rec)
        elif rec.state is STOPPING:
            g.log(rec, "error", f"could not run stop command: {reason}")
            g.stopped(rec)

    def on_exited(self, rec: ServiceRecord, exit: ExitStatus, role: Role) -> None:
        g = self.g
        rec.pid = None
        rec.awaiting_exec = False
        g.cancel_timer(rec)
        if role is Role.START:
            rec.last_exit = exit
        if rec.state is STOPPING:
            if rec.interrupting_start:
                rec.interrupting_start = False
                if exit.code is not None and exit.code != 0:
                    g.stopped(rec)  # a command that failed by itself needs no clean-up
                else:
                    self._run_stop_command(rec)  # it completed, or our SIGINT ended it: clean up
            else:
                if not exit.clean:
                    # dinit: a failing stop command is a warning; the service is stopped.
                    g.log(rec, "warning", f"stop command {exit.describe()}")
                g.stopped(rec)
        elif rec.state is STARTING:
            if exit.clean:
                g.started(rec)
            elif exit.signal == "SIGINT" and OPTION_SKIPPABLE in rec.spec.options:
                rec.start_skipped = True
                g.started(rec)
            else:
                rec.stop_reason = StopReason.FAILED
                rec.failure = f"command {exit.describe()}"
                g.failed_to_start(rec)
