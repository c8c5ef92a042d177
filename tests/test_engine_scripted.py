# Scripted services: a start command run to completion, a stop command, skips and interrupts.
"""Scenario tests for `type = scripted` (dinit's scripted_service): the start command's exit
decides started or failed; `stop-command` runs to stop; `skippable` and `start-interruptible`;
start and stop timeouts; and the restart policy, where `on-failure` means `no` (dinit #564).

In `Sim`, a scripted service's start command is role START and its stop command role STOP;
`status()["pid"]` shows whichever of the two is running.
"""

from __future__ import annotations

from actors.engine import Role
from tests.engine_checks import check, code, deadline, fx, logs, notes, sig
from tests.engine_sim import NO, ON_FAILURE, YES, Sim, internal, proc, scripted

STOP = Role.STOP


def skipped(s: Sim, name: str) -> bool:
    """Whether the last start of `name` was skipped (not a status field; read from the record)."""
    return s.engine._g.records[name].start_skipped


# ---------------------------------------------------------------------------------------------
# Starting and stopping
# ---------------------------------------------------------------------------------------------


def test_engine_scripted_started_when_the_command_exits_zero():
    # A scripted service is starting while its command runs, started when it exits 0.
    s = Sim(scripted("s"))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    assert deadline(s) == 60.0

    pid = s.execs("s")
    assert fx(s) == []  # executing is not enough
    check(s, "s", "starting", "started", pid=pid, explicit=True)

    s.tick(2)
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=pid, explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", exit=code(0), explicit=True)
    assert deadline(s) is None

    s.stop("s")  # no stop-command: stopped at once
    assert fx(s) == ["s stopping", "s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", reason="normal", exit=code(0))
    assert deadline(s) is None


def test_engine_scripted_stop_command_runs_to_stop():
    # With a stop-command, the service is stopping until that command has run.
    s = Sim(scripted("s", stop_command=("/bin/s-stop",)))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000, explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", exit=code(0), explicit=True)

    s.stop("s")
    assert fx(s) == ["s stopping", "spawn-stop s"]
    check(s, "s", "stopping", "stopped", reason="normal", exit=code(0))
    assert deadline(s) == 10.0

    pid = s.execs("s", STOP)
    assert fx(s) == []
    check(s, "s", "stopping", "stopped", pid=pid, reason="normal", exit=code(0))

    s.exits("s", code=0, role=STOP)
    assert fx(s) == ["s stopped", "retire s", "idle"]
    # `exit` is the start command's: the stop command's end is not recorded there.
    check(s, "s", "stopped", "stopped", reason="normal", exit=code(0))
    assert deadline(s) is None


def test_engine_scripted_quick_command_leaves_no_stray_timer():
    # dinit scripted_start_race: a command that ends at once starts it; no timer fires later.
    s = Sim(scripted("s"))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000, explicit=True)
    s.exits("s", code=0)  # in the same instant as its exec
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", exit=code(0), explicit=True)
    assert deadline(s) is None

    s.tick(60)  # the default start-timeout passes
    assert fx(s) == []
    assert s.spawned(s.history) == ["s"]  # launched once only
    check(s, "s", "started", "started", exit=code(0), explicit=True)

    s.stop("s")
    assert fx(s) == ["s stopping", "s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", reason="normal", exit=code(0))
    assert s.engine.active_count == 0


def test_engine_scripted_pid_shows_the_running_command():
    # status pid is the start command's while it runs, then the stop command's, else none.
    s = Sim(scripted("s", stop_command=("/bin/s-stop",)))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    start_pid = s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=start_pid, explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", exit=code(0), explicit=True)
    s.stop("s")
    assert fx(s) == ["s stopping", "spawn-stop s"]
    check(s, "s", "stopping", "stopped", reason="normal", exit=code(0))
    stop_pid = s.execs("s", STOP)
    assert fx(s) == []
    assert stop_pid != start_pid
    check(s, "s", "stopping", "stopped", pid=stop_pid, reason="normal", exit=code(0))
    s.exits("s", code=0, role=STOP)
    assert fx(s) == ["s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", reason="normal", exit=code(0))


# ---------------------------------------------------------------------------------------------
# Start failures (dinit: scripted_start_fail)
# ---------------------------------------------------------------------------------------------


def test_engine_scripted_non_zero_exit_fails_the_start_and_its_dependents():
    # A start command exiting 1 fails the service (failed); both hard dependents fail with it.
    s = Sim(scripted("s", stop_command=("/bin/s-stop",)),
            internal("a", depends_on=("s",)), internal("b", depends_on=("s", "a")))
    s.start("b")
    check(s, "s", "starting", "started")
    check(s, "a", "starting", "started")
    check(s, "b", "starting", "started", explicit=True)
    assert fx(s) == ["b starting", "s starting", "a starting", "spawn s"]
    pid = s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=pid)
    check(s, "a", "starting", "started")
    check(s, "b", "starting", "started", explicit=True)

    s.exits("s", code=1)
    assert fx(s) == ["s failed", "s stopped", "retire s", "a failed", "a stopped",
                     "b failed", "b stopped", "idle"]
    assert notes(s)[0].reason == "command exited with code 1"
    check(s, "s", "stopped", "stopped", failed=True, reason="failed", exit=code(1))
    check(s, "a", "stopped", "stopped", failed=True, reason="dep-failed")
    check(s, "b", "stopped", "stopped", failed=True, reason="dep-failed")
    assert not s.pending_spawn("s", STOP)  # nothing to undo: no stop command
    assert s.engine.active_count == 0


def test_engine_scripted_command_killed_by_a_signal_fails_the_start():
    # A start command killed by a signal is a failed start, with the signal in `exit`.
    s = Sim(scripted("s"))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000, explicit=True)
    s.exits("s", signal="SIGKILL")
    assert fx(s) == ["s failed", "s stopped", "retire s", "idle"]
    assert notes(s)[0].reason == "command killed by SIGKILL"
    check(s, "s", "stopped", "stopped", failed=True, reason="failed", exit=sig("SIGKILL"))


def test_engine_scripted_sigint_without_skippable_is_a_failure():
    # Without `skippable`, a start command ended by SIGINT failed.
    s = Sim(scripted("s"), internal("d", depends_on=("s",)))
    s.start("d")
    assert fx(s) == ["d starting", "s starting", "spawn s"]
    check(s, "s", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000)
    s.exits("s", signal="SIGINT")
    assert fx(s) == ["s failed", "s stopped", "retire s", "d failed", "d stopped", "idle"]
    check(s, "s", "stopped", "stopped", failed=True, reason="failed", exit=sig("SIGINT"))
    check(s, "d", "stopped", "stopped", failed=True, reason="dep-failed")
    assert not skipped(s, "s")


def test_engine_scripted_start_command_that_cannot_run_is_exec_failed():
    # A start command that cannot be executed: exec-failed; explicit activation is removed.
    s = Sim(scripted("s", stop_command=("/bin/s-stop",)))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.exec_fails("s", "Exec format error")
    assert fx(s) == ["s failed", "s stopped", "retire s", "idle"]
    assert notes(s)[0].reason == "could not be executed: Exec format error"
    check(s, "s", "stopped", "stopped", failed=True, reason="exec-failed")
    assert deadline(s) is None
    assert not s.pending_spawn("s", STOP)


def test_engine_scripted_failed_start_is_not_retried_even_with_restart_yes():
    # restart=yes does not retry a failed start.
    s = Sim(scripted("s", restart=YES))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000, explicit=True)
    s.exits("s", code=3)
    assert fx(s) == ["s failed", "s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", failed=True, reason="failed", exit=code(3))
    s.tick(100)
    assert fx(s) == []
    check(s, "s", "stopped", "stopped", failed=True, reason="failed", exit=code(3))


def test_engine_scripted_second_start_after_failure_succeeds_and_clears_failed():
    # After a failed start, a new start by command that succeeds is no longer failed.
    s = Sim(scripted("s"))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000, explicit=True)
    s.exits("s", code=1)
    assert fx(s) == ["s failed", "s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", failed=True, reason="failed", exit=code(1))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", reason="failed", exit=code(1), explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1001, reason="failed", exit=code(1), explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", reason="failed", exit=code(0), explicit=True)


# ---------------------------------------------------------------------------------------------
# Stop command outcomes (dinit: scripted_stop_fail, scripted_stop_timeout)
# ---------------------------------------------------------------------------------------------


def test_engine_scripted_failing_stop_command_is_a_warning_and_everything_stops():
    # A stop command exiting 1 runs once, is logged as a warning, and the whole tree stops.
    s = Sim(scripted("p", stop_command=("/bin/p-stop",)), internal("s2"),
            internal("s3", depends_on=("s2", "p")), internal("s4", depends_on=("p", "s3")))
    s.start("s4")
    check(s, "p", "starting", "started")
    check(s, "s2", "started", "started")
    check(s, "s3", "starting", "started")
    check(s, "s4", "starting", "started", explicit=True)
    assert fx(s) == ["s4 starting", "p starting", "s3 starting", "s2 starting", "spawn p",
                     "s2 started"]
    s.execs("p")
    assert fx(s) == []
    check(s, "p", "starting", "started", pid=1000)
    s.exits("p", code=0)
    assert fx(s) == ["p started", "s3 started", "s4 started"]
    for name in ("s2", "s3"):
        check(s, name, "started", "started")
    check(s, "p", "started", "started", exit=code(0))
    check(s, "s4", "started", "started", explicit=True)

    s.stop("s4")
    assert fx(s) == ["s4 stopping", "s3 stopping", "s2 stopping", "p stopping", "s4 stopped",
                     "s3 stopped", "s2 stopped", "spawn-stop p"]
    check(s, "p", "stopping", "stopped", reason="normal", exit=code(0))
    for name in ("s2", "s3", "s4"):
        check(s, name, "stopped", "stopped", reason="normal")

    pid = s.execs("p", STOP)
    assert fx(s) == []
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal", exit=code(0))
    s.exits("p", code=1, role=STOP)
    assert fx(s) == ["log p warning", "p stopped", "retire p", "idle"]
    assert logs(s) == [("p", "warning", "stop command exited with code 1")]
    check(s, "p", "stopped", "stopped", reason="normal", exit=code(0))  # not a failure
    stop_spawns = [e for e in s.history if getattr(e, "role", None) is STOP]
    assert len(stop_spawns) == 1


def test_engine_scripted_stop_command_killed_after_stop_timeout():
    # dinit scripted_stop_timeout: a stop command still running at stop-timeout gets a Kill.
    s = Sim(scripted("s", stop_command=("/bin/s-stop",), stop_timeout=10))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000, explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", exit=code(0), explicit=True)
    s.stop("s")
    check(s, "s", "stopping", "stopped", reason="normal", exit=code(0))
    assert fx(s) == ["s stopping", "spawn-stop s"]
    pid = s.execs("s", STOP)
    assert fx(s) == []
    check(s, "s", "stopping", "stopped", pid=pid, reason="normal", exit=code(0))

    s.tick(9)
    check(s, "s", "stopping", "stopped", pid=pid, reason="normal", exit=code(0))
    assert fx(s) == []
    s.tick(1)
    assert fx(s) == ["log s warning", "kill s"]
    check(s, "s", "stopping", "stopped", pid=pid, reason="normal", exit=code(0))
    assert deadline(s) is None

    s.exits("s", role=STOP)  # dies of the SIGKILL
    assert fx(s) == ["log s warning", "s stopped", "retire s", "idle"]
    assert logs(s) == [("s", "warning", "stop command killed by SIGKILL")]
    check(s, "s", "stopped", "stopped", reason="normal", exit=code(0))
    assert deadline(s) is None


def test_engine_scripted_stop_command_without_stop_timeout_is_never_killed():
    # stop-timeout = 0: a slow stop command is waited for.
    s = Sim(scripted("s", stop_command=("/bin/s-stop",), stop_timeout=0))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000, explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", exit=code(0), explicit=True)
    s.stop("s")
    assert fx(s) == ["s stopping", "spawn-stop s"]
    check(s, "s", "stopping", "stopped", reason="normal", exit=code(0))
    pid = s.execs("s", STOP)
    assert fx(s) == []
    check(s, "s", "stopping", "stopped", pid=pid, reason="normal", exit=code(0))
    assert deadline(s) is None
    s.tick(1000)
    assert fx(s) == []
    check(s, "s", "stopping", "stopped", pid=pid, reason="normal", exit=code(0))
    s.exits("s", code=0, role=STOP)
    assert fx(s) == ["s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", reason="normal", exit=code(0))


def test_engine_scripted_stop_command_that_cannot_run_still_stops_the_service():
    # A stop command that cannot be executed is logged as an error; the service is stopped.
    s = Sim(scripted("s", stop_command=("/bin/s-stop",)))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000, explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", exit=code(0), explicit=True)
    s.stop("s")
    assert fx(s) == ["s stopping", "spawn-stop s"]
    check(s, "s", "stopping", "stopped", reason="normal", exit=code(0))
    s.exec_fails("s", role=STOP)
    assert fx(s) == ["log s error", "s stopped", "retire s", "idle"]
    assert logs(s) == [("s", "error", "could not run stop command: No such file or directory")]
    check(s, "s", "stopped", "stopped", reason="normal", exit=code(0))
    assert deadline(s) is None


def test_engine_scripted_stop_waits_for_dependents_before_the_stop_command():
    # The stop command runs only once the hard dependent (a process) has stopped.
    s = Sim(scripted("s", stop_command=("/bin/s-stop",)), proc("d", depends_on=("s",)))
    s.start("d")
    assert fx(s) == ["d starting", "s starting", "spawn s"]
    check(s, "s", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000)
    s.exits("s", code=0)
    assert fx(s) == ["s started", "spawn d"]
    check(s, "s", "started", "started", exit=code(0))
    d = s.execs("d")
    assert fx(s) == ["d started"]
    check(s, "d", "started", "started", pid=d, explicit=True)
    s.stop("s", force=True)
    assert fx(s) == ["d stopping", "s stopping", "signal d SIGTERM"]
    check(s, "s", "stopping", "stopped", reason="normal", exit=code(0))
    check(s, "d", "stopping", "stopped", pid=d, reason="normal")
    s.exits("d")
    check(s, "d", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"))
    assert fx(s) == ["d stopped", "retire d", "spawn-stop s"]
    s.execs("s", STOP)
    assert fx(s) == []
    check(s, "s", "stopping", "stopped", pid=1002, reason="normal", exit=code(0))
    s.exits("s", code=0, role=STOP)
    assert fx(s) == ["s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", reason="normal", exit=code(0))


# ---------------------------------------------------------------------------------------------
# skippable and start-interruptible (dinit: scripted_start_skip 1..2)
# ---------------------------------------------------------------------------------------------


def test_engine_scripted_skippable_sigint_counts_as_started_with_start_skipped():
    # skippable: a start command ended by SIGINT (a ^C) means started, start skipped.
    s = Sim(scripted("s", options=frozenset({"skippable"})), internal("d", depends_on=("s",)))
    s.start("d")
    check(s, "s", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    assert fx(s) == ["d starting", "s starting", "spawn s"]
    pid = s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=pid)

    s.exits("s", signal="SIGINT")
    assert fx(s) == ["s started", "d started"]
    check(s, "s", "started", "started", exit=sig("SIGINT"))
    check(s, "d", "started", "started", explicit=True)
    assert skipped(s, "s") and not skipped(s, "d")
    assert s.engine.active_count == 2

    s.stop("d")
    assert fx(s) == ["d stopping", "s stopping", "d stopped", "s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", reason="normal", exit=sig("SIGINT"))
    check(s, "d", "stopped", "stopped", reason="normal")
    assert s.engine.active_count == 0


def test_engine_scripted_skippable_other_signal_is_still_a_failure():
    # skippable covers SIGINT only: a SIGTERM death is a failed start.
    s = Sim(scripted("s", options=frozenset({"skippable"})))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000, explicit=True)
    s.exits("s", signal="SIGTERM")
    assert fx(s) == ["s failed", "s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", failed=True, reason="failed", exit=sig("SIGTERM"))
    assert not skipped(s, "s")


def test_engine_scripted_interrupted_skippable_start_is_stopped_not_skipped():
    # dinit scripted_start_skip2: our own SIGINT that cancels a start does not mean "skipped".
    s = Sim(scripted("s", options=frozenset({"skippable", "start-interruptible"})),
            internal("d", depends_on=("s",)))
    s.start("d")
    assert fx(s) == ["d starting", "s starting", "spawn s"]
    check(s, "s", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    pid = s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=pid)

    s.stop("d")
    assert fx(s) == ["d stopping", "d stopped", "signal s SIGINT", "s stopping"]
    check(s, "s", "stopping", "stopped", pid=pid, reason="normal")
    check(s, "d", "stopped", "stopped", reason="normal")
    assert deadline(s) == 10.0

    s.exits("s")  # dies of the SIGINT
    assert fx(s) == ["s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", reason="normal", exit=sig("SIGINT"))
    check(s, "d", "stopped", "stopped", reason="normal")
    assert not skipped(s, "s")
    assert s.engine.active_count == 0


def test_engine_scripted_interrupted_start_killed_by_sigint_runs_the_stop_command():
    # An interrupted start that died of our SIGINT may have done part of its work: clean up.
    s = Sim(scripted("s", stop_command=("/bin/s-stop",),
                     options=frozenset({"start-interruptible"})))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    pid = s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=pid, explicit=True)
    s.stop("s")
    assert fx(s) == ["signal s SIGINT", "s stopping"]
    check(s, "s", "stopping", "stopped", pid=pid, reason="normal")

    s.exits("s")
    assert fx(s) == ["spawn-stop s"]
    check(s, "s", "stopping", "stopped", reason="normal", exit=sig("SIGINT"))
    stop_pid = s.execs("s", STOP)
    assert fx(s) == []
    check(s, "s", "stopping", "stopped", pid=stop_pid, reason="normal", exit=sig("SIGINT"))
    s.exits("s", code=0, role=STOP)
    assert fx(s) == ["s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", reason="normal", exit=sig("SIGINT"))


def test_engine_scripted_interrupted_start_that_completes_anyway_runs_the_stop_command():
    # An interrupted start command that still exits 0 did its work: the stop command undoes it.
    s = Sim(scripted("s", stop_command=("/bin/s-stop",),
                     options=frozenset({"start-interruptible"})))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000, explicit=True)
    s.stop("s")
    assert fx(s) == ["signal s SIGINT", "s stopping"]
    check(s, "s", "stopping", "stopped", pid=1000, reason="normal")
    s.exits("s", code=0)
    assert fx(s) == ["spawn-stop s"]
    check(s, "s", "stopping", "stopped", reason="normal", exit=code(0))
    s.execs("s", STOP)
    assert fx(s) == []
    check(s, "s", "stopping", "stopped", pid=1001, reason="normal", exit=code(0))
    s.exits("s", code=0, role=STOP)
    assert fx(s) == ["s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", reason="normal", exit=code(0))


def test_engine_scripted_interrupted_start_that_fails_by_itself_needs_no_stop_command():
    # An interrupted start command exiting non-zero did nothing to undo: no stop command.
    s = Sim(scripted("s", stop_command=("/bin/s-stop",),
                     options=frozenset({"start-interruptible"})))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000, explicit=True)
    s.stop("s")
    assert fx(s) == ["signal s SIGINT", "s stopping"]
    check(s, "s", "stopping", "stopped", pid=1000, reason="normal")
    s.exits("s", code=130)
    assert fx(s) == ["s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", reason="normal", exit=code(130))
    assert not s.pending_spawn("s", STOP)


def test_engine_scripted_uninterruptible_start_finishes_before_the_stop():
    # Without start-interruptible a stop waits for the start command, then runs the stop command.
    s = Sim(scripted("s", stop_command=("/bin/s-stop",)), internal("d", depends_on=("s",)))
    s.start("d")
    assert fx(s) == ["d starting", "s starting", "spawn s"]
    check(s, "s", "starting", "started")
    check(s, "d", "starting", "started", explicit=True)
    pid = s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=pid)
    s.stop("d")
    assert fx(s) == ["d stopping", "d stopped"]  # no signal to s
    check(s, "s", "starting", "stopped", pid=pid, reason="normal")
    check(s, "d", "stopped", "stopped", reason="normal")

    s.exits("s", code=0)
    assert fx(s) == ["s started", "s stopping", "spawn-stop s"]
    check(s, "s", "stopping", "stopped", reason="normal", exit=code(0))
    s.execs("s", STOP)
    assert fx(s) == []
    check(s, "s", "stopping", "stopped", pid=1001, reason="normal", exit=code(0))
    s.exits("s", code=0, role=STOP)
    assert fx(s) == ["s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", reason="normal", exit=code(0))


def test_engine_scripted_start_that_never_ran_does_not_run_the_stop_command():
    # zeroinit: stopped while waiting for its dependency, it runs no stop command (dinit would).
    s = Sim(proc("p"), scripted("s", depends_on=("p",), stop_command=("/bin/s-stop",)))
    s.start("s")
    assert fx(s) == ["s starting", "p starting", "spawn p"]
    check(s, "s", "starting", "started", explicit=True)

    s.stop("s")
    assert fx(s) == ["s stopping", "s stopped", "retire s"]
    check(s, "s", "stopped", "stopped", reason="normal")
    check(s, "p", "starting", "stopped", reason="normal")  # exec pending: can't interrupt
    assert not s.pending_spawn("s", STOP) and not s.pending_spawn("s")

    pid = s.execs("p")
    assert fx(s) == ["p started", "p stopping", "signal p SIGTERM"]
    check(s, "p", "stopping", "stopped", pid=pid, reason="normal")
    s.exits("p")
    check(s, "p", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"))
    assert fx(s) == ["p stopped", "retire p", "idle"]
    assert [e for e in s.history if getattr(e, "role", None) is STOP] == []


def test_engine_scripted_dependency_failure_before_start_runs_no_command():
    # A scripted service whose dependency fails never runs its start or its stop command.
    s = Sim(proc("p"), scripted("s", depends_on=("p",), stop_command=("/bin/s-stop",)))
    s.start("s")
    assert fx(s) == ["s starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "s", "starting", "started", explicit=True)
    s.exec_fails("p")
    assert fx(s) == ["p failed", "p stopped", "retire p", "s failed", "s stopped", "retire s",
                     "idle"]
    check(s, "p", "stopped", "stopped", failed=True, reason="exec-failed")
    check(s, "s", "stopped", "stopped", failed=True, reason="dep-failed")
    assert s.spawned(s.history) == ["p"]
    assert [e for e in s.history if getattr(e, "role", None) is STOP] == []


# ---------------------------------------------------------------------------------------------
# Timeouts (dinit: proc_start_timeout, proc_start_timeout2 are scripted services)
# ---------------------------------------------------------------------------------------------


def test_engine_scripted_start_timeout_interrupts_the_command_and_times_out():
    # A start command running past start-timeout gets SIGINT; when it dies, reason timed-out.
    s = Sim(scripted("s", start_timeout=10))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    pid = s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=pid, explicit=True)
    assert deadline(s) == 10.0

    s.tick(10)
    assert fx(s) == ["log s warning", "signal s SIGINT", "s stopping", "s failed"]
    check(s, "s", "stopping", "stopped", pid=pid, failed=True, reason="timed-out")
    assert deadline(s) == 20.0

    s.exits("s", signal="SIGTERM")
    # No stop command: stopped, with no timer left.
    assert fx(s) == ["s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", failed=True, reason="timed-out", exit=sig("SIGTERM"))
    assert deadline(s) is None


def test_engine_scripted_start_timeout_does_not_fail_a_waits_for_dependent():
    # dinit proc_start_timeout2: a waits-for dependent starts even though the start timed out.
    s = Sim(scripted("s", start_timeout=1), internal("t", waits_for=("s",)))
    s.start("t")
    check(s, "s", "starting", "started")
    check(s, "t", "starting", "started", explicit=True)
    assert fx(s) == ["t starting", "s starting", "spawn s"]
    pid = s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=pid)
    check(s, "t", "starting", "started", explicit=True)

    s.tick(1)
    assert fx(s) == ["log s warning", "signal s SIGINT", "s stopping", "s failed", "t started"]
    check(s, "s", "stopping", "stopped", pid=pid, failed=True, reason="timed-out")
    check(s, "t", "started", "started", explicit=True)

    s.exits("s", code=0)
    assert fx(s) == ["s stopped", "retire s"]
    check(s, "s", "stopped", "stopped", failed=True, reason="timed-out", exit=code(0))
    check(s, "t", "started", "started", explicit=True)
    assert deadline(s) is None


def test_engine_scripted_timed_out_start_runs_the_stop_command_to_clean_up():
    # A timed-out start command ended by our SIGINT is cleaned up by the stop command.
    s = Sim(scripted("s", start_timeout=10, stop_command=("/bin/s-stop",)))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1000, explicit=True)
    s.tick(10)
    check(s, "s", "stopping", "stopped", pid=1000, failed=True, reason="timed-out")
    assert fx(s) == ["log s warning", "signal s SIGINT", "s stopping", "s failed"]
    s.exits("s")  # SIGINT
    assert fx(s) == ["spawn-stop s"]
    check(s, "s", "stopping", "stopped", failed=True, reason="timed-out", exit=sig("SIGINT"))
    assert deadline(s) == 20.0
    s.execs("s", STOP)
    assert fx(s) == []
    check(s, "s", "stopping", "stopped", pid=1001, failed=True, reason="timed-out",
          exit=sig("SIGINT"))
    s.exits("s", code=0, role=STOP)
    assert fx(s) == ["s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", failed=True, reason="timed-out", exit=sig("SIGINT"))


def test_engine_scripted_timed_out_start_ignoring_sigint_is_killed():
    # A start command that ignores the SIGINT of its timeout is killed after stop-timeout.
    s = Sim(scripted("s", start_timeout=2, stop_timeout=3))
    s.start("s")
    assert fx(s) == ["s starting", "spawn s"]
    check(s, "s", "starting", "started", explicit=True)
    pid = s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=pid, explicit=True)
    s.tick(2)
    check(s, "s", "stopping", "stopped", pid=pid, failed=True, reason="timed-out")
    assert fx(s) == ["log s warning", "signal s SIGINT", "s stopping", "s failed"]
    s.tick(3)
    assert fx(s) == ["log s warning", "kill s"]
    check(s, "s", "stopping", "stopped", pid=pid, failed=True, reason="timed-out")
    s.exits("s")
    assert fx(s) == ["s stopped", "retire s", "idle"]
    check(s, "s", "stopped", "stopped", failed=True, reason="timed-out", exit=sig("SIGKILL"))


# ---------------------------------------------------------------------------------------------
# Restart policy for scripted services
# ---------------------------------------------------------------------------------------------


def test_engine_scripted_on_failure_means_no():
    # on-failure means `no` for a scripted service (dinit #564): rolled back, it stays down.
    s = Sim(proc("p", restart=YES), scripted("s", depends_on=("p",), restart=ON_FAILURE))
    s.start("s")
    assert fx(s) == ["s starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "s", "starting", "started", explicit=True)
    p1 = s.execs("p")
    assert fx(s) == ["p started", "spawn s"]
    check(s, "p", "started", "started", pid=p1)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1001, explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "p", "started", "started", pid=p1)
    check(s, "s", "started", "started", exit=code(0), explicit=True)

    s.tick(30)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=p1)
    s.exits("p", code=1)
    # s won't come back, so it lets p go too.
    assert fx(s) == ["p stopping", "s stopping", "s failed", "s stopped", "retire s",
                     "p stopped", "retire p", "idle"]
    check(s, "s", "stopped", "stopped", failed=True, reason="dep-failed", exit=code(0))
    check(s, "p", "stopped", "stopped", failed=True, reason="terminated", exit=code(1),
          restarts=1)


def test_engine_scripted_restart_yes_comes_back_after_its_dependency_restarts():
    # restart=yes: rolled back with its crashed dependency, it runs its stop command, then restarts.
    s = Sim(proc("p", restart=YES),
            scripted("s", depends_on=("p",), restart=YES, stop_command=("/bin/s-stop",)))
    s.start("s")
    assert fx(s) == ["s starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "s", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started", "spawn s"]
    check(s, "p", "started", "started", pid=1000)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1001, explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", exit=code(0), explicit=True)

    s.tick(30)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000)
    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "s stopping", "spawn-stop s"]
    check(s, "s", "stopping", "started", exit=code(0), restarts=1, explicit=True)
    check(s, "p", "stopping", "started", reason="terminated", exit=code(1), restarts=1)

    s.execs("s", STOP)
    assert fx(s) == []
    check(s, "s", "stopping", "started", pid=1002, exit=code(0), restarts=1, explicit=True)
    s.exits("s", code=0, role=STOP)
    assert fx(s) == ["s stopped", "s starting", "p stopped", "p starting", "spawn p"]
    check(s, "s", "starting", "started", exit=code(0), restarts=1, explicit=True)

    p2 = s.execs("p")
    assert fx(s) == ["p started", "spawn s"]
    check(s, "p", "started", "started", pid=p2, reason="terminated", exit=code(1), restarts=1)
    s2 = s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=s2, exit=code(0), restarts=1, explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", exit=code(0), restarts=1, explicit=True)


def test_engine_scripted_restart_no_runs_its_stop_command_and_stays_down():
    # restart=no: rolled back with its crashed dependency, it undoes its start and stays down.
    s = Sim(proc("p", restart=YES),
            scripted("s", depends_on=("p",), restart=NO, stop_command=("/bin/s-stop",)))
    s.start("p")
    assert fx(s) == ["p starting", "spawn p"]
    check(s, "p", "starting", "started", explicit=True)
    s.start("s")
    assert fx(s) == ["s starting"]
    check(s, "s", "starting", "started", explicit=True)
    p1 = s.execs("p")
    assert fx(s) == ["p started", "spawn s"]
    check(s, "p", "started", "started", pid=p1, explicit=True)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1001, explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", exit=code(0), explicit=True)

    s.tick(30)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=p1, explicit=True)
    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "s stopping", "spawn-stop s"]
    check(s, "s", "stopping", "stopped", exit=code(0))
    s.execs("s", STOP)
    assert fx(s) == []
    check(s, "s", "stopping", "stopped", pid=1002, exit=code(0))
    s.exits("s", code=0, role=STOP)
    # p is explicit and restart=yes: it comes back alone.
    assert fx(s) == ["s stopped", "retire s", "p stopped", "p starting", "spawn p"]
    check(s, "s", "stopped", "stopped", reason="dep-restart", exit=code(0))
    p2 = s.execs("p")
    assert fx(s) == ["p started"]
    assert p2 != p1
    check(s, "p", "started", "started", pid=p2, reason="terminated", exit=code(1), restarts=1,
          explicit=True)
    check(s, "s", "stopped", "stopped", reason="dep-restart", exit=code(0))


def test_engine_scripted_restart_yes_waits_its_restart_delay():
    # Brought back by its policy soon after its last start, a scripted service waits restart-delay.
    s = Sim(proc("p", restart=YES, restart_delay=0),
            scripted("s", depends_on=("p",), restart=YES, restart_delay=2))
    s.start("s")
    assert fx(s) == ["s starting", "p starting", "spawn p"]
    check(s, "p", "starting", "started")
    check(s, "s", "starting", "started", explicit=True)
    s.execs("p")
    assert fx(s) == ["p started", "spawn s"]
    check(s, "p", "started", "started", pid=1000)
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1001, explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", exit=code(0), explicit=True)

    s.tick(0.5)
    assert fx(s) == []
    check(s, "p", "started", "started", pid=1000)
    s.exits("p", code=1)
    assert fx(s) == ["p stopping", "s stopping", "s stopped", "s starting", "p stopped",
                     "p starting", "spawn p"]
    check(s, "s", "starting", "started", exit=code(0), restarts=1, explicit=True)
    check(s, "p", "starting", "started", reason="terminated", exit=code(1), restarts=1)

    pid = s.execs("p")
    assert fx(s) == ["p started"]  # s is not launched yet
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(1), restarts=1)
    check(s, "s", "starting", "started", exit=code(0), restarts=1, explicit=True)
    assert deadline(s) == 2.0  # s's last start (0) + its restart-delay

    s.advance_to_deadline()
    check(s, "p", "started", "started", pid=pid, reason="terminated", exit=code(1), restarts=1)
    assert fx(s) == ["spawn s"]
    assert deadline(s) == 62.0
    s.execs("s")
    assert fx(s) == []
    check(s, "s", "starting", "started", pid=1003, exit=code(0), restarts=1, explicit=True)
    s.exits("s", code=0)
    assert fx(s) == ["s started"]
    check(s, "s", "started", "started", exit=code(0), restarts=1, explicit=True)
