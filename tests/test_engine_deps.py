# Dependency rules, step by step: activation of the closure, rollback, soft and milestone links,
# start-failure propagation, chain-to, deep chains and load order.
"""Scenario tests for the dependency engine (dinit's service_record rules), in the spirit of
dinit's src/tests/tests.cc: each test builds a small graph with `Sim`, plays one command or one
process report at a time, and after every step checks the effects and the status of every
service in the graph.

Internal services stand in for dinit's `service_record` (they start and stop at once); a process
service stands in for dinit's `test_service` wherever a test needs a service to stay STARTING or
STOPPING until told otherwise (its exec report, or its exit, is the `started()`/`stopped()`).

zeroinit's queues are FIFO where dinit's are LIFO, so the order of effects produced in one step
may differ from dinit's: effects are compared as a multiset (`got`), and the order is asserted
separately (`in_order`) only where it is a rule: dependencies start before their dependents and
stop after them.
"""

from __future__ import annotations

from actors.engine import Role
from actors.loader.spec import OPTION_ALWAYS_CHAIN, OPTION_START_INTERRUPTIBLE
from tests.engine_checks import active, fx, got, in_order, see
from tests.engine_sim import NO, READY_FD, YES, Sim, internal, proc, scripted


# ---------------------------------------------------------------------------------------------
# dinit tests.cc: basic_test1..8 and 10 (basic_test9 is in test_engine_commands.py)
# ---------------------------------------------------------------------------------------------


def test_engine_deps_start_brings_up_the_closure_and_stop_releases_it():
    # basic_test1: c needs b needs a; starting c starts all three, stopping c stops all three.
    s = Sim(internal("a"), internal("b", depends_on=("a",)), internal("c", depends_on=("b",)))
    assert s.engine.names() == ["a", "b", "c"]
    see(s, a="stopped/stopped", b="stopped/stopped", c="stopped/stopped")
    assert active(s) == 0

    assert s.start("c").ok
    got(s, "c starting", "b starting", "a starting", "a started", "b started", "c started")
    in_order(s, "a started", "b started", "c started")
    see(s, a="started/started", b="started/started", c="started/started explicit")
    assert active(s) == 3

    assert s.stop("c").ok
    got(s, "c stopping", "b stopping", "a stopping", "c stopped", "b stopped", "a stopped",
        "idle")
    in_order(s, "c stopped", "b stopped", "a stopped", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    assert active(s) == 0


def test_engine_deps_shared_dependency_is_held_by_the_remaining_dependent():
    # basic_test2: c and d both need b (which needs a); stopping c leaves b and a up for d.
    s = Sim(internal("a"), internal("b", depends_on=("a",)), internal("c", depends_on=("b",)),
            internal("d", depends_on=("b",)))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "a started", "b started", "c started")
    see(s, a="started/started", b="started/started", c="started/started explicit",
        d="stopped/stopped")
    s.start("d")
    got(s, "d starting", "d started")
    see(s, a="started/started", b="started/started", c="started/started explicit",
        d="started/started explicit")
    assert active(s) == 4

    s.stop("c")
    got(s, "c stopping", "c stopped")
    see(s, a="started/started", b="started/started", c="stopped/stopped why=normal",
        d="started/started explicit")
    assert active(s) == 3

    s.stop("d")
    got(s, "d stopping", "b stopping", "a stopping", "d stopped", "b stopped", "a stopped",
        "idle")
    in_order(s, "d stopped", "b stopped", "a stopped")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal", d="stopped/stopped why=normal")
    assert active(s) == 0


def test_engine_deps_forced_stop_of_a_dependency_takes_its_dependents_down():
    # basic_test3: stopping a (forced) stops b and c, which hard-depend on it, c first.
    s = Sim(internal("a"), internal("b", depends_on=("a",)), internal("c", depends_on=("b",)))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "a started", "b started", "c started")
    see(s, a="started/started", b="started/started", c="started/started explicit")

    assert s.stop("a", force=True).ok
    got(s, "a stopping", "b stopping", "c stopping", "c stopped", "b stopped", "a stopped",
        "idle")
    in_order(s, "c stopped", "b stopped", "a stopped")
    # zeroinit: after a stop by command the dependents' reason is "normal", not dep-failed.
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    assert active(s) == 0


def test_engine_deps_restart_yes_dependent_brings_back_its_dependency_after_a_crash():
    # basic_test4: a (no) dies; c (no) stays down, b (yes, explicit) comes back and brings a back.
    # c's reason is dep-restart: b, which it needs, is coming back.
    s = Sim(proc("a", restart=NO), internal("b", depends_on=("a",), restart=YES),
            internal("c", depends_on=("b",), restart=NO))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started", c="starting/started explicit")
    s.start("b")
    got(s)
    see(s, a="starting/started", b="starting/started explicit", c="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started", "c started")
    in_order(s, "a started", "b started", "c started")
    see(s, a="started/started pid", b="started/started explicit",
        c="started/started explicit")
    assert active(s) == 3

    s.exits("a", code=1)
    got(s, "a stopping", "b stopping", "c stopping", "c stopped", "b stopped", "b starting",
        "a stopped", "a starting", "spawn a")
    in_order(s, "c stopped", "b stopped", "a stopped")
    see(s, a="starting/started why=terminated", b="starting/started explicit restarts=1",
        c="stopped/stopped why=dep-restart")
    assert active(s) == 2

    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid why=terminated", b="started/started explicit restarts=1",
        c="stopped/stopped why=dep-restart")
    assert active(s) == 2


def test_engine_deps_slow_starts_chain_each_dependent_after_its_dependency():
    # basic_test5: with slow starts, each service is launched only once what it needs has started.
    s = Sim(proc("a"), proc("b", depends_on=("a",)), proc("c", depends_on=("b",)))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started", c="starting/started explicit")

    s.execs("a")
    got(s, "a started", "spawn b")
    see(s, a="started/started pid", b="starting/started", c="starting/started explicit")

    s.execs("b")
    got(s, "b started", "spawn c")
    see(s, a="started/started pid", b="started/started pid", c="starting/started explicit")

    s.execs("c")
    got(s, "c started")
    see(s, a="started/started pid", b="started/started pid", c="started/started pid explicit")
    assert active(s) == 3


def test_engine_deps_release_of_a_service_held_by_a_dependent_does_not_stop_it():
    # basic_test6: releasing a (never explicit) and b (explicit) changes nothing while c needs b.
    s = Sim(proc("a"), proc("b", depends_on=("a",)), proc("c", depends_on=("b",)))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started", c="starting/started explicit")
    s.execs("a")
    got(s, "a started", "spawn b")
    see(s, a="started/started pid", b="starting/started", c="starting/started explicit")
    s.execs("b")
    got(s, "b started", "spawn c")
    see(s, a="started/started pid", b="started/started pid", c="starting/started explicit")
    s.execs("c")
    see(s, a="started/started pid", b="started/started pid", c="started/started pid explicit")
    got(s, "c started")
    s.start("b")
    got(s)
    see(s, a="started/started pid", b="started/started pid explicit",
        c="started/started pid explicit")

    assert s.release("a").ok
    got(s)
    see(s, a="started/started pid", b="started/started pid explicit",
        c="started/started pid explicit")
    assert s.release("b").ok
    got(s)
    see(s, a="started/started pid", b="started/started pid", c="started/started pid explicit")
    assert active(s) == 3


def test_engine_deps_stop_by_command_inhibits_restart_of_the_whole_subtree():
    # basic_test7: a stop of a by command keeps b (restart=yes, explicit) and so a down for good.
    s = Sim(internal("a"), internal("b", depends_on=("a",), restart=YES),
            internal("c", depends_on=("b",)))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "a started", "b started", "c started")
    see(s, a="started/started", b="started/started", c="started/started explicit")
    s.start("b")
    got(s)
    see(s, a="started/started", b="started/started explicit", c="started/started explicit")

    assert s.stop("a", force=True).ok
    got(s, "a stopping", "b stopping", "c stopping", "c stopped", "b stopped", "a stopped",
        "idle")
    in_order(s, "c stopped", "b stopped", "a stopped")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    assert active(s) == 0


def test_engine_deps_dependents_of_a_dependency_that_will_not_restart_target_stopped():
    # basic_test8: a dies for good (all restart=no): b and c get target STOPPED, stop in reverse.
    s = Sim(proc("a", restart=NO), proc("b", depends_on=("a",), restart=NO),
            proc("c", depends_on=("b",), restart=NO))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started", c="starting/started explicit")
    s.start("b")
    got(s)
    see(s, a="starting/started", b="starting/started explicit", c="starting/started explicit")
    s.execs("a")
    got(s, "a started", "spawn b")
    see(s, a="started/started pid", b="starting/started explicit", c="starting/started explicit")
    s.execs("b")
    got(s, "b started", "spawn c")
    see(s, a="started/started pid", b="started/started pid explicit",
        c="starting/started explicit")
    s.execs("c")
    got(s, "c started")
    see(s, a="started/started pid", b="started/started pid explicit",
        c="started/started pid explicit")

    s.exits("a", code=1)
    got(s, "a stopping", "b stopping", "c stopping", "signal c SIGTERM")
    see(s, a="stopping/stopped why=terminated", b="stopping/stopped pid",
        c="stopping/stopped pid")

    # c, taken down (through b) by a's death, with b not coming back, says so.
    s.exits("c")
    got(s, "c failed", "c stopped", "retire c", "signal b SIGTERM")
    see(s, a="stopping/stopped why=terminated", b="stopping/stopped pid",
        c="stopped/stopped why=dep-failed failed")

    # b, taken down by a's death and not coming back, says so too.
    s.exits("b")
    got(s, "b failed", "b stopped", "retire b", "a stopped", "retire a", "idle")
    in_order(s, "b stopped", "a stopped")
    see(s, a="stopped/stopped why=terminated failed", b="stopped/stopped why=dep-failed failed",
        c="stopped/stopped why=dep-failed failed")
    assert active(s) == 0


def test_engine_deps_dependency_stops_only_after_its_dependent_has_stopped():
    # basic_test10: a, released, waits in STOPPING until b (needs a, slow to stop) is down.
    s = Sim(internal("a"), proc("b", depends_on=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "a started", "spawn b")
    see(s, a="started/started", b="starting/started explicit")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started", b="started/started pid explicit")

    s.release("a")
    got(s)
    see(s, a="started/started", b="started/started pid explicit")
    s.release("b")
    got(s, "b stopping", "a stopping", "signal b SIGTERM")
    see(s, a="stopping/stopped why=normal", b="stopping/stopped pid why=normal")

    s.tick(5)
    got(s)
    see(s, a="stopping/stopped why=normal", b="stopping/stopped pid why=normal")

    s.exits("b")
    got(s, "b stopped", "retire b", "a stopped", "idle")
    in_order(s, "b stopped", "a stopped")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")
    assert active(s) == 0


# ---------------------------------------------------------------------------------------------
# dinit tests.cc: test_softdep1..8
# ---------------------------------------------------------------------------------------------


def test_engine_deps_stopping_a_waits_for_dependency_leaves_the_dependent_running():
    # test_softdep1: c waits-for b (which needs a); a forced stop of a takes b down, not c.
    s = Sim(internal("a"), internal("b", depends_on=("a",)), internal("c", waits_for=("b",)))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "a started", "b started", "c started")
    see(s, a="started/started", b="started/started", c="started/started explicit")

    s.stop("a", force=True)
    got(s, "a stopping", "b stopping", "b stopped", "a stopped")
    in_order(s, "b stopped", "a stopped")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="started/started explicit")
    assert active(s) == 1


def test_engine_deps_stopping_a_reached_milestone_leaves_the_dependent_running():
    # test_softdep2: b depends-ms a; once b started, a stop of a is not refused and leaves b.
    s = Sim(internal("a"), internal("b", depends_ms=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "a started", "b started")
    see(s, a="started/started", b="started/started explicit")

    out = s.stop("a")
    assert out.ok and out.dependents == ()
    got(s, "a stopping", "a stopped")
    see(s, a="stopped/stopped why=normal", b="started/started explicit")
    assert active(s) == 1


def test_engine_deps_failing_milestone_fails_the_waiting_dependent():
    # test_softdep3: b depends-ms a, and a fails to start: b fails with it (dep-failed).
    s = Sim(proc("a"), internal("b", depends_ms=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")

    s.exec_fails("a")
    got(s, "a failed", "a stopped", "retire a", "b failed", "b stopped", "idle")
    see(s, a="stopped/stopped why=exec-failed failed",
        b="stopped/stopped why=dep-failed failed")
    assert active(s) == 0


def test_engine_deps_cancelled_milestone_start_stops_the_waiting_dependent():
    # test_softdep4: b depends-ms a; a's start is cancelled by a stop: b does not start either.
    interruptible = frozenset({OPTION_START_INTERRUPTIBLE})
    s = Sim(proc("a", ready_notification=READY_FD, options=interruptible),
            internal("b", depends_ms=("a",)))
    s.start("b")
    see(s, a="starting/started", b="starting/started explicit")
    got(s, "b starting", "a starting", "spawn a")
    s.execs("a")
    got(s)
    see(s, a="starting/started pid", b="starting/started explicit")

    s.stop("a")
    got(s, "b stopping", "b stopped", "signal a SIGINT", "a stopping")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    assert active(s) == 1

    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")
    assert active(s) == 0


def test_engine_deps_soft_dependent_reattaches_when_its_dependency_starts_again():
    # test_softdep5: b waits-for a; a stopped then started again: b holds it, a's release keeps it.
    s = Sim(internal("a"), internal("b", waits_for=("a",)))
    s.start("b")
    see(s, a="started/started", b="started/started explicit")
    got(s, "b starting", "a starting", "a started", "b started")

    s.stop("a")
    got(s, "a stopping", "a stopped")
    see(s, a="stopped/stopped why=normal", b="started/started explicit")

    s.start("a")
    got(s, "a starting", "a started")
    see(s, a="started/started explicit why=normal", b="started/started explicit")

    s.release("a")
    got(s)
    see(s, a="started/started why=normal", b="started/started explicit")
    assert active(s) == 2

    # And b's release now lets a go.
    s.release("b")
    got(s, "b stopping", "a stopping", "b stopped", "a stopped", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")


def test_engine_deps_already_started_soft_dependency_is_held_by_a_second_dependent():
    # test_softdep6: b and c both wait-for a; a stays up after b stops, because c holds it.
    s = Sim(internal("a"), internal("b", waits_for=("a",)), internal("c", waits_for=("a",)))
    s.start("b")
    see(s, a="started/started", b="started/started explicit", c="stopped/stopped")
    got(s, "b starting", "a starting", "a started", "b started")
    s.start("c")
    got(s, "c starting", "c started")
    see(s, a="started/started", b="started/started explicit", c="started/started explicit")

    s.stop("b")
    got(s, "b stopping", "b stopped")
    see(s, a="started/started", b="stopped/stopped why=normal", c="started/started explicit")

    s.stop("c")
    got(s, "c stopping", "a stopping", "c stopped", "a stopped", "idle")
    in_order(s, "c stopped", "a stopped")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    assert active(s) == 0


def test_engine_deps_soft_dependency_with_restart_yes_comes_back_after_a_crash():
    # test_softdep7: b waits-for a (restart=yes); a dies and restarts; b is never touched.
    s = Sim(proc("a", restart=YES, restart_delay=0), internal("b", waits_for=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid", b="started/started explicit")

    s.exits("a", code=1)
    got(s, "a stopping", "a stopped", "a starting", "spawn a")
    see(s, a="starting/started why=terminated restarts=1", b="started/started explicit")
    assert active(s) == 2

    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid why=terminated restarts=1", b="started/started explicit")
    assert active(s) == 2


def test_engine_deps_soft_dependency_with_restart_no_stays_down_after_a_crash():
    # test_softdep8: b waits-for a (restart=no); a dies and stays down; b is never touched.
    s = Sim(proc("a", restart=NO), internal("b", waits_for=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid", b="started/started explicit")
    assert active(s) == 2

    s.exits("a", code=1)
    got(s, "a stopping", "a stopped", "retire a")
    see(s, a="stopped/stopped why=terminated failed", b="started/started explicit")
    assert active(s) == 1

    s.tick(60)
    got(s)
    see(s, a="stopped/stopped why=terminated failed", b="started/started explicit")


# ---------------------------------------------------------------------------------------------
# dinit tests.cc: test_other1, 2, 6, test_release_from_failed (other3..5 are restarts: in
# test_engine_commands.py)
# ---------------------------------------------------------------------------------------------


def test_engine_deps_stopping_a_dependency_cancels_a_dependent_not_yet_launched():
    # test_other1 (no console): a stopped as b (needs a) is launched: b stops when up; x stays.
    s = Sim(proc("a"), proc("b", depends_on=("a",)), internal("x"))
    s.start("x")
    see(s, a="stopped/stopped", b="stopped/stopped", x="started/started explicit")
    got(s, "x starting", "x started")
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit", x="started/started explicit")

    s.execs("a")
    got(s, "a started", "spawn b")
    see(s, a="started/started pid", b="starting/started explicit", x="started/started explicit")

    # b's exec is under way: a cannot go down before b is.
    s.stop("a", force=True)
    got(s, "a stopping")
    see(s, a="stopping/stopped pid why=normal", b="starting/stopped why=normal",
        x="started/started explicit")
    s.execs("b")
    got(s, "b started", "b stopping", "signal b SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal",
        x="started/started explicit")
    s.exits("b")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        x="started/started explicit")
    got(s, "b stopped", "retire b", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        x="started/started explicit")
    assert active(s) == 1


def test_engine_deps_stop_with_every_kind_of_dependency_leaves_nothing_active():
    # test_other2: a has a waits-for, a hard and a milestone dependency; stopping a stops all.
    s = Sim(internal("d"), internal("c"), internal("b"),
            internal("a", waits_for=("b",), depends_on=("c",), depends_ms=("d",)))
    s.start("a")
    got(s, "a starting", "b starting", "c starting", "d starting", "b started", "c started",
        "d started", "a started")
    in_order(s, "b started", "a started")
    in_order(s, "c started", "a started")
    in_order(s, "d started", "a started")
    see(s, a="started/started explicit", b="started/started", c="started/started",
        d="started/started")
    assert active(s) == 4

    s.stop("a")
    got(s, "a stopping", "b stopping", "c stopping", "d stopping", "a stopped", "b stopped",
        "c stopped", "d stopped", "idle")
    in_order(s, "a stopped", "c stopped")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal", d="stopped/stopped why=normal")
    assert active(s) == 0


def test_engine_deps_interrupted_start_stops_what_is_no_longer_needed_once_started():
    # test_other6: c ms-> b waits-for-> a (slow); stop b: b, c stop now, a once it has started.
    s = Sim(proc("a"), internal("b", waits_for=("a",)), internal("c", depends_ms=("b",)))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started", c="starting/started explicit")

    s.stop("b")
    got(s, "c stopping", "b stopping", "c stopped", "b stopped")
    see(s, a="starting/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    assert active(s) == 1

    s.execs("a")
    got(s, "a started", "a stopping", "signal a SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    assert active(s) == 0


def test_engine_deps_failed_hard_dependency_releases_the_soft_one_of_the_failed_dependent():
    # test_release_from_failed: a fails, so c fails, and c's soft dependency b is interrupted.
    interruptible = frozenset({OPTION_START_INTERRUPTIBLE})
    s = Sim(proc("a"), proc("b", ready_notification=READY_FD, options=interruptible),
            internal("c", depends_on=("a",), waits_for=("b",)))
    s.start("c")
    see(s, a="starting/started", b="starting/started", c="starting/started explicit")
    got(s, "c starting", "a starting", "b starting", "spawn a", "spawn b")
    s.execs("b")
    got(s)
    see(s, a="starting/started", b="starting/started pid", c="starting/started explicit")

    s.exec_fails("a")
    got(s, "a failed", "a stopped", "retire a", "c failed", "c stopped", "signal b SIGINT",
        "b stopping")
    see(s, a="stopped/stopped why=exec-failed failed", b="stopping/stopped pid why=normal",
        c="stopped/stopped why=dep-failed failed")
    s.exits("b")
    got(s, "b stopped", "retire b", "idle")
    see(s, a="stopped/stopped why=exec-failed failed", b="stopped/stopped why=normal",
        c="stopped/stopped why=dep-failed failed")
    assert active(s) == 0


# ---------------------------------------------------------------------------------------------
# Parallel start: everything whose dependencies are satisfied is launched in the same step
# ---------------------------------------------------------------------------------------------


def test_engine_deps_independent_dependencies_are_launched_together():
    # d needs a, b and c, which need nothing: all three are spawned in the step that starts d.
    s = Sim(proc("a"), proc("b"), proc("c"), proc("d", depends_on=("a", "b", "c")))
    s.start("d")
    got(s, "d starting", "a starting", "b starting", "c starting", "spawn a", "spawn b",
        "spawn c")
    see(s, a="starting/started", b="starting/started", c="starting/started",
        d="starting/started explicit")

    s.execs("b")
    see(s, a="starting/started", b="started/started pid", c="starting/started",
        d="starting/started explicit")
    got(s, "b started")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid", b="started/started pid", c="starting/started",
        d="starting/started explicit")
    s.execs("c")
    see(s, a="started/started pid", b="started/started pid", c="started/started pid",
        d="starting/started explicit")
    got(s, "c started", "spawn d")
    s.execs("d")
    got(s, "d started")
    see(s, a="started/started pid", b="started/started pid", c="started/started pid",
        d="started/started pid explicit")


def test_engine_deps_diamond_launches_both_middle_services_once_the_base_is_up():
    # d needs b and c, both of which need a: once a is up, b and c are spawned in one step.
    s = Sim(proc("a"), proc("b", depends_on=("a",)), proc("c", depends_on=("a",)),
            proc("d", depends_on=("b", "c")))
    s.start("d")
    got(s, "d starting", "b starting", "c starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started", c="starting/started",
        d="starting/started explicit")

    s.execs("a")
    got(s, "a started", "spawn b", "spawn c")
    see(s, a="started/started pid", b="starting/started", c="starting/started",
        d="starting/started explicit")
    s.execs("c")
    see(s, a="started/started pid", b="starting/started", c="started/started pid",
        d="starting/started explicit")
    got(s, "c started")
    s.execs("b")
    see(s, a="started/started pid", b="started/started pid", c="started/started pid",
        d="starting/started explicit")
    got(s, "b started", "spawn d")
    s.execs("d")
    got(s, "d started")
    see(s, a="started/started pid", b="started/started pid", c="started/started pid",
        d="started/started pid explicit")
    assert active(s) == 4


def test_engine_deps_every_link_kind_is_started_in_parallel():
    # Hard, milestone and waits-for dependencies of x launch together; x once all have started.
    s = Sim(proc("h"), proc("m"), proc("w"),
            proc("x", depends_on=("h",), depends_ms=("m",), waits_for=("w",)))
    s.start("x")
    see(s, h="starting/started", m="starting/started", w="starting/started",
        x="starting/started explicit")
    got(s, "x starting", "h starting", "m starting", "w starting", "spawn h", "spawn m",
        "spawn w")
    s.execs("w")
    see(s, h="starting/started", m="starting/started", w="started/started pid",
        x="starting/started explicit")
    got(s, "w started")
    s.execs("h")
    got(s, "h started")
    see(s, h="started/started pid", m="starting/started", w="started/started pid",
        x="starting/started explicit")
    s.execs("m")
    see(s, h="started/started pid", m="started/started pid", w="started/started pid",
        x="starting/started explicit")
    got(s, "m started", "spawn x")
    s.execs("x")
    got(s, "x started")
    see(s, h="started/started pid", m="started/started pid", w="started/started pid",
        x="started/started pid explicit")


def test_engine_deps_start_with_dependencies_already_up_launches_at_once():
    # b needs a, which is already running: starting b spawns b in the same step.
    s = Sim(proc("a"), proc("b", depends_on=("a",)))
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit", b="stopped/stopped")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid explicit", b="stopped/stopped")
    s.start("b")
    got(s, "b starting", "spawn b")
    see(s, a="started/started pid explicit", b="starting/started explicit")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started pid explicit", b="started/started pid explicit")
    assert active(s) == 2


# ---------------------------------------------------------------------------------------------
# Start failure propagation
# ---------------------------------------------------------------------------------------------


def test_engine_deps_start_failure_fails_the_hard_dependents_up_the_chain():
    # a's exec fails: b and c (hard chain) fail dep-failed, run nothing, c loses its explicit mark.
    s = Sim(proc("a"), proc("b", depends_on=("a",)), scripted("c", depends_on=("b",),
                                                           stop_command=("/bin/c-stop",)))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started", c="starting/started explicit")

    s.exec_fails("a")
    got(s, "a failed", "a stopped", "retire a", "b failed", "b stopped", "retire b",
        "c failed", "c stopped", "retire c", "idle")
    see(s, a="stopped/stopped why=exec-failed failed", b="stopped/stopped why=dep-failed failed",
        c="stopped/stopped why=dep-failed failed")
    assert s.status("c")["reason"] == "a dependency failed to start"
    assert active(s) == 0
    assert [e for e in fx(s, s.history) if e.startswith("spawn")] == ["spawn a"]


def test_engine_deps_start_failure_spares_waits_for_dependents():
    # b needs a, c waits-for a; a exits before it is ready: b fails, c starts without it.
    s = Sim(proc("a", ready_notification=READY_FD), proc("b", depends_on=("a",)),
            proc("c", waits_for=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit", c="stopped/stopped")
    s.start("c")
    got(s, "c starting")
    see(s, a="starting/started", b="starting/started explicit", c="starting/started explicit")
    s.execs("a")
    see(s, a="starting/started pid", b="starting/started explicit", c="starting/started explicit")
    got(s)

    s.exits("a", code=1)
    got(s, "a failed", "a stopped", "retire a", "b failed", "b stopped", "retire b",
        "spawn c")
    see(s, a="stopped/stopped why=failed failed", b="stopped/stopped why=dep-failed failed",
        c="starting/started explicit")
    assert active(s) == 1
    s.execs("c")
    got(s, "c started")
    see(s, a="stopped/stopped why=failed failed", b="stopped/stopped why=dep-failed failed",
        c="started/started pid explicit")


def test_engine_deps_start_failure_fails_a_waiting_milestone_dependent_but_not_a_waits_for_one():
    # a fails: its hard (h) and milestone (m) dependents fail, its waits-for one (w) starts.
    s = Sim(proc("a"), internal("h", depends_on=("a",)), internal("m", depends_ms=("a",)),
            internal("w", waits_for=("a",)))
    s.start("h")
    got(s, "h starting", "a starting", "spawn a")
    see(s, a="starting/started", h="starting/started explicit", m="stopped/stopped",
        w="stopped/stopped")
    s.start("m")
    got(s, "m starting")
    s.start("w")
    got(s, "w starting")
    see(s, a="starting/started", h="starting/started explicit", m="starting/started explicit",
        w="starting/started explicit")
    assert active(s) == 4

    s.exec_fails("a")
    got(s, "a failed", "a stopped", "retire a", "h failed", "h stopped", "m failed",
        "m stopped", "w started")
    see(s, a="stopped/stopped why=exec-failed failed", h="stopped/stopped why=dep-failed failed",
        m="stopped/stopped why=dep-failed failed", w="started/started explicit")
    assert active(s) == 1


def test_engine_deps_failure_releases_the_other_dependencies_of_the_failed_dependent():
    # b needs a and x; a fails: b fails, x (released) stops once up, w (waits-for b) starts.
    s = Sim(proc("a"), proc("x"), scripted("b", depends_on=("a", "x"),
                                           stop_command=("/bin/b-stop",)),
            internal("w", waits_for=("b",)))
    s.start("w")
    see(s, a="starting/started", x="starting/started", b="starting/started",
        w="starting/started explicit")
    got(s, "w starting", "b starting", "a starting", "x starting", "spawn a", "spawn x")

    s.exec_fails("a")
    got(s, "a failed", "a stopped", "retire a", "b failed", "b stopped", "retire b",
        "w started")
    see(s, a="stopped/stopped why=exec-failed failed", x="starting/stopped why=normal",
        b="stopped/stopped why=dep-failed failed", w="started/started explicit")

    s.execs("x")
    see(s, a="stopped/stopped failed why=exec-failed", x="stopping/stopped pid why=normal",
        b="stopped/stopped failed why=dep-failed", w="started/started explicit")
    got(s, "x started", "x stopping", "signal x SIGTERM")
    s.exits("x")
    got(s, "x stopped", "retire x")
    see(s, a="stopped/stopped why=exec-failed failed", x="stopped/stopped why=normal",
        b="stopped/stopped why=dep-failed failed", w="started/started explicit")
    assert active(s) == 1


def test_engine_deps_failure_goes_through_hard_links_and_stops_at_a_soft_one():
    # d waits-for c, c needs b, b needs a: a fails; b and c fail, d starts all the same.
    s = Sim(proc("a"), internal("b", depends_on=("a",)), internal("c", depends_on=("b",)),
            internal("d", waits_for=("c",)))
    s.start("d")
    see(s, a="starting/started", b="starting/started", c="starting/started",
        d="starting/started explicit")
    got(s, "d starting", "c starting", "b starting", "a starting", "spawn a")
    s.tick(1)
    see(s, a="starting/started", b="starting/started", c="starting/started",
        d="starting/started explicit")
    got(s)
    s.exec_fails("a")
    got(s, "a failed", "a stopped", "retire a", "b failed", "b stopped", "c failed",
        "c stopped", "d started")
    see(s, a="stopped/stopped why=exec-failed failed", b="stopped/stopped why=dep-failed failed",
        c="stopped/stopped why=dep-failed failed", d="started/started explicit")


def test_engine_deps_failed_start_is_tried_afresh_by_the_next_start():
    # After a failure, a new start of the dependent starts its dependency again; success clears it.
    s = Sim(proc("a"), internal("b", depends_on=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.exec_fails("a")
    got(s, "a failed", "a stopped", "retire a", "b failed", "b stopped", "idle")
    see(s, a="stopped/stopped why=exec-failed failed", b="stopped/stopped why=dep-failed failed")

    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started why=exec-failed", b="starting/started explicit why=dep-failed")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid why=exec-failed", b="started/started explicit why=dep-failed")
    assert active(s) == 2


def test_engine_deps_shared_failed_dependency_fails_every_explicit_dependent():
    # b and c both need a; a's start times out: both fail and lose their activation.
    s = Sim(proc("a", ready_notification=READY_FD, start_timeout=5),
            internal("b", depends_on=("a",)), internal("c", depends_on=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit", c="stopped/stopped")
    s.start("c")
    got(s, "c starting")
    see(s, a="starting/started", b="starting/started explicit", c="starting/started explicit")
    s.execs("a")
    got(s)
    see(s, a="starting/started pid", b="starting/started explicit", c="starting/started explicit")

    s.tick(5)
    got(s, "log a warning", "signal a SIGINT", "a stopping", "a failed", "b failed", "b stopped",
        "c failed", "c stopped")
    see(s, a="stopping/stopped pid why=timed-out failed",
        b="stopped/stopped why=dep-failed failed", c="stopped/stopped why=dep-failed failed")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=timed-out failed", b="stopped/stopped why=dep-failed failed",
        c="stopped/stopped why=dep-failed failed")
    assert active(s) == 0


# ---------------------------------------------------------------------------------------------
# Milestones (depends-ms)
# ---------------------------------------------------------------------------------------------


def test_engine_deps_milestone_crash_and_restart_do_not_touch_the_dependent():
    # b depends-ms a; a crashes and restarts (restart=yes): b stays started throughout.
    s = Sim(proc("a", restart=YES, restart_delay=0), internal("b", depends_ms=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid", b="started/started explicit")

    s.exits("a", signal="SIGSEGV")
    got(s, "a stopping", "a stopped", "a starting", "spawn a")
    see(s, a="starting/started why=terminated restarts=1", b="started/started explicit")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid why=terminated restarts=1", b="started/started explicit")
    # b still holds a: releasing b lets a go.
    s.release("b")
    see(s, a="stopping/stopped pid why=normal restarts=1", b="stopped/stopped why=normal")
    got(s, "b stopping", "b stopped", "a stopping", "signal a SIGTERM")
    in_order(s, "b stopped", "signal a SIGTERM")


def test_engine_deps_milestone_failing_to_restart_leaves_the_dependent_running():
    # b ms-> a (reached); a crashes and its relaunch can't execute: a fails, b goes on running.
    s = Sim(proc("a", restart=YES, restart_delay=0), internal("b", depends_ms=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid", b="started/started explicit")
    s.exits("a", code=1)
    got(s, "a stopping", "a stopped", "a starting", "spawn a")
    see(s, a="starting/started why=terminated restarts=1", b="started/started explicit")

    s.exec_fails("a")
    got(s, "a failed", "a stopped", "retire a")
    see(s, a="stopped/stopped why=exec-failed failed restarts=1", b="started/started explicit")
    assert active(s) == 1


def test_engine_deps_milestone_dependent_releases_its_milestone_when_it_stops():
    # b depends-ms a; stopping b releases a, which stops since nothing else needs it.
    s = Sim(proc("a"), internal("b", depends_ms=("a",)), internal("c", depends_ms=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit", c="stopped/stopped")
    s.start("c")
    got(s, "c starting")
    see(s, a="starting/started", b="starting/started explicit", c="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started", "c started")
    see(s, a="started/started pid", b="started/started explicit", c="started/started explicit")

    s.stop("b")
    got(s, "b stopping", "b stopped")
    see(s, a="started/started pid", b="stopped/stopped why=normal", c="started/started explicit")
    s.stop("c")
    got(s, "c stopping", "c stopped", "a stopping", "signal a SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    s.exits("a")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    got(s, "a stopped", "retire a", "idle")


def test_engine_deps_milestone_stopped_by_command_is_not_restarted_for_the_dependent():
    # b ms-> a; a stopped by command after b started: a stays down, b's release leaves it alone.
    s = Sim(proc("a"), internal("b", depends_ms=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid", b="started/started explicit")
    s.stop("a")
    got(s, "a stopping", "signal a SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="started/started explicit")
    s.exits("a")
    got(s, "a stopped", "retire a")
    see(s, a="stopped/stopped why=normal", b="started/started explicit")
    assert active(s) == 1

    s.release("b")
    got(s, "b stopping", "b stopped", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")


# ---------------------------------------------------------------------------------------------
# waits-for
# ---------------------------------------------------------------------------------------------


def test_engine_deps_waits_for_waits_for_the_dependency_to_start():
    # b waits-for a: b is brought up only once a has started (not merely launched).
    s = Sim(proc("a", ready_notification=READY_FD), proc("b", waits_for=("a",)))
    s.start("b")
    see(s, a="starting/started", b="starting/started explicit")
    got(s, "b starting", "a starting", "spawn a")
    s.execs("a")
    got(s)
    see(s, a="starting/started pid", b="starting/started explicit")
    s.ready("a")
    see(s, a="started/started pid", b="starting/started explicit")
    got(s, "a started", "spawn b")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started pid", b="started/started pid explicit")


def test_engine_deps_waits_for_timeout_does_not_fail_the_dependent():
    # b waits-for a; a's start times out: a fails, b starts regardless.
    s = Sim(proc("a", ready_notification=READY_FD, start_timeout=3),
            internal("b", waits_for=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s)
    see(s, a="starting/started pid", b="starting/started explicit")

    s.tick(3)
    got(s, "log a warning", "signal a SIGINT", "a stopping", "a failed", "b started")
    see(s, a="stopping/stopped pid why=timed-out failed", b="started/started explicit")
    s.exits("a")
    got(s, "a stopped", "retire a")
    see(s, a="stopped/stopped why=timed-out failed", b="started/started explicit")
    assert active(s) == 1


def test_engine_deps_waits_for_dependency_stopped_while_the_dependent_waits():
    # b waits-for a; a stopped while launching: b starts at once, a stops once it has started.
    s = Sim(proc("a"), internal("b", waits_for=("a",)))
    s.start("b")
    see(s, a="starting/started", b="starting/started explicit")
    got(s, "b starting", "a starting", "spawn a")

    out = s.stop("a")
    assert out.ok
    got(s, "b started")
    see(s, a="starting/stopped why=normal", b="started/started explicit")
    s.execs("a")
    see(s, a="stopping/stopped pid why=normal", b="started/started explicit")
    got(s, "a started", "a stopping", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a")
    see(s, a="stopped/stopped why=normal", b="started/started explicit")


def test_engine_deps_waits_for_dependency_that_is_stopping_restarts_for_the_dependent():
    # b waits-for a while a is still stopping: a finishes stopping, then starts again for b.
    s = Sim(proc("a"), internal("b", waits_for=("a",)))
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit", b="stopped/stopped")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid explicit", b="stopped/stopped")
    s.stop("a")
    got(s, "a stopping", "signal a SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped")

    s.start("b")
    got(s, "b starting")
    see(s, a="stopping/started pid why=normal", b="starting/started explicit")
    s.exits("a")
    got(s, "a stopped", "a starting", "spawn a")
    see(s, a="starting/started why=normal", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid why=normal", b="started/started explicit")


# ---------------------------------------------------------------------------------------------
# zeroinit's deliberate differences on soft links
# ---------------------------------------------------------------------------------------------


def test_engine_deps_soft_reattachment_skips_a_dependent_that_is_on_its_way_down():
    # zeroinit: a restarted by command does not re-attach to a soft dependent already told to stop.
    s = Sim(internal("a"), proc("b", waits_for=("a",), ready_notification=READY_FD))
    s.start("b")
    got(s, "b starting", "a starting", "a started", "spawn b")
    see(s, a="started/started", b="starting/started explicit")
    s.execs("b")
    got(s)
    see(s, a="started/started", b="starting/started pid explicit")
    s.stop("a")
    see(s, a="stopped/stopped why=normal", b="starting/started pid explicit")
    got(s, "a stopping", "a stopped")
    s.release("b")  # b's start can't be interrupted: it will stop once started
    got(s)
    see(s, a="stopped/stopped why=normal", b="starting/stopped pid why=normal")

    s.start("a")
    got(s, "a starting", "a started")
    see(s, a="started/started explicit why=normal", b="starting/stopped pid why=normal")
    s.release("a")
    got(s, "a stopping", "a stopped")
    see(s, a="stopped/stopped why=normal", b="starting/stopped pid why=normal")

    s.ready("b")
    see(s, a="stopped/stopped why=normal", b="stopping/stopped pid why=normal")
    got(s, "b started", "b stopping", "signal b SIGTERM")
    s.exits("b")
    got(s, "b stopped", "retire b", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")


def test_engine_deps_restarting_service_reacquires_a_soft_dependency_that_broke():
    # zeroinit: b waits-for a; a stopped by command; b crashes and restarts: it brings a back.
    s = Sim(internal("a"), proc("b", waits_for=("a",), restart=YES))
    s.start("b")
    got(s, "b starting", "a starting", "a started", "spawn b")
    see(s, a="started/started", b="starting/started explicit")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started", b="started/started pid explicit")
    s.stop("a")
    got(s, "a stopping", "a stopped")
    see(s, a="stopped/stopped why=normal", b="started/started pid explicit")

    s.exits("b", code=1)
    got(s, "b stopping", "b stopped", "b starting", "a starting", "a started")
    see(s, a="started/started why=normal", b="starting/started explicit why=terminated restarts=1")
    s.advance_to_deadline()
    see(s, a="started/started why=normal", b="starting/started explicit why=terminated restarts=1")
    got(s, "spawn b")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started why=normal",
        b="started/started pid explicit why=terminated restarts=1")
    # a is held by b, not explicitly: b's release lets it go.
    # A soft dependency does not wait for its dependent to stop.
    s.release("b")
    got(s, "b stopping", "signal b SIGTERM", "a stopping", "a stopped")
    see(s, a="stopped/stopped why=normal", b="stopping/stopped pid why=normal restarts=1")
    s.exits("b")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal restarts=1")
    got(s, "b stopped", "retire b", "idle")


def test_engine_deps_uninterruptible_dependent_still_blocks_the_stop_of_its_dependency():
    # zeroinit: b (needs a), told to stop mid-start, releases a early; a still waits for b to stop.
    s = Sim(proc("a"), proc("b", depends_on=("a",), ready_notification=READY_FD))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "spawn b")
    see(s, a="started/started pid", b="starting/started explicit")
    s.execs("b")
    got(s)
    see(s, a="started/started pid", b="starting/started pid explicit")

    s.release("b")
    got(s, "a stopping")
    see(s, a="stopping/stopped pid why=normal", b="starting/stopped pid why=normal")
    s.tick(30)
    see(s, a="stopping/stopped pid why=normal", b="starting/stopped pid why=normal")
    assert "signal a SIGTERM" not in fx(s)

    s.ready("b")
    got(s, "b started", "b stopping", "signal b SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal")
    s.exits("b")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    got(s, "b stopped", "retire b", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")


def test_engine_deps_stop_turned_round_before_reaching_the_process_keeps_it():
    # zeroinit: a stop of a turned round by a start before a was signalled keeps its process.
    s = Sim(proc("a"), proc("b", depends_on=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "spawn b")
    see(s, a="started/started pid", b="starting/started explicit")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started pid", b="started/started pid explicit")
    pid = s.engine.pid("a")
    s.release("b")
    got(s, "b stopping", "a stopping", "signal b SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal")

    s.start("a")
    got(s, "a starting", "a started")
    see(s, a="started/started pid explicit why=normal", b="stopping/stopped pid why=normal")
    assert s.engine.pid("a") == pid
    s.exits("b")
    got(s, "b stopped", "retire b")
    see(s, a="started/started pid explicit why=normal", b="stopped/stopped why=normal")
    assert s.engine.pid("a") == pid
    assert active(s) == 1


def test_engine_deps_scripted_stop_turned_round_runs_neither_command_again():
    # zeroinit: a scripted stop turned round before its stop command runs runs no command at all.
    s = Sim(scripted("a", stop_command=("/bin/a-stop",)), proc("b", depends_on=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s)
    see(s, a="starting/started pid", b="starting/started explicit")
    s.exits("a", code=0)
    see(s, a="started/started", b="starting/started explicit")
    got(s, "a started", "spawn b")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started", b="started/started pid explicit")

    s.release("b")
    see(s, a="stopping/stopped why=normal", b="stopping/stopped pid why=normal")
    got(s, "b stopping", "a stopping", "signal b SIGTERM")
    s.start("a")
    see(s, a="started/started explicit why=normal", b="stopping/stopped pid why=normal")
    got(s, "a starting", "a started")
    s.exits("b")
    got(s, "b stopped", "retire b")
    see(s, a="started/started explicit why=normal", b="stopped/stopped why=normal")

    # Its stop command runs when it is stopped for real.
    s.stop("a")
    see(s, a="stopping/stopped why=normal", b="stopped/stopped why=normal")
    got(s, "a stopping", "spawn-stop a")
    s.execs("a", Role.STOP)
    got(s)
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    s.exits("a", code=0, role=Role.STOP)
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")


def test_engine_deps_scripted_service_whose_start_never_ran_runs_no_stop_command():
    # zeroinit: scripted b, stopped while waiting for a, never ran its command: no stop command.
    s = Sim(proc("a"), scripted("b", depends_on=("a",), stop_command=("/bin/b-stop",)))
    s.start("b")
    see(s, a="starting/started", b="starting/started explicit")
    got(s, "b starting", "a starting", "spawn a")
    s.stop("b")
    got(s, "b stopping", "b stopped", "retire b")
    see(s, a="starting/stopped why=normal", b="stopped/stopped why=normal")
    s.execs("a")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    got(s, "a started", "a stopping", "signal a SIGTERM")
    s.exits("a")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")
    got(s, "a stopped", "retire a", "idle")
    assert not any(e == "spawn-stop b" or e == "spawn b" for e in fx(s, s.history))


# ---------------------------------------------------------------------------------------------
# chain-to
# ---------------------------------------------------------------------------------------------


def test_engine_deps_chain_to_fires_after_a_clean_exit_of_its_own_accord():
    # a (restart=no) chains to b; a exits 0 by itself: a Chain effect asks for b.
    s = Sim(proc("a", restart=NO, chain_to="b"), internal("b"))
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit", b="stopped/stopped")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid explicit", b="stopped/stopped")
    s.exits("a", code=0)
    got(s, "a stopping", "a stopped", "retire a", "chain a b", "idle")
    see(s, a="stopped/stopped why=terminated", b="stopped/stopped")


def test_engine_deps_chain_to_does_not_fire_after_a_failure_or_a_restart():
    # No Chain after a non-zero exit; none when the service restarts instead.
    s = Sim(proc("a", restart=NO, chain_to="c"), proc("b", restart=YES, chain_to="c"),
            internal("c"))
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit", b="stopped/stopped", c="stopped/stopped")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid explicit", b="stopped/stopped", c="stopped/stopped")
    s.exits("a", code=3)
    got(s, "a stopping", "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=terminated failed", c="stopped/stopped")

    s.start("b")
    got(s, "b starting", "spawn b")
    see(s, a="stopped/stopped failed why=terminated", b="starting/started explicit",
        c="stopped/stopped")
    s.execs("b")
    got(s, "b started")
    see(s, a="stopped/stopped failed why=terminated", b="started/started pid explicit",
        c="stopped/stopped")
    s.exits("b", code=0)
    got(s, "b stopping", "b stopped", "b starting")
    see(s, b="starting/started explicit why=terminated restarts=1", c="stopped/stopped")


def test_engine_deps_chain_to_does_not_fire_on_stop_by_command_nor_on_a_dependency_stop():
    # Stopped by command, or rolled back because its dependency died: no Chain.
    s = Sim(proc("d", restart=NO), proc("a", restart=NO, depends_on=("d",), chain_to="c"),
            internal("c"))
    s.start("a")
    got(s, "a starting", "d starting", "spawn d")
    see(s, d="starting/started", a="starting/started explicit", c="stopped/stopped")
    s.execs("d")
    got(s, "d started", "spawn a")
    see(s, d="started/started pid", a="starting/started explicit", c="stopped/stopped")
    s.execs("a")
    got(s, "a started")
    see(s, d="started/started pid", a="started/started pid explicit", c="stopped/stopped")
    s.stop("a")
    see(s, d="stopping/stopped pid why=normal", a="stopping/stopped pid why=normal",
        c="stopped/stopped")
    got(s, "a stopping", "d stopping", "signal a SIGTERM")
    s.exits("a", code=0)
    see(s, d="stopping/stopped pid why=normal", a="stopped/stopped why=normal",
        c="stopped/stopped")
    got(s, "a stopped", "retire a", "signal d SIGTERM")
    s.exits("d")
    see(s, d="stopped/stopped why=normal", a="stopped/stopped why=normal", c="stopped/stopped")
    got(s, "d stopped", "retire d", "idle")

    s.start("a")
    got(s, "a starting", "d starting", "spawn d")
    see(s, d="starting/started why=normal", a="starting/started explicit why=normal",
        c="stopped/stopped")
    s.execs("d")
    got(s, "d started", "spawn a")
    see(s, d="started/started pid why=normal", a="starting/started explicit why=normal",
        c="stopped/stopped")
    s.execs("a")
    got(s, "a started")
    see(s, d="started/started pid why=normal", a="started/started pid explicit why=normal",
        c="stopped/stopped")
    s.exits("d", code=0)
    see(s, d="stopping/stopped why=terminated", a="stopping/stopped pid why=normal",
        c="stopped/stopped")
    got(s, "d stopping", "a stopping", "signal a SIGTERM")
    s.exits("a", code=0)
    got(s, "a failed", "a stopped", "retire a", "d stopped", "retire d", "idle")
    see(s, a="stopped/stopped why=dep-failed failed", d="stopped/stopped why=terminated",
        c="stopped/stopped")
    assert not any(e.startswith("chain") for e in fx(s, s.history))


def test_engine_deps_chain_to_does_not_fire_during_shutdown_even_with_always_chain():
    # A clean exit during shutdown never chains, with always-chain or without.
    s = Sim(proc("a", restart=NO, chain_to="c"),
            proc("b", restart=NO, chain_to="c", options=frozenset({OPTION_ALWAYS_CHAIN})),
            internal("c"))
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit", b="stopped/stopped", c="stopped/stopped")
    s.start("b")
    got(s, "b starting", "spawn b")
    see(s, a="starting/started explicit", b="starting/started explicit", c="stopped/stopped")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid explicit", b="starting/started explicit", c="stopped/stopped")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started pid explicit", b="started/started pid explicit", c="stopped/stopped")
    s.shutdown()
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal",
        c="stopped/stopped")
    got(s, "a stopping", "b stopping", "signal a SIGTERM", "signal b SIGTERM")
    s.exits("a", code=0)
    see(s, a="stopped/stopped why=normal", b="stopping/stopped pid why=normal",
        c="stopped/stopped")
    got(s, "a stopped", "retire a")
    s.exits("b", code=0)
    got(s, "b stopped", "retire b", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal", c="stopped/stopped")


def test_engine_deps_always_chain_fires_whatever_the_exit_but_not_after_a_failed_start():
    # always-chain: Chain after a crash and after a stop by command; none after a failed start.
    s = Sim(proc("a", restart=NO, chain_to="b", options=frozenset({OPTION_ALWAYS_CHAIN})),
            internal("b"))
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit", b="stopped/stopped")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid explicit", b="stopped/stopped")
    s.exits("a", code=3)
    got(s, "a stopping", "a stopped", "retire a", "chain a b", "idle")
    see(s, a="stopped/stopped why=terminated failed")

    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit why=terminated", b="stopped/stopped")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid explicit why=terminated", b="stopped/stopped")
    s.stop("a")
    got(s, "a stopping", "signal a SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped")
    s.exits("a")
    got(s, "a stopped", "retire a", "chain a b", "idle")
    see(s, a="stopped/stopped why=normal")

    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit why=normal", b="stopped/stopped")
    s.exec_fails("a")
    got(s, "a failed", "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=exec-failed failed", b="stopped/stopped")


# ---------------------------------------------------------------------------------------------
# Scale and load order
# ---------------------------------------------------------------------------------------------


def test_engine_deps_ten_thousand_long_chain_starts_and_stops_without_recursion():
    # s9999 needs s9998 ... needs s0: start and stop the whole chain, in order, with no stack.
    n = 10_000
    specs = [internal("s0")] + [internal(f"s{i}", depends_on=(f"s{i - 1}",)) for i in range(1, n)]
    s = Sim(*specs)
    assert len(s.engine.names()) == n

    s.start(f"s{n - 1}")
    started = [e.split()[0] for e in fx(s) if e.endswith(" started")]
    assert started == [f"s{i}" for i in range(n)]
    assert active(s) == n
    see(s, s0="started/started", s9999="started/started explicit")

    s.stop("s0", force=True)
    stopped = [e.split()[0] for e in fx(s) if e.endswith(" stopped")]
    assert stopped == [f"s{i}" for i in reversed(range(n))]
    assert fx(s)[-1] == "idle"
    assert active(s) == 0
    see(s, s0="stopped/stopped why=normal", s9999="stopped/stopped why=normal")

    s.start(f"s{n - 1}")
    assert active(s) == n
    s.release(f"s{n - 1}")
    assert active(s) == 0
    assert fx(s)[-1] == "idle"


def test_engine_deps_names_keep_load_order_across_batches():
    # names() lists services in the order they were loaded, whatever their dependencies.
    s = Sim(internal("web", depends_on=("db",)), internal("db"), internal("cache"))
    assert s.engine.names() == ["web", "db", "cache"]
    s.engine.add([internal("zz"), internal("aa", depends_on=("web", "zz"))])
    got(s)
    assert s.engine.names() == ["web", "db", "cache", "zz", "aa"]
    assert [st["name"] for st in s.engine.statuses()] == ["web", "db", "cache", "zz", "aa"]
    see(s, web="stopped/stopped", db="stopped/stopped", aa="stopped/stopped")

    s.start("aa")
    see(s, web="started/started", db="started/started", cache="stopped/stopped",
        zz="started/started", aa="started/started explicit")
    got(s, "aa starting", "web starting", "db starting", "zz starting", "db started",
        "web started", "zz started", "aa started")
    in_order(s, "db started", "web started", "aa started")
    assert s.engine.names() == ["web", "db", "cache", "zz", "aa"]


def test_engine_deps_loading_refuses_unknown_dependencies_and_duplicates():
    # Loading refuses unknown dependencies and duplicate names; ordering links may name anything.
    s = Sim(internal("a"))
    for bad in ([internal("b", depends_on=("nope",))], [internal("a")],
                [internal("c", waits_for=("nope",))], [internal("d", depends_ms=("nope",))]):
        try:
            s.engine.add(bad)
        except ValueError:
            pass
        else:
            raise AssertionError(f"{bad} was accepted")
    assert s.engine.names() == ["a"]
    s.engine.add([internal("e", after=("later",), before=("later2",))])
    assert s.engine.names() == ["a", "e"]
    got(s)
    see(s, a="stopped/stopped", e="stopped/stopped")
