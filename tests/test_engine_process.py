# Process services: launch, readiness, exits, restart policy, the restart limit, rollback of
# dependents and smooth recovery, step by step on a fake clock.
"""Scenario tests for `type = process` (dinit's process_service), in the spirit of dinit's
src/tests/proctests.cc: each test builds a small graph with `Sim`, plays the watchers' reports
one at a time, and after every step checks the effects in order and the status fields.

The `restart` default is `yes` in zeroinit (dinit's build default), so tests that mean
"no automatic restart" say `restart=NO`. dinit's defaults for its unit tests (restart-delay
0.2 s, 3 restarts in 10 s, stop-timeout 10 s) are also zeroinit's defaults.
"""

from __future__ import annotations

from tests.engine_checks import check, code, deadline, fx, logs, notes, sig, wait
from tests.engine_sim import (NO, ON_FAILURE, READY_FD, YES, Sim, internal, proc)

# ---------------------------------------------------------------------------------------------
# Starting and stopping (dinit: proc_service_start, proc_notify_start, term_via_stop 1..3)
# ---------------------------------------------------------------------------------------------


def test_engine_process_starts_once_executing_and_stops_on_sigterm():
    # A plain process service is started as soon as its exec succeeds, and a stop sends SIGTERM.
    s = Sim(proc("p"))
    check(s, "p", "stopped", "stopped")
    assert fx(s) == []

    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    assert deadline(s) == 60.0  # the default start-timeout, armed at launch

    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    assert deadline(s) is None  # no timer left once started

    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert deadline(s) == 10.0  # stop-timeout

    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"))
    assert deadline(s) is None


def test_engine_process_with_readiness_is_started_only_when_ready():
    # With ready-notification, a process that executes is still starting until it says ready.
    s = Sim(proc("p", ready_notification=READY_FD))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)

    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)
    assert deadline(s) == 60.0  # the start-timeout still runs

    s.tick(3)
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)
    s.ready("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    assert deadline(s) is None

    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")

    s.exits("p", code=0)
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(0))


def test_engine_process_stop_by_command_ends_with_reason_normal():
    # A stop by command arms the stop timer and ends with reason normal, not a failure.
    s = Sim(proc("p", restart=NO))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    assert deadline(s) is None

    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert deadline(s) == 10.0

    s.exits("p", code=0)
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(0))
    assert deadline(s) is None


def test_engine_process_exec_failure_reason_is_replaced_by_a_later_clean_stop():
    # After an exec failure, a later start and stop by command report reason normal again.
    s = Sim(proc("p", restart=NO))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.exec_fails("p")
    assert fx(s) == ["p failed", "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="exec-failed")

    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="exec-failed", explicit=True)  # not failed now

    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, reason="exec-failed", explicit=True)

    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")

    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"))
    assert deadline(s) is None


def test_engine_process_second_start_and_stop_signal_again():
    # Stopping a service a second time sends its term-signal again (nothing stale is kept).
    s = Sim(proc("p", restart=NO))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    first = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=first, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=first, reason="normal")
    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"))

    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="normal", exit=sig("SIGTERM"), explicit=True)
    second = s.execs("p")
    assert second != first
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=second, reason="normal", exit=sig("SIGTERM"),
          explicit=True)

    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=second, reason="normal", exit=sig("SIGTERM"))
    assert deadline(s) == 10.0
    s.exits("p", code=0)
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(0))


def test_engine_process_start_during_stop_relaunches_once_the_old_process_is_gone():
    # A start that arrives while the process is being stopped relaunches it after it dies.
    s = Sim(proc("p"))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    first = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=first, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=first, reason="normal")

    s.tick(1)
    assert fx(s) == []
    check(s, "p", "stopping", "stopped", pid=first, reason="normal")
    s.start("p")
    assert fx(s) == []  # the old process must go first
    check(s, "p", "stopping", "started", pid=first, reason="normal", explicit=True)

    s.exits("p")
    # A start by command: launched at once, with no restart delay and no restart counted.
    assert fx(s) == ["p stopped", "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="normal", exit=sig("SIGTERM"), explicit=True)
    assert deadline(s) == 61.0

    second = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=second, reason="normal", exit=sig("SIGTERM"),
          explicit=True)


# ---------------------------------------------------------------------------------------------
# Start failures (dinit: proc_start_execfail, proc_notify_fail)
# ---------------------------------------------------------------------------------------------


def test_engine_process_exec_failure_fails_hard_dependent_but_not_a_waits_for_one():
    # An exec failure is a failed start: hard dependents fail with it, a waits-for one goes on.
    s = Sim(proc("p"), internal("hard", depends_on=("p",)), internal("soft", waits_for=("p",)))
    s.start("hard")
    assert fx(s) == ["hard starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "hard", "starting", "started", explicit=True)
    s.start("soft")
    assert fx(s) == ["soft starting"]
    check(s, "p", "starting", "started")
    check(s, "hard", "starting", "started", explicit=True)
    check(s, "soft", "starting", "started", explicit=True)

    s.exec_fails("p", "Permission denied")
    assert fx(s) == ["p failed", "p stopped", "retire p", "hard failed", "hard stopped",
                     "soft started"]
    reasons = [(n.service, n.reason) for n in notes(s) if n.event == "failed"]
    assert reasons == [("p", "could not be executed: Permission denied"),
                       ("hard", "a dependency failed to start")]
    check(s, "p", "stopped", "stopped", failed=True, reason="exec-failed")
    # The failed dependent loses its explicit activation: it will not come back by itself.
    check(s, "hard", "stopped", "stopped", failed=True, reason="dep-failed")
    check(s, "soft", "started", "started", explicit=True)
    assert deadline(s) is None


def test_engine_process_exec_failure_clears_explicit_activation():
    # A service started by command whose exec fails is no longer explicitly activated.
    s = Sim(proc("p", restart=YES))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    assert deadline(s) == 60.0

    s.exec_fails("p")
    assert fx(s) == ["p failed", "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="exec-failed")
    assert deadline(s) is None  # restart=yes does not retry a failed start

    s.tick(100)
    assert fx(s) == []
    check(s, "p", "stopped", "stopped", failed=True, reason="exec-failed")


def test_engine_process_ready_pipe_closed_without_a_line_is_a_failed_start():
    # A process that closes its readiness pipe without writing fails to start and is signalled.
    s = Sim(proc("p", ready_notification=READY_FD), internal("d", depends_on=("p",)))
    s.start("d")
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid)
    check(s, "d", "starting", "started", explicit=True)

    s.ready_fails("p")
    assert fx(s) == ["p stopping", "p failed", "signal p SIGTERM", "d failed", "d stopped"]
    assert [n.reason for n in notes(s) if n.service == "p" and n.event == "failed"] == [
        "closed its readiness pipe without signalling ready"]
    check(s, "p", "stopping", "stopped", pid=pid, failed=True, reason="failed")
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed")
    assert deadline(s) == 10.0  # the usual stop-timeout applies to the signalled process

    s.exits("p", code=0)
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="failed", exit=code(0))
    assert deadline(s) is None


def test_engine_process_exit_before_ready_is_a_failed_start_and_not_restarted():
    # A process that dies before it says ready failed to start (reason failed); no restart.
    s = Sim(proc("p", restart=YES, ready_notification=READY_FD),
            internal("d", depends_on=("p",), restart=YES))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid)
    check(s, "d", "starting", "started", explicit=True)

    s.tick(2)
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid)
    s.exits("p", code=1)
    assert fx(s) == ["p failed", "p stopped", "retire p", "d failed", "d stopped", "idle"]
    assert [n.reason for n in notes(s) if n.event == "failed"] == [
        "exited with code 1 before it was ready", "a dependency failed to start"]
    check(s, "p", "stopped", "stopped", failed=True, reason="failed", exit=code(1))
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed")
    assert deadline(s) is None


# ---------------------------------------------------------------------------------------------
# Unexpected exits and restart policy (dinit: proc_unexpected_term, proc_term_restart*)
# ---------------------------------------------------------------------------------------------


def test_engine_process_unexpected_exit_with_restart_no_stops_it_and_its_dependent():
    # restart=no: an exit while started stops the service (terminated) and its hard dependent.
    s = Sim(proc("p", restart=NO), internal("d", depends_on=("p",), restart=NO))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=pid)
    check(s, "d", "started", "started", explicit=True)

    s.tick(5)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid)
    s.exits("p", code=0)
    assert fx(s) == ["p stopping", "d stopping", "d failed", "d stopped", "p stopped",
                     "retire p", "idle"]
    # Exit 0 is terminated but not a failure; d lost a dependency for good: dep-failed.
    check(s, "p", "stopped", "stopped", reason="terminated", exit=code(0))
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed")
    assert s.status("d")["reason"] == "dependency p stopped: process exited with code 0"
    assert deadline(s) is None


def test_engine_process_restart_no_after_crash_stays_down_as_failed():
    # restart=no: a crash (non-zero exit) leaves the service stopped, failed, not explicit.
    s = Sim(proc("p", restart=NO))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)

    s.tick(30)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, explicit=True)
    s.exits("p", code=2)
    assert fx(s) == ["p stopping", "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(2))
    assert deadline(s) is None

    s.tick(60)
    assert fx(s) == []
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(2))


def test_engine_process_restart_yes_relaunches_after_a_clean_exit():
    # restart=yes: even exit 0 brings the process back; `restarts` counts it.
    s = Sim(proc("p", restart=YES))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    first = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=first, explicit=True)

    s.tick(30)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=first, explicit=True)
    s.exits("p", code=0)
    # A long run: the restart delay (from the last start) has passed, so the relaunch is at once.
    assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(0), restarts=1,
          explicit=True)
    assert deadline(s) == 90.0  # start-timeout of the relaunch

    second = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=second, reason="terminated", exit=code(0),
          restarts=1, explicit=True)
    assert deadline(s) is None


def test_engine_process_restart_yes_relaunches_after_sigkill_and_reports_the_signal():
    # restart=yes: a process killed by SIGKILL is relaunched; `exit` names the signal.
    s = Sim(proc("p", restart=YES))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    first = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=first, explicit=True)
    s.tick(5)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=first, explicit=True)
    s.exits("p", signal="SIGKILL")
    assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=sig("SIGKILL"), restarts=1,
          explicit=True)

    second = s.execs("p")
    assert second != first
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=second, reason="terminated", exit=sig("SIGKILL"),
          restarts=1, explicit=True)

    s.tick(5)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=second, reason="terminated", exit=sig("SIGKILL"),
          restarts=1, explicit=True)
    s.exits("p", code=7)
    assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(7), restarts=2,
          explicit=True)


def test_engine_process_quick_crash_waits_for_the_restart_delay():
    # A process that dies right after its start is relaunched only restart-delay after that start.
    s = Sim(proc("p", restart=YES))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    first = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=first, explicit=True)

    s.tick(0.05)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=first, explicit=True)
    s.exits("p", code=0)
    assert fx(s) == ["p stopping", "p stopped", "p starting"]  # no spawn yet
    check(s, "p", "starting", "started", reason="terminated", exit=code(0), restarts=1,
          explicit=True)
    assert deadline(s) == 0.2  # last start (0) + restart-delay (0.2)

    s.tick(0.1)
    assert fx(s) == []
    check(s, "p", "starting", "started", reason="terminated", exit=code(0), restarts=1,
          explicit=True)

    s.advance_to_deadline()
    assert s.now == 0.2
    assert fx(s) == ["spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(0), restarts=1,
          explicit=True)
    assert deadline(s) == 60.2  # the restart timer gave way to the start timer

    second = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=second, reason="terminated", exit=code(0),
          restarts=1, explicit=True)
    assert deadline(s) is None


def test_engine_process_on_failure_restarts_after_nonzero_exit_but_not_after_exit_zero():
    # on-failure: exit 1 restarts the process; a later exit 0 stops it for good.
    s = Sim(proc("p", restart=ON_FAILURE))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    first = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=first, explicit=True)

    s.tick(1)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=first, explicit=True)
    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    second = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=second, reason="terminated", exit=code(1),
          restarts=1, explicit=True)

    s.tick(1)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=second, reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    s.exits("p", code=0)
    assert fx(s) == ["p stopping", "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="terminated", exit=code(0), restarts=1)
    assert deadline(s) is None


def test_engine_process_on_failure_restarts_after_sigquit_not_after_signals_asking_to_go():
    # on-failure: SIGQUIT restarts; HUP, INT, USR1, USR2 and TERM count as a clean exit.
    s = Sim(proc("p", restart=ON_FAILURE))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.tick(1)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", signal="SIGQUIT")
    assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=sig("SIGQUIT"), restarts=1,
          explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=sig("SIGQUIT"),
          restarts=1, explicit=True)

    for name in ("SIGHUP", "SIGINT", "SIGUSR1", "SIGUSR2", "SIGTERM"):
        wait(s, 1)
        s.exits("p", signal=name)
        assert fx(s) == ["p stopping", "p stopped", "retire p", "idle"], name
        # Not restarted, and not failed: a signal asking it to go is a clean end, like exit 0.
        check(s, "p", "stopped", "stopped", reason="terminated", exit=sig(name),
              restarts=1 if name == "SIGHUP" else 0)

        s.start("p")  # by command: a fresh count
        assert fx(s) == ["p starting", "spawn p"]
        check(s, "p", "starting", "started", reason="terminated", exit=sig(name), explicit=True)
        pid = s.execs("p")
        assert fx(s) == ["p started"]
        check(s, "p", "started", "started", pid=pid, reason="terminated", exit=sig(name),
              explicit=True)


def test_engine_process_on_failure_restarts_after_sigsegv_and_sigkill():
    # on-failure: a signal that does not ask a process to go (SEGV, KILL) is a failure.
    s = Sim(proc("p", restart=ON_FAILURE))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    for n, name in enumerate(("SIGSEGV", "SIGKILL", "SIGABRT"), start=1):
        wait(s, 1)
        s.exits("p", signal=name)
        assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"], name
        check(s, "p", "starting", "started", reason="terminated", exit=sig(name), restarts=n,
              explicit=True)
        pid = s.execs("p")
        assert fx(s) == ["p started"]
        check(s, "p", "started", "started", pid=pid, reason="terminated", exit=sig(name),
              restarts=n, explicit=True)


def test_engine_process_internal_dependent_with_on_failure_does_not_come_back():
    # on-failure means `no` for an internal service (dinit #564): rolled back, it stays down.
    s = Sim(proc("p", restart=YES), internal("i", depends_on=("p",), restart=ON_FAILURE))
    s.start("i")
    assert fx(s) == ["i starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "i", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started", "i started"]
    check(s, "p", "started", "started", pid=pid)
    check(s, "i", "started", "started", explicit=True)

    s.tick(10)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid)
    s.exits("p", signal="SIGSEGV")
    # i won't restart, so nothing holds p any more: p stops too, though its policy is yes.
    assert fx(s) == ["p stopping", "i stopping", "i failed", "i stopped", "p stopped",
                     "retire p", "idle"]
    check(s, "i", "stopped", "stopped", failed=True, reason="dep-failed")
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=sig("SIGSEGV"),
          restarts=1)
    assert deadline(s) is None


def test_engine_process_internal_dependent_with_restart_yes_comes_back():
    # An internal hard dependent with restart=yes is rolled back and comes back with p.
    s = Sim(proc("p", restart=YES), internal("i", depends_on=("p",), restart=YES))
    s.start("i")
    assert fx(s) == ["i starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "i", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started", "i started"]
    check(s, "p", "started", "started", pid=1000)
    check(s, "i", "started", "started", explicit=True)
    s.tick(10)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000)
    s.exits("p", code=3)
    assert fx(s) == ["p stopping", "i stopping", "i stopped", "i starting", "p stopped",
                     "p starting", "spawn p"]
    check(s, "i", "starting", "started", restarts=1, explicit=True)
    check(s, "p", "starting", "started", reason="terminated", exit=code(3), restarts=1)

    pid = s.execs("p")
    assert fx(s) == ["p started", "i started"]
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(3), restarts=1)
    check(s, "i", "started", "started", restarts=1, explicit=True)


# ---------------------------------------------------------------------------------------------
# Rollback on unexpected exit
# ---------------------------------------------------------------------------------------------


def test_engine_process_dependent_with_restart_yes_brings_back_dependency_with_restart_no():
    # A dependent that restarts still requires its dependency, so a restart=no process comes back.
    s = Sim(proc("p", restart=NO), internal("d", depends_on=("p",), restart=YES))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    first = s.execs("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=first)
    check(s, "d", "started", "started", explicit=True)

    s.exits("p", code=0)
    assert fx(s) == ["p stopping", "d stopping", "d stopped", "d starting", "p stopped",
                     "p starting", "spawn p"]
    # p's own policy is no: this is an ordinary start for it (no delay, no restart counted).
    check(s, "p", "starting", "started", reason="terminated", exit=code(0))
    check(s, "d", "starting", "started", restarts=1, explicit=True)

    second = s.execs("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=second, reason="terminated", exit=code(0))
    check(s, "d", "started", "started", restarts=1, explicit=True)


def test_engine_process_rollback_keeps_the_restart_yes_dependent_and_drops_the_restart_no_one():
    # basic_test4 with a process at the bottom: e (restart=no) stays down, d (yes) brings p back.
    s = Sim(proc("p", restart=NO), internal("d", depends_on=("p",), restart=YES),
            internal("e", depends_on=("d",), restart=NO))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    s.start("e")
    assert fx(s) == ["e starting"]
    check(s, "e", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started", "d started", "e started"]
    check(s, "p", "started", "started", pid=pid)
    check(s, "d", "started", "started", explicit=True)
    check(s, "e", "started", "started", explicit=True)

    s.tick(50)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid)
    s.exits("p", code=0)
    assert fx(s) == ["p stopping", "d stopping", "e stopping", "e stopped", "d stopped",
                     "d starting", "p stopped", "p starting", "spawn p"]
    check(s, "e", "stopped", "stopped", reason="dep-restart")  # lost its explicit activation
    check(s, "d", "starting", "started", restarts=1, explicit=True)
    check(s, "p", "starting", "started", reason="terminated", exit=code(0))

    pid = s.execs("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(0))
    check(s, "d", "started", "started", restarts=1, explicit=True)
    check(s, "e", "stopped", "stopped", reason="dep-restart")


def test_engine_process_rollback_stops_dependents_in_reverse_order_before_relaunching():
    # zeroinit: the crashed process is relaunched only once its hard dependents are all down.
    s = Sim(proc("p", restart=YES), proc("a", depends_on=("p",), restart=YES),
            proc("b", depends_on=("a",), restart=YES))
    s.start("b")
    assert fx(s) == ["b starting", "a starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "a", "starting", "started")
    check(s, "b", "starting", "started", explicit=True)
    p1 = s.execs("p")
    assert fx(s) == ["p started", "spawn a"]
    check(s, "p", "started", "started", pid=p1)
    a1 = s.execs("a")
    assert fx(s) == ["a started", "spawn b"]
    check(s, "a", "started", "started", pid=a1)
    b1 = s.execs("b")
    assert fx(s) == ["b started"]
    check(s, "b", "started", "started", pid=b1, explicit=True)

    s.tick(30)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=p1)
    s.exits("p", signal="SIGSEGV")
    # The top of the chain is signalled first; a waits for b, p for a.
    assert fx(s) == ["p stopping", "a stopping", "b stopping", "signal b SIGTERM"]
    check(s, "p", "stopping", "started", reason="terminated", exit=sig("SIGSEGV"), restarts=1)
    check(s, "a", "stopping", "started", pid=a1, restarts=1)
    check(s, "b", "stopping", "started", pid=b1, restarts=1, explicit=True)

    s.exits("b")
    assert fx(s) == ["b stopped", "b starting", "signal a SIGTERM"]
    check(s, "b", "starting", "started", exit=sig("SIGTERM"), restarts=1, explicit=True)
    check(s, "a", "stopping", "started", pid=a1, restarts=1)
    check(s, "p", "stopping", "started", reason="terminated", exit=sig("SIGSEGV"), restarts=1)

    s.exits("a")
    assert fx(s) == ["a stopped", "a starting", "p stopped", "p starting", "spawn p"]
    check(s, "a", "starting", "started", exit=sig("SIGTERM"), restarts=1)
    check(s, "p", "starting", "started", reason="terminated", exit=sig("SIGSEGV"), restarts=1)

    p2 = s.execs("p")
    assert p2 != p1
    assert fx(s) == ["p started", "spawn a"]
    check(s, "p", "started", "started", pid=p2, reason="terminated", exit=sig("SIGSEGV"),
          restarts=1)
    a2 = s.execs("a")
    assert fx(s) == ["a started", "spawn b"]
    check(s, "a", "started", "started", pid=a2, exit=sig("SIGTERM"), restarts=1)
    b2 = s.execs("b")
    assert fx(s) == ["b started"]
    check(s, "b", "started", "started", pid=b2, exit=sig("SIGTERM"), restarts=1, explicit=True)
    assert deadline(s) is None


def test_engine_process_relaunch_waits_for_a_slow_dependent_to_stop():
    # zeroinit: no relaunch while a dependent is still stopping, however long ago the delay ran out.
    s = Sim(proc("p", restart=YES), proc("a", depends_on=("p",), restart=YES, stop_timeout=5))
    s.start("a")
    assert fx(s) == ["a starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "a", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started", "spawn a"]
    check(s, "p", "started", "started", pid=1000)
    a1 = s.execs("a")
    assert fx(s) == ["a started"]
    check(s, "a", "started", "started", pid=a1, explicit=True)

    s.exits("p", code=1)  # at once: well inside the restart delay
    assert fx(s) == ["p stopping", "a stopping", "signal a SIGTERM"]
    check(s, "p", "stopping", "started", reason="terminated", exit=code(1), restarts=1)
    check(s, "a", "stopping", "started", pid=a1, restarts=1, explicit=True)
    assert deadline(s) == 5.0  # a's stop-timeout, not p's restart delay

    s.tick(1)  # long past p's restart delay: still nothing for p
    assert fx(s) == []
    check(s, "p", "stopping", "started", reason="terminated", exit=code(1), restarts=1)

    s.advance_to_deadline()
    assert fx(s) == ["log a warning", "kill a"]
    check(s, "a", "stopping", "started", pid=a1, restarts=1, explicit=True)

    s.exits("a")
    # The delay has passed since p's last start, so it is relaunched as soon as a is down.
    assert fx(s) == ["a stopped", "a starting", "p stopped", "p starting", "spawn p"]
    check(s, "a", "starting", "started", exit=sig("SIGKILL"), restarts=1, explicit=True)
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1)


def test_engine_process_rollback_with_a_restart_no_dependent_in_between():
    # p crashes under a (yes, explicit) and b (no, explicit): b stays down, a and p come back.
    s = Sim(proc("p", restart=NO), proc("a", depends_on=("p",), restart=YES),
            proc("b", depends_on=("a",), restart=NO))
    s.start("a")
    assert fx(s) == ["a starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "a", "starting", "started", explicit=True)
    s.start("b")
    assert fx(s) == ["b starting"]
    check(s, "b", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started", "spawn a"]
    check(s, "p", "started", "started", pid=1000)
    a1 = s.execs("a")
    assert fx(s) == ["a started", "spawn b"]
    check(s, "a", "started", "started", pid=a1, explicit=True)
    b1 = s.execs("b")
    assert fx(s) == ["b started"]
    check(s, "b", "started", "started", pid=b1, explicit=True)

    s.tick(30)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000)
    s.exits("p", code=3)
    assert fx(s) == ["p stopping", "a stopping", "b stopping", "signal b SIGTERM"]
    check(s, "p", "stopping", "started", reason="terminated", exit=code(3))
    check(s, "a", "stopping", "started", pid=a1, restarts=1, explicit=True)
    check(s, "b", "stopping", "stopped", pid=b1)  # restart=no: it lost its activation

    s.exits("b")
    assert fx(s) == ["b stopped", "retire b", "signal a SIGTERM"]
    check(s, "b", "stopped", "stopped", reason="dep-restart", exit=sig("SIGTERM"))

    s.exits("a")
    assert fx(s) == ["a stopped", "a starting", "p stopped", "p starting", "spawn p"]
    check(s, "a", "starting", "started", exit=sig("SIGTERM"), restarts=1, explicit=True)
    check(s, "p", "starting", "started", reason="terminated", exit=code(3))

    p2 = s.execs("p")
    assert fx(s) == ["p started", "spawn a"]
    check(s, "p", "started", "started", pid=p2, reason="terminated", exit=code(3))
    a2 = s.execs("a")
    assert fx(s) == ["a started"]
    check(s, "a", "started", "started", pid=a2, exit=sig("SIGTERM"), restarts=1, explicit=True)
    check(s, "b", "stopped", "stopped", reason="dep-restart", exit=sig("SIGTERM"))


def test_engine_process_restart_exec_failure_fails_the_waiting_dependent():
    # If the relaunch after a crash cannot execute, the dependent waiting for it fails.
    s = Sim(proc("p", restart=YES), internal("d", depends_on=("p",), restart=YES))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=1000)
    check(s, "d", "started", "started", explicit=True)
    s.tick(5)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000)
    s.exits("p", signal="SIGKILL")
    assert fx(s) == ["p stopping", "d stopping", "d stopped", "d starting", "p stopped",
                     "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=sig("SIGKILL"), restarts=1)
    check(s, "d", "starting", "started", restarts=1, explicit=True)

    s.exec_fails("p")
    assert fx(s) == ["p failed", "p stopped", "retire p", "d failed", "d stopped", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="exec-failed", exit=sig("SIGKILL"),
          restarts=1)
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed", restarts=1)
    assert deadline(s) is None


def test_engine_process_waits_for_dependent_restarts_a_dependency_that_is_stopping():
    # Starting a service that waits-for a stopping process lets the stop finish, then restarts it.
    s = Sim(proc("p", restart=NO), internal("t", waits_for=("p",)))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    first = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=first, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=first, reason="normal")
    check(s, "t", "stopped", "stopped")

    s.start("t")
    assert fx(s) == ["t starting"]
    check(s, "t", "starting", "started", explicit=True)
    check(s, "p", "stopping", "started", pid=first, reason="normal")

    s.exits("p")
    assert fx(s) == ["p stopped", "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="normal", exit=sig("SIGTERM"))
    check(s, "t", "starting", "started", explicit=True)

    second = s.execs("p")
    assert fx(s) == ["p started", "t started"]
    check(s, "p", "started", "started", pid=second, reason="normal", exit=sig("SIGTERM"))
    check(s, "t", "started", "started", explicit=True)


def test_engine_process_restart_under_a_waits_for_boot_then_stop_and_shutdown():
    # A process pulled in by waits-for restarts on its own; stopped by command, boot stays up.
    s = Sim(proc("p", restart=YES), internal("boot", waits_for=("p",)))
    s.start("boot")
    check(s, "p", "starting", "started")
    check(s, "boot", "starting", "started", explicit=True)
    assert fx(s) == ["boot starting", "p starting", "spawn p"]
    first = s.execs("p")
    assert fx(s) == ["p started", "boot started"]
    check(s, "p", "started", "started", pid=first)
    check(s, "boot", "started", "started", explicit=True)

    s.exits("p", code=0)
    assert fx(s) == ["p stopping", "p stopped", "p starting"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(0), restarts=1)
    check(s, "boot", "started", "started", explicit=True)  # a soft dependent is left alone
    assert deadline(s) == 0.2

    s.tick(0.2)
    check(s, "p", "starting", "started", reason="terminated", exit=code(0), restarts=1)
    assert fx(s) == ["spawn p"]
    second = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=second, reason="terminated", exit=code(0), restarts=1)
    assert s.engine.active_count == 2

    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=second, reason="normal", exit=code(0), restarts=1)
    s.exits("p")
    assert fx(s) == ["p stopped", "retire p"]  # stopped by command: no restart
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"), restarts=1)
    check(s, "boot", "started", "started", explicit=True)
    assert s.engine.active_count == 1

    s.shutdown()
    assert fx(s) == ["boot stopping", "boot stopped", "idle"]  # Idle once
    check(s, "boot", "stopped", "stopped", reason="normal")
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"), restarts=1)
    assert s.engine.active_count == 0
    assert deadline(s) is None


def test_engine_process_shutdown_reports_idle_once():
    # A shutdown that stops the last active service says Idle once, not twice.
    s = Sim(internal("boot"))
    s.start("boot")
    assert fx(s) == ["boot starting", "boot started"]
    check(s, "boot", "started", "started", explicit=True)
    assert s.engine.active_count == 1
    s.shutdown()
    assert fx(s) == ["boot stopping", "boot stopped", "idle"]
    check(s, "boot", "stopped", "stopped", reason="normal")
    assert s.engine.active_count == 0
    assert deadline(s) is None


def test_engine_process_stop_during_restart_delay_cancels_the_relaunch():
    # A stop while a crashed process waits for its restart delay cancels it: nothing is spawned.
    s = Sim(proc("p", restart=YES, restart_delay=2))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "p stopped", "p starting"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    assert deadline(s) == 2.0

    s.tick(1)
    assert fx(s) == []
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(1), restarts=1)
    assert deadline(s) is None

    s.tick(5)
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(1), restarts=1)
    assert fx(s) == []
    assert not s.pending_spawn("p")


def test_engine_process_chain_to_fires_only_after_a_clean_finish():
    # chain-to: a restart=no process that exits 0 by itself starts its successor; not otherwise.
    s = Sim(proc("p", restart=NO, chain_to="q"), proc("q"))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", code=0)
    assert fx(s) == ["p stopping", "p stopped", "retire p", "chain p q", "idle"]
    check(s, "p", "stopped", "stopped", reason="terminated", exit=code(0))

    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(0), explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1001, reason="terminated", exit=code(0), explicit=True)
    s.exits("p", code=3)
    assert fx(s) == ["p stopping", "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(3))

    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(3), explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1002, reason="terminated", exit=code(3), explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=1002, reason="normal", exit=code(3))
    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"))
    check(s, "q", "stopped", "stopped")


def test_engine_process_effects_come_out_in_fifo_order():
    # zeroinit: effects leave in the order the rules produced them (dinit's queues are LIFO).
    s = Sim(proc("a"), proc("b"), proc("c"), internal("g", depends_on=("a", "b", "c")))
    s.start("g")
    assert fx(s) == ["g starting", "a starting", "b starting", "c starting",
                     "spawn a", "spawn b", "spawn c"]
    for name in ("a", "b", "c"):
        check(s, name, "starting", "started")
    check(s, "g", "starting", "started", explicit=True)
    pa, pb, pc = s.execs("a"), s.execs("b"), s.execs("c")
    assert fx(s) == ["c started", "g started"]
    check(s, "g", "started", "started", explicit=True)

    s.stop("g")
    assert fx(s) == ["g stopping", "a stopping", "b stopping", "c stopping", "g stopped",
                     "signal a SIGTERM", "signal b SIGTERM", "signal c SIGTERM"]
    check(s, "a", "stopping", "stopped", pid=pa, reason="normal")
    check(s, "b", "stopping", "stopped", pid=pb, reason="normal")
    check(s, "c", "stopping", "stopped", pid=pc, reason="normal")


def test_engine_process_start_failure_during_rollback_of_dependent_clears_everything():
    # A dependent process mid-restart (dependency crashed) whose dependency then cannot exec fails.
    s = Sim(proc("p", restart=YES), proc("a", depends_on=("p",), restart=YES))
    s.start("a")
    assert fx(s) == ["a starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "a", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started", "spawn a"]
    check(s, "p", "started", "started", pid=1000)
    a1 = s.execs("a")
    assert fx(s) == ["a started"]
    check(s, "a", "started", "started", pid=a1, explicit=True)
    s.tick(20)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000)
    s.exits("p", code=9)
    assert fx(s) == ["p stopping", "a stopping", "signal a SIGTERM"]
    check(s, "a", "stopping", "started", pid=a1, restarts=1, explicit=True)
    s.exits("a")
    assert fx(s) == ["a stopped", "a starting", "p stopped", "p starting", "spawn p"]
    check(s, "a", "starting", "started", exit=sig("SIGTERM"), restarts=1, explicit=True)

    s.exec_fails("p")
    assert fx(s) == ["p failed", "p stopped", "retire p", "a failed", "a stopped", "retire a",
                     "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="exec-failed", exit=code(9),
          restarts=1)
    check(s, "a", "stopped", "stopped", failed=True, reason="dep-failed", exit=sig("SIGTERM"),
          restarts=1)


# ---------------------------------------------------------------------------------------------
# The restart limit (dinit: proc_term_start, proc_term_restart_fail; issue #249)
# ---------------------------------------------------------------------------------------------


def test_engine_process_restart_limit_stops_it_and_a_start_by_command_opens_a_fresh_window():
    # One restart allowed per 1000 s: the second crash stops it; `start` allows one more.
    s = Sim(proc("p", restart=YES, restart_limit_interval=1000, restart_limit_count=1))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.tick(5)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", code=0)
    assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(0), restarts=1,
          explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(0), restarts=1,
          explicit=True)

    s.tick(5)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(0), restarts=1,
          explicit=True)
    s.exits("p", code=0)
    assert fx(s) == ["log p error", "p failed", "p stopping", "p stopped", "retire p", "idle"]
    assert logs(s) == [("p", "error", "restarting too quickly; stopping")]
    assert [(n.service, n.event, n.reason) for n in notes(s) if n.event == "failed"] == [
        ("p", "failed", "restarted 1 time within 1000 s; giving up")]
    # Gave up: failed, though the exit was clean; no longer explicitly active.
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(0),
          restarts=1)
    assert deadline(s) is None

    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(0), explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(0), explicit=True)

    s.tick(5)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(0), explicit=True)
    s.exits("p", code=0)
    assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(0), restarts=1,
          explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(0), restarts=1,
          explicit=True)
    s.tick(5)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(0), restarts=1,
          explicit=True)
    s.exits("p", code=0)
    assert fx(s) == ["log p error", "p failed", "p stopping", "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(0),
          restarts=1)


def test_engine_process_restart_limit_fails_hard_dependent_which_stays_down():
    # Past the limit the process stops as failed; its restart=yes hard dependent stays down (#249).
    s = Sim(proc("p", restart=YES), internal("d", depends_on=("p",), restart=YES),
            internal("top", waits_for=("d",)))
    s.start("top")
    assert fx(s) == ["top starting", "d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started")
    check(s, "top", "starting", "started", explicit=True)
    s.execs("p")
    check(s, "p", "started", "started", pid=1000)
    check(s, "d", "started", "started")
    check(s, "top", "started", "started", explicit=True)
    assert fx(s) == ["p started", "d started", "top started"]
    for n in (1, 2, 3):
        wait(s, 1)
        s.exits("p", code=0)
        assert fx(s) == ["p stopping", "d stopping", "d stopped", "d starting", "p stopped",
                         "p starting", "spawn p"]
        check(s, "p", "starting", "started", reason="terminated", exit=code(0), restarts=n)
        check(s, "d", "starting", "started", restarts=n)
        pid = s.execs("p")
        assert fx(s) == ["p started", "d started"]
        check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(0), restarts=n)
        check(s, "d", "started", "started", restarts=n)
        check(s, "top", "started", "started", explicit=True)

    s.tick(1)  # a fourth exit within 10 s of the start: refused
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(0), restarts=3)
    s.exits("p", code=0)
    assert fx(s) == ["log p error", "p failed", "d failed", "p stopping", "d stopping",
                     "d stopped", "p stopped", "retire p"]
    assert [(n.service, n.reason) for n in notes(s) if n.event == "failed"] == [
        ("p", "restarted 3 times within 10 s; giving up"),
        ("d", "dependency p stopped: restarted 3 times within 10 s; giving up")]
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(0),
          restarts=3)
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed", restarts=3)
    check(s, "top", "started", "started", explicit=True)  # waits-for: unaffected
    assert deadline(s) is None

    s.tick(100)
    assert fx(s) == []
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed", restarts=3)


def test_engine_process_restart_limit_window_reopens_after_the_interval():
    # The window opens at the start by command; a restart after the interval opens a new one.
    s = Sim(proc("p", restart=YES, restart_delay=0))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    for n, at in enumerate((1, 2, 3, 11.5, 12, 13), start=1):
        wait(s, at - s.now)
        s.exits("p", code=1)
        assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"], at
        check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=n,
              explicit=True)
        pid = s.execs("p")
        assert fx(s) == ["p started"]
        check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(1),
              restarts=n, explicit=True)

    s.tick(1)  # the fourth restart in the window opened at 11.5
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(1), restarts=6,
          explicit=True)
    s.exits("p", code=1)
    assert fx(s) == ["log p error", "p failed", "p stopping", "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(1),
          restarts=6)


def test_engine_process_restart_limit_giving_up_notifies_failed():
    # model.Notify and docs/protocol.md: event "failed" also when a service gives up restarting.
    s = Sim(proc("p", restart=YES, restart_limit_count=1, restart_limit_interval=100))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.tick(1)
    assert fx(s) == []
    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    s.tick(1)
    assert fx(s) == []
    s.exits("p", code=1)  # the second restart within 100 s: refused
    assert fx(s) == ["log p error", "p failed", "p stopping", "p stopped", "retire p", "idle"]
    assert logs(s) == [("p", "error", "restarting too quickly; stopping")]
    assert [(n.service, n.event, n.reason) for n in notes(s)] == [
        ("p", "failed", "restarted 1 time within 100 s; giving up"),
        ("p", "stopping", ""), ("p", "stopped", "")]
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(1),
          restarts=1)
    assert deadline(s) is None


def test_engine_process_restart_limit_count_zero_means_unlimited():
    # restart-limit-count = 0: any number of quick restarts is allowed.
    s = Sim(proc("p", restart=YES, restart_delay=0, restart_limit_count=0))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    for n in range(1, 26):
        s.exits("p", code=1)
        assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"]
        check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=n,
              explicit=True)
        pid = s.execs("p")
        assert fx(s) == ["p started"]
        check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(1),
              restarts=n, explicit=True)


# ---------------------------------------------------------------------------------------------
# Interrupting a start
# ---------------------------------------------------------------------------------------------


def test_engine_process_stop_while_awaiting_readiness_waits_for_it_to_be_ready():
    # Without start-interruptible, a stop during the readiness wait takes effect once it is ready.
    s = Sim(proc("p", ready_notification=READY_FD))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)
    s.stop("p")
    assert fx(s) == []
    check(s, "p", "starting", "stopped", pid=pid, reason="normal")
    assert deadline(s) == 60.0

    s.ready("p")
    assert fx(s) == ["p started", "p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert deadline(s) == 10.0

    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"))


def test_engine_process_start_interruptible_stop_sends_sigint_at_once():
    # start-interruptible: a stop during the readiness wait interrupts it with SIGINT.
    s = Sim(proc("p", ready_notification=READY_FD,
                 options=frozenset({"start-interruptible"})))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)
    s.stop("p")
    assert fx(s) == ["signal p SIGINT", "p stopping"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert deadline(s) == 10.0

    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGINT"))


def test_engine_process_shutdown_interrupts_a_start_awaiting_readiness():
    # zeroinit (dinit issue #225): a shutdown interrupts a start instead of waiting for it.
    s = Sim(proc("p", ready_notification=READY_FD))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)

    s.shutdown()
    assert fx(s) == ["signal p SIGINT", "p stopping"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")

    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGINT"))
    assert s.start("p").ok is False  # and nothing starts again


# ---------------------------------------------------------------------------------------------
# Smooth recovery (dinit: proc_smooth_recovery1..6a)
# ---------------------------------------------------------------------------------------------


def test_engine_process_smooth_recovery_relaunches_only_the_process_after_the_delay():
    # Smooth recovery: the service stays started, its dependent untouched, the process relaunched.
    s = Sim(proc("p", smooth_recovery=True, restart_delay=0.5), internal("d", depends_on=("p",)))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    first = s.execs("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=first)
    check(s, "d", "started", "started", explicit=True)

    s.tick(0.1)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=first)
    s.exits("p", code=0)
    assert fx(s) == ["log p warning"]
    assert logs(s) == [("p", "warning",
                        "process exited with code 0; relaunching it (smooth recovery)")]
    check(s, "p", "started", "started", exit=code(0), restarts=1)
    check(s, "d", "started", "started", explicit=True)
    assert deadline(s) == 0.5  # restart-delay counted from the last start, at 0

    s.tick(0.3)
    check(s, "p", "started", "started", exit=code(0), restarts=1)
    assert fx(s) == []
    assert not s.pending_spawn("p")
    s.advance_to_deadline()
    assert fx(s) == ["spawn p"]
    check(s, "p", "started", "started", exit=code(0), restarts=1)

    second = s.execs("p")
    assert fx(s) == []  # no state change: nobody is told anything
    check(s, "p", "started", "started", pid=second, exit=code(0), restarts=1)
    check(s, "d", "started", "started", explicit=True)
    assert deadline(s) is None


def test_engine_process_smooth_recovery_without_delay_relaunches_at_once():
    # Smooth recovery with restart-delay 0 relaunches in the same step.
    s = Sim(proc("p", smooth_recovery=True, restart_delay=0))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    first = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=first, explicit=True)
    assert deadline(s) is None

    s.exits("p", signal="SIGSEGV")
    assert fx(s) == ["log p warning", "spawn p"]
    check(s, "p", "started", "started", exit=sig("SIGSEGV"), restarts=1, explicit=True)
    assert deadline(s) == 60.0  # start-timeout armed for the relaunch until it executes

    second = s.execs("p")
    assert second != first
    assert fx(s) == []
    check(s, "p", "started", "started", pid=second, exit=sig("SIGSEGV"), restarts=1,
          explicit=True)
    assert deadline(s) is None


def test_engine_process_smooth_recovery_after_a_long_run_relaunches_at_once():
    # restart-delay is counted from the last start: after a long run no wait remains.
    s = Sim(proc("p", smooth_recovery=True, restart_delay=5))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.tick(60)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", code=4)
    assert fx(s) == ["log p warning", "spawn p"]
    check(s, "p", "started", "started", exit=code(4), restarts=1, explicit=True)
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, exit=code(4), restarts=1, explicit=True)


def test_engine_process_smooth_recovery_exec_failure_is_an_unrecoverable_stop():
    # If the smooth-recovery relaunch cannot execute, the service stops; dependents dep-failed.
    s = Sim(proc("p", smooth_recovery=True, restart_delay=0),
            internal("d", depends_on=("p",), restart=YES))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=1000)
    check(s, "d", "started", "started", explicit=True)
    s.exits("p", code=0)
    assert fx(s) == ["log p warning", "spawn p"]
    check(s, "p", "started", "started", exit=code(0), restarts=1)
    check(s, "d", "started", "started", explicit=True)

    s.exec_fails("p")
    assert fx(s) == ["p failed", "d failed", "p stopping", "d stopping", "d stopped",
                     "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(0),
          restarts=1)
    # restart=yes does not bring it back: its dependency stopped for good.
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed")
    assert deadline(s) is None


def test_engine_process_smooth_recovery_stop_during_the_delay_cancels_it_without_a_signal():
    # A stop while the smooth-recovery relaunch waits for its delay: no spawn, no signal.
    s = Sim(proc("p", smooth_recovery=True, restart_delay=2))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", code=0)
    assert fx(s) == ["log p warning"]
    check(s, "p", "started", "started", exit=code(0), restarts=1, explicit=True)
    s.tick(1)
    assert fx(s) == []
    check(s, "p", "started", "started", exit=code(0), restarts=1, explicit=True)

    s.stop("p")
    assert fx(s) == ["p stopping", "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(0), restarts=1)
    assert deadline(s) is None
    s.tick(5)
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(0), restarts=1)
    assert fx(s) == []


def test_engine_process_smooth_recovery_stop_before_exec_signals_once_it_executes():
    # A stop while the relaunch's exec is pending sends nothing until the exec is reported.
    s = Sim(proc("p", smooth_recovery=True, restart_delay=0.001))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", code=0)
    assert fx(s) == ["log p warning"]
    check(s, "p", "started", "started", exit=code(0), restarts=1, explicit=True)
    s.tick(0.001)
    assert fx(s) == ["spawn p"]
    check(s, "p", "started", "started", exit=code(0), restarts=1, explicit=True)

    s.stop("p")
    assert fx(s) == ["p stopping"]  # no signal yet
    check(s, "p", "stopping", "stopped", reason="normal", exit=code(0), restarts=1)

    pid = s.execs("p")
    assert fx(s) == ["signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal", exit=code(0), restarts=1)
    assert deadline(s) == 10.001

    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"), restarts=1)
    assert deadline(s) is None


def test_engine_process_smooth_recovery_with_readiness_waits_for_the_new_process_to_be_ready():
    # With readiness, the relaunched process's readiness is awaited under start-timeout.
    s = Sim(proc("p", smooth_recovery=True, restart_delay=0.001, start_timeout=1,
                 ready_notification=READY_FD), internal("d", depends_on=("p",)))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=1000)
    s.ready("p")
    check(s, "p", "started", "started", pid=1000)
    check(s, "d", "started", "started", explicit=True)
    assert fx(s) == ["p started", "d started"]
    s.exits("p", code=0)
    assert fx(s) == ["log p warning"]
    check(s, "p", "started", "started", exit=code(0), restarts=1)
    s.tick(0.001)
    check(s, "p", "started", "started", exit=code(0), restarts=1)
    assert fx(s) == ["spawn p"]
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, exit=code(0), restarts=1)
    assert deadline(s) == 1.001  # the start timer runs until it is ready

    s.tick(0.5)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, exit=code(0), restarts=1)
    s.ready("p")
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, exit=code(0), restarts=1)
    check(s, "d", "started", "started", explicit=True)
    assert deadline(s) is None


def test_engine_process_smooth_recovery_relaunch_dying_before_ready_is_unrecoverable():
    # zeroinit: a relaunched process that dies before it is ready stops the service for good.
    s = Sim(proc("p", smooth_recovery=True, restart_delay=0.001, start_timeout=1,
                 ready_notification=READY_FD), internal("d", depends_on=("p",)))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=1000)
    s.ready("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=1000)
    check(s, "d", "started", "started", explicit=True)
    s.exits("p", code=0)
    assert fx(s) == ["log p warning"]
    check(s, "p", "started", "started", exit=code(0), restarts=1)
    s.tick(0.001)
    assert fx(s) == ["spawn p"]
    check(s, "p", "started", "started", exit=code(0), restarts=1)
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, exit=code(0), restarts=1)

    s.exits("p", code=1)
    assert fx(s) == ["p failed", "d failed", "p stopping", "d stopping", "d stopped",
                     "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(1),
          restarts=1)
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed")
    assert deadline(s) is None


def test_engine_process_smooth_recovery_relaunch_dying_before_ready_without_start_timeout():
    # zeroinit: a relaunch dying before ready is an unrecoverable stop, with start-timeout 0 too.
    s = Sim(proc("p", smooth_recovery=True, restart_delay=0, start_timeout=0,
                 ready_notification=READY_FD), internal("d", depends_on=("p",)))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    first = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=first)
    s.ready("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=first)
    check(s, "d", "started", "started", explicit=True)
    s.tick(5)
    assert fx(s) == []
    s.exits("p", code=0)
    assert fx(s) == ["log p warning", "spawn p"]
    check(s, "p", "started", "started", exit=code(0), restarts=1)
    assert deadline(s) is None  # no start timer is armed
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, exit=code(0), restarts=1)

    s.exits("p", code=1)  # before it said ready
    assert fx(s) == ["p failed", "d failed", "p stopping", "d stopping", "d stopped",
                     "p stopped", "retire p", "idle"]
    assert [(n.service, n.reason) for n in notes(s) if n.event == "failed"] == [
        ("p", "process exited with code 1"),
        ("d", "dependency p stopped: process exited with code 1")]
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(1),
          restarts=1)
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed")
    assert deadline(s) is None


def test_engine_process_smooth_recovery_past_the_restart_limit_is_unrecoverable():
    # The restart limit applies to smooth recovery: past it the service and dependents stop.
    s = Sim(proc("p", smooth_recovery=True, restart_delay=0, restart_limit_count=1),
            internal("d", depends_on=("p",)))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=1000)
    check(s, "d", "started", "started", explicit=True)
    s.tick(1)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000)
    s.exits("p", code=1)
    check(s, "p", "started", "started", exit=code(1), restarts=1)
    assert fx(s) == ["log p warning", "spawn p"]
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, exit=code(1), restarts=1)

    s.tick(1)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, exit=code(1), restarts=1)
    s.exits("p", code=1)
    assert fx(s) == ["log p error", "p failed", "d failed", "p stopping", "d stopping",
                     "d stopped", "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(1),
          restarts=1)
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed")
    assert deadline(s) is None


def test_engine_process_smooth_recovery_applies_even_with_restart_no():
    # As in dinit, smooth-recovery relaunches the process whatever the `restart` setting.
    s = Sim(proc("p", smooth_recovery=True, restart=NO, restart_delay=0),
            internal("d", depends_on=("p",)))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    first = s.execs("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=first)
    s.tick(5)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=first)
    s.exits("p", code=1)
    assert fx(s) == ["log p warning", "spawn p"]
    check(s, "p", "started", "started", exit=code(1), restarts=1)
    check(s, "d", "started", "started", explicit=True)
    second = s.execs("p")
    assert fx(s) == []
    check(s, "p", "started", "started", pid=second, exit=code(1), restarts=1)


def test_engine_process_stop_by_command_during_rollback_cancels_the_restart():
    # A stop while a crashed process waits for its dependents to go down: nothing comes back.
    s = Sim(proc("p", restart=YES), proc("a", depends_on=("p",), restart=YES))
    s.start("a")
    assert fx(s) == ["a starting", "p starting", "spawn p"]
    check(s, "a", "starting", "started", explicit=True)
    p1 = s.execs("p")
    assert fx(s) == ["p started", "spawn a"]
    check(s, "p", "started", "started", pid=p1)
    a1 = s.execs("a")
    assert fx(s) == ["a started"]
    check(s, "a", "started", "started", pid=a1, explicit=True)
    wait(s, 10)

    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "a stopping", "signal a SIGTERM"]
    check(s, "p", "stopping", "started", reason="terminated", exit=code(1), restarts=1)
    check(s, "a", "stopping", "started", pid=a1, restarts=1, explicit=True)

    assert s.stop("p", force=True).ok
    assert fx(s) == []  # both already stopping; only their targets change
    check(s, "p", "stopping", "stopped", reason="normal", exit=code(1), restarts=1)
    check(s, "a", "stopping", "stopped", pid=a1, reason="normal", restarts=1)

    s.exits("a")
    assert fx(s) == ["a stopped", "retire a", "p stopped", "retire p", "idle"]
    check(s, "a", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"), restarts=1)
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(1), restarts=1)
    assert deadline(s) is None
