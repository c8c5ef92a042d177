# The one timer per service: start-timeout, stop-timeout and restart-delay, on a fake clock.
"""Scenario tests for the timers of process services (dinit's process_timer): when each is
armed, what it counts from, what happens when it fires, and what 0 means; plus the choice of
term-signal, `signal-process-only`, and a process service's stop-command.

Every step checks the effects in order, the status fields, and `next_deadline()`.
"""

from __future__ import annotations

from actors.engine import Role
from tests.engine_checks import check, code, deadline, fx, logs, notes, sig
from tests.engine_sim import NO, READY_FD, YES, Sim, internal, proc

PROCESS_ONLY = frozenset({"signal-process-only"})

# ---------------------------------------------------------------------------------------------
# start-timeout
# ---------------------------------------------------------------------------------------------


def test_engine_timers_start_timeout_interrupts_with_sigint_then_kills_after_stop_timeout():
    # Not ready within start-timeout: SIGINT (timed-out), then a Kill after stop-timeout.
    s = Sim(proc("p", start_timeout=5, stop_timeout=3, ready_notification=READY_FD))
    s.start("p")
    check(s, "p", "starting", "started", explicit=True)
    assert fx(s) == ["p starting", "spawn p"]
    assert deadline(s) == 5.0
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)

    s.tick(4.9)
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)

    s.tick(0.1)
    assert fx(s) == ["log p warning", "signal p SIGINT", "p stopping", "p failed"]
    assert logs(s) == [("p", "warning", "did not start within 5 s; interrupting it")]
    check(s, "p", "stopping", "stopped", pid=pid, failed=True, reason="timed-out")
    assert deadline(s) == 8.0  # now the stop-timeout

    s.advance_to_deadline()
    assert fx(s) == ["log p warning", "kill p"]
    assert logs(s) == [("p", "warning", "did not stop within 3 s; killing it")]
    check(s, "p", "stopping", "stopped", pid=pid, failed=True, reason="timed-out")
    assert deadline(s) is None

    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="timed-out", exit=sig("SIGKILL"))


def test_engine_timers_start_timeout_process_that_obeys_sigint_stops_without_kill():
    # A timed-out process that exits on SIGINT is stopped (timed-out) before any Kill.
    s = Sim(proc("p", start_timeout=2, ready_notification=READY_FD))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)
    s.tick(2)
    assert fx(s) == ["log p warning", "signal p SIGINT", "p stopping", "p failed"]
    check(s, "p", "stopping", "stopped", pid=pid, failed=True, reason="timed-out")

    s.tick(1)
    assert fx(s) == []
    check(s, "p", "stopping", "stopped", pid=pid, failed=True, reason="timed-out")
    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="timed-out", exit=sig("SIGINT"))
    assert deadline(s) is None
    assert s.kills(s.history) == []


def test_engine_timers_start_timeout_counts_only_once_dependencies_are_up():
    # start-timeout is armed when the process is launched, after its dependencies started.
    s = Sim(proc("a"), proc("p", depends_on=("a",), start_timeout=5, ready_notification=READY_FD))
    s.start("p")
    assert fx(s) == ["p starting", "a starting", "spawn a"]
    check(s, "p", "starting", "started", explicit=True)
    assert deadline(s) == 60.0  # only a's own start-timeout

    s.tick(4)
    assert fx(s) == []
    check(s, "a", "starting", "started")
    a = s.execs("a")
    assert fx(s) == ["a started", "spawn p"]
    check(s, "a", "started", "started", pid=a)
    assert deadline(s) == 9.0  # 4 + 5: counted from p's launch

    s.tick(4)
    assert fx(s) == []
    check(s, "a", "started", "started", pid=a)
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)
    s.tick(0.9)
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)

    s.tick(0.1)
    assert fx(s) == ["log p warning", "signal p SIGINT", "p stopping", "p failed", "a stopping"]
    check(s, "p", "stopping", "stopped", pid=pid, failed=True, reason="timed-out")
    check(s, "a", "stopping", "stopped", pid=a, reason="normal")  # nothing needs it now
    assert deadline(s) == 19.0

    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "signal a SIGTERM"]
    check(s, "p", "stopped", "stopped", failed=True, reason="timed-out", exit=sig("SIGINT"))
    s.exits("a")
    assert fx(s) == ["a stopped", "retire a", "idle"]
    check(s, "a", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"))


def test_engine_timers_start_timeout_zero_means_no_limit():
    # start-timeout = 0: a process may take any time to become ready.
    s = Sim(proc("p", start_timeout=0, ready_notification=READY_FD))
    s.start("p")
    check(s, "p", "starting", "started", explicit=True)
    assert fx(s) == ["p starting", "spawn p"]
    assert deadline(s) is None
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)
    assert deadline(s) is None

    s.tick(100_000)
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)

    s.ready("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)


def test_engine_timers_start_timeout_on_relaunch_while_exec_is_pending():
    # dinit term_restart4: the relaunch after a crash times out before its exec is reported.
    s = Sim(proc("p", restart=YES, start_timeout=5))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", code=0)
    assert fx(s) == ["p stopping", "p stopped", "p starting"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(0), restarts=1,
          explicit=True)
    assert deadline(s) == 0.2  # restart-delay

    s.advance_to_deadline()
    check(s, "p", "starting", "started", reason="terminated", exit=code(0), restarts=1,
          explicit=True)
    assert fx(s) == ["spawn p"]
    assert deadline(s) == 5.2  # the start timer replaced the restart timer

    s.advance_to_deadline()
    assert fx(s) == ["log p warning", "signal p SIGINT", "p stopping", "p failed"]
    check(s, "p", "stopping", "stopped", failed=True, reason="timed-out", exit=code(0),
          restarts=1)
    assert deadline(s) == 15.2

    pid = s.execs("p")  # the exec finally succeeds: it is told to stop
    assert fx(s) == ["signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=pid, failed=True, reason="timed-out",
          exit=code(0), restarts=1)

    s.exits("p", code=0)
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="timed-out", exit=code(0),
          restarts=1)
    assert deadline(s) is None


def test_engine_timers_start_timeout_fails_hard_dependent_not_waits_for_one():
    # A timed-out start fails a hard dependent; a waits-for dependent goes on and starts.
    s = Sim(proc("p", start_timeout=1, ready_notification=READY_FD),
            internal("hard", depends_on=("p",)), internal("soft", waits_for=("p",)))
    s.start("hard")
    assert fx(s) == ["hard starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "hard", "starting", "started", explicit=True)
    s.start("soft")
    assert fx(s) == ["soft starting"]
    check(s, "soft", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "hard", "starting", "started", explicit=True)
    check(s, "soft", "starting", "started", explicit=True)

    s.tick(1)
    assert fx(s) == ["log p warning", "signal p SIGINT", "p stopping", "p failed",
                     "hard failed", "hard stopped", "soft started"]
    check(s, "p", "stopping", "stopped", pid=pid, failed=True, reason="timed-out")
    check(s, "hard", "stopped", "stopped", failed=True, reason="dep-failed")
    check(s, "soft", "started", "started", explicit=True)

    s.exits("p")
    assert fx(s) == ["p stopped", "retire p"]
    check(s, "p", "stopped", "stopped", failed=True, reason="timed-out", exit=sig("SIGINT"))


def test_engine_timers_start_timeout_is_cancelled_by_the_exec_report():
    # Without readiness the start timer ends when the exec is reported: no later timeout fires.
    s = Sim(proc("p", start_timeout=3))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    assert deadline(s) == 3.0
    s.tick(1)
    assert fx(s) == []
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    check(s, "p", "started", "started", pid=pid, explicit=True)
    assert fx(s) == ["p started"]
    assert deadline(s) is None
    s.tick(10)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, explicit=True)


def test_engine_timers_start_timeout_sigint_respects_signal_process_only():
    # With signal-process-only, the SIGINT of a timed-out start goes to the process alone.
    s = Sim(proc("p", start_timeout=1, ready_notification=READY_FD, options=PROCESS_ONLY))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, explicit=True)
    s.tick(1)
    assert fx(s) == ["log p warning", "signal p SIGINT only", "p stopping", "p failed"]
    check(s, "p", "stopping", "stopped", pid=pid, failed=True, reason="timed-out")
    s.advance_to_deadline()
    check(s, "p", "stopping", "stopped", pid=pid, failed=True, reason="timed-out")
    assert fx(s) == ["log p warning", "kill p"]
    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="timed-out", exit=sig("SIGKILL"))


def test_engine_timers_start_timeout_of_a_smooth_recovery_relaunch_stops_dependents_first():
    # dinit proc_smooth_recovery6: a relaunch not ready within start-timeout is an unrecoverable
    # stop (timed-out): its hard dependent stops first (dep-failed), then it gets its term-signal.
    s = Sim(proc("p", smooth_recovery=True, restart_delay=0.001, start_timeout=1,
                 ready_notification=READY_FD), internal("d", depends_on=("p",)))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    assert deadline(s) == 1.0
    first = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=first)
    s.ready("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=first)
    check(s, "d", "started", "started", explicit=True)
    assert deadline(s) is None
    s.exits("p", code=0)
    assert fx(s) == ["log p warning"]
    check(s, "p", "started", "started", exit=code(0), restarts=1)
    assert deadline(s) == 0.001  # restart-delay
    s.tick(0.001)
    assert fx(s) == ["spawn p"]
    check(s, "p", "started", "started", exit=code(0), restarts=1)
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, exit=code(0), restarts=1)
    assert deadline(s) == 1.001

    s.tick(1)  # the relaunch is still not ready: its start timed out
    assert fx(s) == ["log p warning", "p failed", "d failed", "p stopping", "d stopping",
                     "d stopped",
                     "signal p SIGTERM"]  # no SIGINT: d was down first
    assert [(n.service, n.reason) for n in notes(s) if n.event == "failed"] == [
        ("p", "relaunched process not ready within 1 s"),
        ("d", "dependency p stopped: relaunched process not ready within 1 s")]
    check(s, "p", "stopping", "stopped", pid=pid, failed=True, reason="timed-out",
          exit=code(0), restarts=1)
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed")
    assert deadline(s) == 11.001  # stop-timeout, then a Kill

    s.exits("p")  # it obeys the SIGTERM
    assert fx(s) == ["p stopped", "retire p", "idle"]  # no second smooth recovery
    check(s, "p", "stopped", "stopped", failed=True, reason="timed-out", exit=sig("SIGTERM"),
          restarts=1)
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed")
    assert deadline(s) is None


# ---------------------------------------------------------------------------------------------
# stop-timeout
# ---------------------------------------------------------------------------------------------


def test_engine_timers_stop_timeout_sends_kill_and_waits_for_the_death():
    # dinit proc_stop_timeout: SIGTERM, then a Kill after stop-timeout; stopped only when it dies.
    s = Sim(proc("p", stop_timeout=10))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert deadline(s) == 10.0

    s.tick(9.99)
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert fx(s) == []
    s.tick(0.01)
    assert fx(s) == ["log p warning", "kill p"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert deadline(s) is None

    s.tick(30)  # still not dead: nothing more to do but wait
    assert fx(s) == []
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")

    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGKILL"))


def test_engine_timers_stop_timeout_counts_only_once_dependents_are_down():
    # A dependency's stop-timeout starts when its last hard dependent has stopped.
    s = Sim(proc("p", stop_timeout=10), proc("a", depends_on=("p",), stop_timeout=10))
    s.start("a")
    assert fx(s) == ["a starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "a", "starting", "started", explicit=True)
    p = s.execs("p")
    assert fx(s) == ["p started", "spawn a"]
    check(s, "p", "started", "started", pid=p)
    a = s.execs("a")
    assert fx(s) == ["a started"]
    check(s, "a", "started", "started", pid=a, explicit=True)
    refused = s.stop("p")
    assert not refused.ok and refused.dependents == ("a",)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=p)

    s.stop("p", force=True)
    assert fx(s) == ["a stopping", "p stopping", "signal a SIGTERM"]
    check(s, "a", "stopping", "stopped", pid=a, reason="normal")
    check(s, "p", "stopping", "stopped", pid=p, reason="normal")
    assert deadline(s) == 10.0  # a's only

    s.tick(7)
    assert fx(s) == []
    check(s, "p", "stopping", "stopped", pid=p, reason="normal")
    s.exits("a")
    assert fx(s) == ["a stopped", "retire a", "signal p SIGTERM"]
    check(s, "a", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"))
    check(s, "p", "stopping", "stopped", pid=p, reason="normal")
    assert deadline(s) == 17.0

    s.tick(9.9)
    check(s, "p", "stopping", "stopped", pid=p, reason="normal")
    assert fx(s) == []
    s.tick(0.1)
    check(s, "p", "stopping", "stopped", pid=p, reason="normal")
    assert fx(s) == ["log p warning", "kill p"]
    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGKILL"))


def test_engine_timers_stop_timeout_zero_means_no_limit():
    # stop-timeout = 0: no Kill ever; the service waits for its process to end.
    s = Sim(proc("p", stop_timeout=0))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    s.stop("p")
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert fx(s) == ["p stopping", "signal p SIGTERM"]
    assert deadline(s) is None
    s.tick(100_000)
    assert fx(s) == []
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.exits("p", code=0)
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(0))


def test_engine_timers_stop_timeout_applies_to_the_rollback_of_a_dependent():
    # A hard dependent rolled back after its dependency crashed is killed after its stop-timeout.
    s = Sim(proc("p", restart=YES), proc("a", depends_on=("p",), restart=YES, stop_timeout=4))
    s.start("a")
    assert fx(s) == ["a starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "a", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started", "spawn a"]
    check(s, "p", "started", "started", pid=1000)
    a = s.execs("a")
    assert fx(s) == ["a started"]
    check(s, "a", "started", "started", pid=a, explicit=True)
    s.tick(10)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000)
    s.exits("p", code=1)
    check(s, "p", "stopping", "started", reason="terminated", exit=code(1), restarts=1)
    check(s, "a", "stopping", "started", pid=a, restarts=1, explicit=True)
    assert fx(s) == ["p stopping", "a stopping", "signal a SIGTERM"]
    assert deadline(s) == 14.0
    s.advance_to_deadline()
    assert fx(s) == ["log a warning", "kill a"]
    check(s, "a", "stopping", "started", pid=a, restarts=1, explicit=True)
    s.exits("a")
    assert fx(s) == ["a stopped", "a starting", "p stopped", "p starting", "spawn p"]
    check(s, "a", "starting", "started", exit=sig("SIGKILL"), restarts=1, explicit=True)
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1)


# ---------------------------------------------------------------------------------------------
# term-signal and signal-process-only
# ---------------------------------------------------------------------------------------------


def test_engine_timers_term_signal_is_the_one_sent_to_stop():
    # term-signal chooses the stop signal; the exit it causes is reported by that name.
    s = Sim(proc("p", term_signal="SIGHUP"), proc("q", term_signal="SIGQUIT"))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.start("q")
    assert fx(s) == ["q starting", "spawn q"]
    check(s, "q", "starting", "started", explicit=True)
    p = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=p, explicit=True)
    q = s.execs("q")
    assert fx(s) == ["q started"]
    check(s, "q", "started", "started", pid=q, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGHUP"]
    check(s, "p", "stopping", "stopped", pid=p, reason="normal")
    s.stop("q")
    assert fx(s) == ["q stopping", "signal q SIGQUIT"]
    check(s, "q", "stopping", "stopped", pid=q, reason="normal")
    s.exits("p")
    assert fx(s) == ["p stopped", "retire p"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGHUP"))
    s.exits("q")
    assert fx(s) == ["q stopped", "retire q", "idle"]
    check(s, "q", "stopped", "stopped", reason="normal", exit=sig("SIGQUIT"))


def test_engine_timers_term_signal_none_sends_nothing_then_kills():
    # term-signal = none: a stop sends no signal at all, only a Kill after stop-timeout.
    s = Sim(proc("p", term_signal=None, stop_timeout=3))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert deadline(s) == 3.0

    s.advance_to_deadline()
    assert fx(s) == ["log p warning", "kill p"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")

    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGKILL"))


def test_engine_timers_term_signal_none_without_stop_timeout_waits_for_the_process():
    # term-signal = none and stop-timeout = 0: nothing is sent; the process must end by itself.
    s = Sim(proc("p", term_signal=None, stop_timeout=0))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    s.stop("p")
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert fx(s) == ["p stopping"]
    assert deadline(s) is None
    s.tick(1000)
    assert fx(s) == []
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.exits("p", code=0)
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(0))


def test_engine_timers_signal_process_only_signals_without_the_group():
    # signal-process-only: the term-signal goes to the process, not its group (group=False).
    s = Sim(proc("p", options=PROCESS_ONLY))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "signal p SIGTERM only"]
    assert [e.group for e in s.last if hasattr(e, "group")] == [False]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"))


# ---------------------------------------------------------------------------------------------
# restart-delay
# ---------------------------------------------------------------------------------------------


def test_engine_timers_restart_delay_is_counted_from_the_last_start():
    # A crash 0.15 s after the start waits only the 0.05 s left of a 0.2 s restart-delay.
    s = Sim(proc("p", restart=YES))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.tick(0.15)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "p stopped", "p starting"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    assert deadline(s) == 0.2

    s.advance_to_deadline()
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    assert fx(s) == ["spawn p"]
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(1), restarts=1,
          explicit=True)

    # The relaunch at 0.2 is now the last start: a crash at 0.3 waits until 0.4.
    s.tick(0.1)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "p stopped", "p starting"]
    assert abs(deadline(s) - 0.4) < 1e-9
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=2,
          explicit=True)


def test_engine_timers_restart_after_a_long_run_is_immediate():
    # A process that ran longer than restart-delay is relaunched in the same step as its exit.
    s = Sim(proc("p", restart=YES, restart_delay=5))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.tick(5)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", signal="SIGSEGV")
    assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=sig("SIGSEGV"), restarts=1,
          explicit=True)
    assert deadline(s) == 65.0  # the start timer, not a restart timer


def test_engine_timers_restart_delay_zero_relaunches_at_once():
    # restart-delay = 0: a relaunch never waits.
    s = Sim(proc("p", restart=YES, restart_delay=0))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "p stopped", "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1,
          explicit=True)


def test_engine_timers_restart_delay_for_a_long_custom_delay():
    # A custom restart-delay of 3 s holds a quick crash back for 3 s after the start.
    s = Sim(proc("p", restart=YES, restart_delay=3))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.tick(1)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", code=1)
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    assert fx(s) == ["p stopping", "p stopped", "p starting"]
    assert deadline(s) == 3.0
    s.tick(1.5)
    assert fx(s) == []
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    s.tick(0.5)
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    assert fx(s) == ["spawn p"]
    assert deadline(s) == 63.0


def test_engine_timers_restart_timer_of_a_dependency_does_not_touch_its_dependent():
    # While a crashed dependency waits for its restart delay, its rolled-back dependent just waits.
    s = Sim(proc("p", restart=YES, restart_delay=1), internal("d", depends_on=("p",)))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=1000)
    check(s, "d", "started", "started", explicit=True)
    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "d stopping", "d stopped", "d starting", "p stopped",
                     "p starting"]
    check(s, "d", "starting", "started", restarts=1, explicit=True)
    assert deadline(s) == 1.0
    s.tick(1)
    assert fx(s) == ["spawn p"]
    check(s, "d", "starting", "started", restarts=1, explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(1), restarts=1)
    check(s, "d", "started", "started", restarts=1, explicit=True)


# ---------------------------------------------------------------------------------------------
# stop-command of a process service
# ---------------------------------------------------------------------------------------------


def test_engine_timers_stop_command_replaces_the_term_signal():
    # A process service with stop-command runs it to stop (Spawn role stop), sending no signal.
    s = Sim(proc("p", stop_command=("/bin/p-stop",)))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "spawn-stop p"]
    assert s.signals(s.last) == []
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert deadline(s) == 10.0

    s.execs("p", Role.STOP)
    assert fx(s) == []
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")  # pid stays the daemon's

    s.exits("p", code=0, role=Role.STOP)
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert fx(s) == []  # the daemon is still there
    s.exits("p", code=0)
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(0))
    assert deadline(s) is None


def test_engine_timers_stop_command_non_zero_exit_is_only_a_warning():
    # A stop-command that exits non-zero is logged as a warning; the stop goes on.
    s = Sim(proc("p", stop_command=("/bin/p-stop",)))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "spawn-stop p"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.execs("p", Role.STOP)
    assert fx(s) == []
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.exits("p", code=2, role=Role.STOP)
    assert fx(s) == ["log p warning"]
    assert logs(s) == [("p", "warning", "stop command exited with code 2")]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.exits("p", code=0)
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(0))


def test_engine_timers_stop_command_still_running_when_the_daemon_exits():
    # The service is stopped only once both the daemon and its stop-command have ended.
    s = Sim(proc("p", stop_command=("/bin/p-stop",)))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "spawn-stop p"]
    check(s, "p", "stopping", "stopped", pid=1000, reason="normal")
    s.execs("p", Role.STOP)
    assert fx(s) == []
    check(s, "p", "stopping", "stopped", pid=1000, reason="normal")
    s.exits("p", code=0)
    assert fx(s) == []
    check(s, "p", "stopping", "stopped", reason="normal", exit=code(0))
    s.exits("p", code=0, role=Role.STOP)
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(0))


def test_engine_timers_stop_command_that_cannot_run_falls_back_to_the_term_signal():
    # If the stop-command cannot be executed, the term-signal is sent instead.
    s = Sim(proc("p", stop_command=("/bin/p-stop",), term_signal="SIGHUP", options=PROCESS_ONLY))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "spawn-stop p"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.exec_fails("p", role=Role.STOP)
    assert fx(s) == ["log p error", "signal p SIGHUP only"]
    assert logs(s) == [("p", "error", "could not run stop command: No such file or directory")]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert deadline(s) == 10.0
    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGHUP"))


def test_engine_timers_stop_command_that_cannot_run_with_no_term_signal_uses_sigkill():
    # With term-signal = none, a stop-command that cannot run falls back to SIGKILL.
    s = Sim(proc("p", stop_command=("/bin/p-stop",), term_signal=None))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "spawn-stop p"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.exec_fails("p", role=Role.STOP)
    assert fx(s) == ["log p error", "signal p SIGKILL"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGKILL"))


def test_engine_timers_stop_command_and_daemon_killed_together_at_stop_timeout():
    # If neither the stop-command nor the daemon ends within stop-timeout, one Kill covers both.
    s = Sim(proc("p", stop_command=("/bin/p-stop",), stop_timeout=2))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    pid = s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=pid, explicit=True)
    s.stop("p")
    assert fx(s) == ["p stopping", "spawn-stop p"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.execs("p", Role.STOP)
    assert fx(s) == []
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.tick(2)
    assert fx(s) == ["log p warning", "kill p"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.exits("p", role=Role.STOP)
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    assert fx(s) == ["log p warning"]
    assert logs(s) == [("p", "warning", "stop command killed by SIGKILL")]
    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGKILL"))


def test_engine_timers_no_stop_command_when_a_crashed_process_is_already_gone():
    # A process that died by itself needs no stop-command when it is rolled back.
    s = Sim(proc("p", restart=NO, stop_command=("/bin/p-stop",)))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.tick(3)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000, explicit=True)
    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(1))
    assert not s.pending_spawn("p", Role.STOP)


def test_engine_timers_one_timer_at_a_time_per_service():
    # Each service has at most one deadline: restart, then start, then stop replace each other.
    s = Sim(proc("p", restart=YES, restart_delay=1, start_timeout=4, stop_timeout=2,
                 ready_notification=READY_FD))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    assert deadline(s) == 4.0  # start
    s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=1000, explicit=True)
    s.ready("p")
    assert fx(s) == ["p started"]
    check(s, "p", "started", "started", pid=1000, explicit=True)
    assert deadline(s) is None
    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "p stopped", "p starting"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    assert deadline(s) == 1.0  # restart
    s.advance_to_deadline()
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    assert fx(s) == ["spawn p"]
    assert deadline(s) == 5.0  # start of the relaunch
    pid = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=pid, reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    s.stop("p")  # not start-interruptible: waits to be ready
    assert fx(s) == []
    assert deadline(s) == 5.0
    check(s, "p", "starting", "stopped", pid=pid, reason="normal", exit=code(1), restarts=1)
    s.ready("p")
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal", exit=code(1), restarts=1)
    assert fx(s) == ["p started", "p stopping", "signal p SIGTERM"]
    assert deadline(s) == 3.0  # stop
    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    assert deadline(s) is None
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"), restarts=1)


def test_engine_timers_start_timeout_of_a_relaunch_fails_the_waiting_dependent():
    # The relaunch after a crash times out before ready: the dependent waiting for it fails.
    s = Sim(proc("p", restart=YES, start_timeout=2, ready_notification=READY_FD),
            internal("d", depends_on=("p",), restart=YES))
    s.start("d")
    assert fx(s) == ["d starting", "p starting", "spawn p"]
    check(s, "d", "starting", "started", explicit=True)
    p1 = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=p1)
    s.ready("p")
    assert fx(s) == ["p started", "d started"]
    check(s, "d", "started", "started", explicit=True)
    s.tick(10)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=p1)

    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "d stopping", "d stopped", "d starting", "p stopped",
                     "p starting", "spawn p"]
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1)
    check(s, "d", "starting", "started", restarts=1, explicit=True)
    assert deadline(s) == 12.0

    p2 = s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=p2, reason="terminated", exit=code(1), restarts=1)
    s.tick(2)
    assert fx(s) == ["log p warning", "signal p SIGINT", "p stopping", "p failed", "d failed",
                     "d stopped"]
    check(s, "p", "stopping", "stopped", pid=p2, failed=True, reason="timed-out", exit=code(1),
          restarts=1)
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed", restarts=1)
    assert deadline(s) == 22.0

    s.exits("p")
    assert fx(s) == ["p stopped", "retire p", "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="timed-out", exit=sig("SIGINT"),
          restarts=1)
    assert deadline(s) is None
