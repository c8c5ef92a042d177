# Commands against the dependency graph: stop (gentle and forced), release, wake, restart,
# shutdown and reload, step by step.
"""Scenario tests for the engine's commands and how they travel along dependency links (dinit's
control.cc on top of service.cc), including dinit's tests.cc restart scenarios (basic_test9,
test_other3..5, test_restart_stop1..4).

As in test_engine_deps.py: internal services start and stop at once; a process service stands
in wherever a test needs a service held in STARTING or STOPPING. Effects of one step are
compared as a multiset (`got`); their order is asserted (`in_order`) only where it is a rule.
"""

from __future__ import annotations

import pytest

from actors.engine import Role, UnknownService
from tests.engine_checks import active, fx, got, in_order, see
from tests.engine_sim import NO, READY_FD, YES, Sim, internal, proc, scripted


def reload(s: Sim, spec):
    outcome = s.engine.reload(spec, s.now)
    s._absorb()
    return outcome


# ---------------------------------------------------------------------------------------------
# stop
# ---------------------------------------------------------------------------------------------


def test_engine_commands_stop_is_refused_naming_the_started_hard_dependents():
    # A gentle stop of a is refused naming b and c (depends-on); w (waits-for), m (ms) don't count.
    s = Sim(internal("a"), internal("b", depends_on=("a",)), internal("c", depends_on=("a",)),
            internal("w", waits_for=("a",)), internal("m", depends_ms=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "a started", "b started")
    s.start("c")
    got(s, "c starting", "c started")
    s.start("w")
    got(s, "w starting", "w started")
    s.start("m")
    got(s, "m starting", "m started")
    s.start("a")
    got(s)
    see(s, a="started/started explicit", b="started/started explicit",
        c="started/started explicit", w="started/started explicit", m="started/started explicit")

    out = s.stop("a")
    assert not out.ok
    assert out.dependents == ("b", "c")
    assert out.message == "a has started dependents: b, c; use --force to stop them too"
    got(s)
    see(s, a="started/started explicit", b="started/started explicit",
        c="started/started explicit", w="started/started explicit", m="started/started explicit")

    # Once the hard dependents are gone, the same stop goes through; w and m stay.
    s.stop("b")
    see(s, a="started/started explicit", b="stopped/stopped why=normal",
        c="started/started explicit", w="started/started explicit", m="started/started explicit")
    got(s, "b stopping", "b stopped")
    s.stop("c")
    see(s, a="started/started explicit", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal", w="started/started explicit", m="started/started explicit")
    got(s, "c stopping", "c stopped")
    out = s.stop("a")
    assert out.ok and out.dependents == () and out.message == ""
    got(s, "a stopping", "a stopped")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal", w="started/started explicit", m="started/started explicit")
    assert active(s) == 2


def test_engine_commands_stop_is_refused_for_a_dependent_that_is_still_starting():
    # A starting hard dependent (b, waiting for x) blocks a gentle stop; a forced one cancels it.
    s = Sim(internal("a"), proc("x"), internal("b", depends_on=("a", "x")))
    s.start("b")
    got(s, "b starting", "a starting", "x starting", "a started", "spawn x")
    see(s, a="started/started", x="starting/started", b="starting/started explicit")

    out = s.stop("a")
    assert not out.ok and out.dependents == ("b",)
    got(s)
    see(s, a="started/started", x="starting/started", b="starting/started explicit")

    assert s.stop("a", force=True).ok
    got(s, "a stopping", "b stopping", "b stopped", "a stopped")
    in_order(s, "b stopped", "a stopped")
    see(s, a="stopped/stopped why=normal", x="starting/stopped why=normal",
        b="stopped/stopped why=normal")
    s.execs("x")
    see(s, a="stopped/stopped why=normal", x="stopping/stopped pid why=normal",
        b="stopped/stopped why=normal")
    got(s, "x started", "x stopping", "signal x SIGTERM")
    s.exits("x")
    see(s, a="stopped/stopped why=normal", x="stopped/stopped why=normal",
        b="stopped/stopped why=normal")
    got(s, "x stopped", "retire x", "idle")


def test_engine_commands_forced_stop_takes_dependents_down_in_reverse_order():
    # stop --force a: d, then b and c, then a are signalled; none comes back (restart=yes).
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
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started pid", b="started/started pid", c="starting/started",
        d="starting/started explicit")
    s.execs("c")
    got(s, "c started", "spawn d")
    see(s, a="started/started pid", b="started/started pid", c="started/started pid",
        d="starting/started explicit")
    s.execs("d")
    got(s, "d started")
    see(s, a="started/started pid", b="started/started pid", c="started/started pid",
        d="started/started pid explicit")
    s.start("b")
    got(s)
    see(s, a="started/started pid", b="started/started pid explicit", c="started/started pid",
        d="started/started pid explicit")

    out = s.stop("a")
    see(s, a="started/started pid", b="started/started pid explicit", c="started/started pid",
        d="started/started pid explicit")
    assert not out.ok and out.dependents == ("b", "c")
    got(s)

    assert s.stop("a", force=True).ok
    got(s, "a stopping", "b stopping", "c stopping", "d stopping", "signal d SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal",
        c="stopping/stopped pid why=normal", d="stopping/stopped pid why=normal")

    s.exits("d")
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal",
        c="stopping/stopped pid why=normal", d="stopped/stopped why=normal")
    got(s, "d stopped", "retire d", "signal b SIGTERM", "signal c SIGTERM")
    s.exits("c")
    got(s, "c stopped", "retire c")
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal",
        c="stopped/stopped why=normal", d="stopped/stopped why=normal")
    s.exits("b")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal", d="stopped/stopped why=normal")
    got(s, "b stopped", "retire b", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    # zeroinit: "normal", not dep-failed, for dependents stopped by command; not failed.
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal", d="stopped/stopped why=normal")
    assert active(s) == 0

    s.tick(60)
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal", d="stopped/stopped why=normal")
    got(s)
    assert s.engine.next_deadline() is None


def test_engine_commands_forced_stop_of_a_middle_service_keeps_what_others_need():
    # c needs b needs a, and x needs a too: stop --force b takes c down, and a stays for x.
    s = Sim(internal("a"), internal("b", depends_on=("a",)), internal("c", depends_on=("b",)),
            internal("x", depends_on=("a",)))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "a started", "b started", "c started")
    see(s, a="started/started", b="started/started", c="started/started explicit",
        x="stopped/stopped")
    s.start("x")
    got(s, "x starting", "x started")
    see(s, a="started/started", b="started/started", c="started/started explicit",
        x="started/started explicit")

    assert s.stop("b", force=True).ok
    got(s, "b stopping", "c stopping", "c stopped", "b stopped")
    in_order(s, "c stopped", "b stopped")
    see(s, a="started/started", b="stopped/stopped why=normal", c="stopped/stopped why=normal",
        x="started/started explicit")
    assert active(s) == 2

    # c lost its explicit activation: starting b again brings back only b.
    s.start("b")
    got(s, "b starting", "b started")
    see(s, a="started/started", b="started/started explicit why=normal",
        c="stopped/stopped why=normal", x="started/started explicit")


def test_engine_commands_forced_stop_cancels_a_dependent_waiting_to_relaunch():
    # b (needs a) crashed and waits out its restart delay; stop --force a stops b for good.
    s = Sim(internal("a"), proc("b", depends_on=("a",), restart=YES, restart_delay=5))
    s.start("b")
    got(s, "b starting", "a starting", "a started", "spawn b")
    see(s, a="started/started", b="starting/started explicit")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started", b="started/started pid explicit")
    s.tick(1)
    got(s)
    see(s, a="started/started", b="started/started pid explicit")
    s.exits("b", code=1)
    got(s, "b stopping", "b stopped", "b starting")
    see(s, a="started/started", b="starting/started explicit why=terminated restarts=1")
    assert s.engine.next_deadline() == 5.0

    out = s.stop("a")
    see(s, a="started/started", b="starting/started explicit why=terminated restarts=1")
    assert not out.ok and out.dependents == ("b",)
    got(s)
    assert s.stop("a", force=True).ok
    got(s, "b stopping", "b stopped", "retire b", "a stopping", "a stopped", "idle")
    in_order(s, "b stopped", "a stopped")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal restarts=1")
    assert s.engine.next_deadline() is None
    s.tick(10)
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal restarts=1")
    got(s)


def test_engine_commands_stop_of_a_starting_service_frees_its_soft_dependent():
    # stop --force of a launching a cancels b (needs a), starts c (waits-for a), stops a when up.
    s = Sim(proc("a"), internal("b", depends_on=("a",)), internal("c", waits_for=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit", c="stopped/stopped")
    s.start("c")
    got(s, "c starting")
    see(s, a="starting/started", b="starting/started explicit", c="starting/started explicit")

    assert s.stop("a", force=True).ok
    got(s, "b stopping", "b stopped", "c started")
    see(s, a="starting/stopped why=normal", b="stopped/stopped why=normal",
        c="started/started explicit")
    s.execs("a")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        c="started/started explicit")
    got(s, "a started", "a stopping", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="started/started explicit")
    assert active(s) == 1


def test_engine_commands_stop_of_a_stopped_service_is_accepted_and_does_nothing():
    # Stopping (or releasing) what is not running is accepted, and changes nothing.
    s = Sim(internal("a"), internal("b", depends_on=("a",)))
    assert s.stop("a").ok
    see(s, a="stopped/stopped", b="stopped/stopped")
    got(s)
    assert s.stop("b", force=True).ok
    see(s, a="stopped/stopped", b="stopped/stopped")
    got(s)
    assert s.release("a").ok
    got(s)
    see(s, a="stopped/stopped", b="stopped/stopped")
    assert active(s) == 0


def test_engine_commands_stop_of_a_dependency_held_only_by_a_dependent_drops_its_explicit():
    # stop --force a drops the explicit mark of b (needs a): a later start of a starts a alone.
    s = Sim(proc("a"), internal("b", depends_on=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid", b="started/started explicit")

    s.stop("a", force=True)
    got(s, "a stopping", "b stopping", "b stopped", "signal a SIGTERM")
    in_order(s, "b stopped", "signal a SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    s.exits("a")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")
    got(s, "a stopped", "retire a", "idle")

    s.start("a")
    see(s, a="starting/started explicit why=normal", b="stopped/stopped why=normal")
    got(s, "a starting", "spawn a")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid explicit why=normal", b="stopped/stopped why=normal")


# ---------------------------------------------------------------------------------------------
# release
# ---------------------------------------------------------------------------------------------


def test_engine_commands_release_stops_only_what_nothing_else_needs():
    # b and c both need a; releasing b stops b only; releasing c then stops c and a.
    s = Sim(proc("a"), internal("b", depends_on=("a",)), internal("c", depends_on=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit", c="stopped/stopped")
    s.start("c")
    got(s, "c starting")
    see(s, a="starting/started", b="starting/started explicit", c="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started", "c started")
    see(s, a="started/started pid", b="started/started explicit", c="started/started explicit")

    assert s.release("b").ok
    got(s, "b stopping", "b stopped")
    see(s, a="started/started pid", b="stopped/stopped why=normal", c="started/started explicit")
    assert active(s) == 2

    assert s.release("c").ok
    got(s, "c stopping", "c stopped", "a stopping", "signal a SIGTERM")
    in_order(s, "c stopped", "signal a SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    s.exits("a")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    got(s, "a stopped", "retire a", "idle")
    assert active(s) == 0


def test_engine_commands_release_is_never_refused_and_keeps_a_needed_service_up():
    # Releasing a (explicit, needed by b) only drops its mark; b's release then lets a go.
    s = Sim(proc("a"), internal("b", depends_on=("a",)))
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit", b="stopped/stopped")
    s.start("b")
    got(s, "b starting")
    see(s, a="starting/started explicit", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid explicit", b="started/started explicit")

    out = s.release("a")
    assert out.ok and out.dependents == ()
    got(s)
    see(s, a="started/started pid", b="started/started explicit")

    s.release("b")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    got(s, "b stopping", "b stopped", "a stopping", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")


def test_engine_commands_release_of_a_starting_service_cancels_it():
    # b is waiting for a (launching); releasing b cancels b, and a stops once its start is over.
    s = Sim(proc("a"), internal("b", depends_on=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.release("b")
    got(s, "b stopping", "b stopped")
    see(s, a="starting/stopped why=normal", b="stopped/stopped why=normal")
    assert active(s) == 1
    s.execs("a")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    got(s, "a started", "a stopping", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")


def test_engine_commands_release_lets_restart_policy_apply_unlike_stop():
    # A released service still running for a dependent keeps restarting by its own policy.
    s = Sim(proc("a", restart=YES, restart_delay=0), internal("b", depends_on=("a",)))
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit", b="stopped/stopped")
    s.start("b")
    got(s, "b starting")
    see(s, a="starting/started explicit", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid explicit", b="started/started explicit")
    s.release("a")
    got(s)
    see(s, a="started/started pid", b="started/started explicit")

    s.exits("a", code=1)
    got(s, "a stopping", "b stopping", "b stopped", "b starting", "a stopped", "a starting",
        "spawn a")
    see(s, a="starting/started why=terminated restarts=1",
        b="starting/started explicit restarts=1")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid why=terminated restarts=1",
        b="started/started explicit restarts=1")


# ---------------------------------------------------------------------------------------------
# wake
# ---------------------------------------------------------------------------------------------


def test_engine_commands_wake_is_refused_without_active_dependents():
    # wake is refused when no running dependent wants the service (ordering links don't count).
    s = Sim(internal("a"), internal("b", depends_on=("a",)), internal("c", after=("a",)))
    out = s.wake("a")
    see(s, a="stopped/stopped", b="stopped/stopped", c="stopped/stopped")
    assert not out.ok
    assert out.message == ("a has no active dependents; cannot wake it "
                           "(use start to activate it explicitly)")
    got(s)
    s.start("c")
    see(s, a="stopped/stopped", b="stopped/stopped", c="started/started explicit")
    got(s, "c starting", "c started")
    assert not s.wake("a").ok
    got(s)
    see(s, a="stopped/stopped", b="stopped/stopped", c="started/started explicit")


def test_engine_commands_wake_starts_a_soft_dependency_again_for_its_dependent():
    # wake starts a stopped soft dependency again for b, unmarked: b's release stops it too.
    s = Sim(proc("a"), internal("b", waits_for=("a",)))
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

    assert s.wake("a").ok
    got(s, "a starting", "spawn a")
    see(s, a="starting/started why=normal", b="started/started explicit")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid why=normal", b="started/started explicit")

    s.release("b")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    got(s, "b stopping", "b stopped", "a stopping", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")


def test_engine_commands_wake_counts_a_dependent_that_is_still_starting():
    # wake is accepted for a dependent still starting (b waits-for a and needs x, launching).
    s = Sim(internal("a"), proc("x"), internal("b", waits_for=("a",), depends_on=("x",)))
    s.start("b")
    see(s, a="started/started", x="starting/started", b="starting/started explicit")
    got(s, "b starting", "x starting", "a starting", "spawn x", "a started")
    s.stop("a")
    got(s, "a stopping", "a stopped")
    see(s, a="stopped/stopped why=normal", x="starting/started", b="starting/started explicit")

    assert s.wake("a").ok
    got(s, "a starting", "a started")
    see(s, a="started/started why=normal", x="starting/started", b="starting/started explicit")
    s.execs("x")
    see(s, a="started/started why=normal", x="started/started pid", b="started/started explicit")
    got(s, "x started", "b started")
    s.release("b")
    got(s, "b stopping", "b stopped", "a stopping", "a stopped", "x stopping",
        "signal x SIGTERM")
    see(s, a="stopped/stopped why=normal", x="stopping/stopped pid why=normal",
        b="stopped/stopped why=normal")


def test_engine_commands_wake_during_a_stop_restarts_the_service_once_down():
    # wake of a while it is stopping: a finishes stopping, then starts again for b.
    s = Sim(proc("a"), internal("b", waits_for=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid", b="started/started explicit")
    s.stop("a")
    see(s, a="stopping/stopped pid why=normal", b="started/started explicit")
    got(s, "a stopping", "signal a SIGTERM")
    assert s.wake("a").ok
    got(s)
    see(s, a="stopping/started pid why=normal", b="started/started explicit")
    s.exits("a")
    see(s, a="starting/started why=normal", b="started/started explicit")
    got(s, "a stopped", "a starting", "spawn a")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid why=normal", b="started/started explicit")
    assert active(s) == 2


def test_engine_commands_wake_of_a_milestone_and_of_a_running_service():
    # wake restarts a reached milestone for its dependent; a second wake (a held) does nothing.
    s = Sim(internal("a"), internal("m", depends_ms=("a",)))
    s.start("m")
    got(s, "m starting", "a starting", "a started", "m started")
    see(s, a="started/started", m="started/started explicit")
    s.stop("a")
    got(s, "a stopping", "a stopped")
    see(s, a="stopped/stopped why=normal", m="started/started explicit")

    assert s.wake("a").ok
    got(s, "a starting", "a started")
    see(s, a="started/started why=normal", m="started/started explicit")
    assert s.wake("a").ok
    see(s, a="started/started why=normal", m="started/started explicit")
    got(s)
    s.release("m")
    see(s, a="stopped/stopped why=normal", m="stopped/stopped why=normal")
    got(s, "m stopping", "m stopped", "a stopping", "a stopped", "idle")


def test_engine_commands_wake_skips_a_dependent_that_is_going_down():
    # zeroinit: wake is refused when the only soft dependent is starting but told to stop.
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
    s.release("b")
    got(s)
    see(s, a="stopped/stopped why=normal", b="starting/stopped pid why=normal")

    assert not s.wake("a").ok
    got(s)
    see(s, a="stopped/stopped why=normal", b="starting/stopped pid why=normal")
    s.ready("b")
    see(s, a="stopped/stopped why=normal", b="stopping/stopped pid why=normal")
    got(s, "b started", "b stopping", "signal b SIGTERM")
    s.exits("b")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")
    got(s, "b stopped", "retire b", "idle")


# ---------------------------------------------------------------------------------------------
# restart (by command)
# ---------------------------------------------------------------------------------------------


def test_engine_commands_restart_is_refused_unless_started():
    # restart applies to a started service only: stopped, starting and stopping are refused.
    s = Sim(proc("a"))
    out = s.restart("a")
    see(s, a="stopped/stopped")
    assert not out.ok and out.message == "a is not started (stopped); use start"
    got(s)
    s.start("a")
    see(s, a="starting/started explicit")
    got(s, "a starting", "spawn a")
    out = s.restart("a", force=True)
    see(s, a="starting/started explicit")
    assert not out.ok and out.message == "a is not started (starting); use start"
    got(s)
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid explicit")
    s.stop("a")
    see(s, a="stopping/stopped pid why=normal")
    got(s, "a stopping", "signal a SIGTERM")
    out = s.restart("a")
    assert not out.ok and out.message == "a is not started (stopping); use start"
    got(s)
    see(s, a="stopping/stopped pid why=normal")
    s.exits("a")
    see(s, a="stopped/stopped why=normal")
    got(s, "a stopped", "retire a", "idle")


def test_engine_commands_restart_keeps_activation_and_counts_no_automatic_restart():
    # A restart of a restart=no process: stopped, launched again, explicit kept, restarts 0.
    s = Sim(proc("a", restart=NO))
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit")
    s.execs("a")
    got(s, "a started")
    first = s.engine.pid("a")
    see(s, a="started/started pid explicit")

    assert s.restart("a").ok
    got(s, "a stopping", "signal a SIGTERM")
    see(s, a="stopping/started pid explicit why=normal")
    s.exits("a")
    got(s, "a stopped", "a starting", "spawn a")
    see(s, a="starting/started explicit why=normal")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid explicit why=normal")
    assert s.engine.pid("a") != first
    assert active(s) == 1


def test_engine_commands_restart_is_refused_with_hard_dependents_unless_forced():
    # basic_test9: restart --force a bounces b, c (dep-restart) and brings them back; m (ms) stays.
    s = Sim(proc("a"), proc("b", depends_on=("a",)), proc("c", depends_on=("b",)),
            internal("m", depends_ms=("a",)))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started", c="starting/started explicit",
        m="stopped/stopped")
    s.start("m")
    got(s, "m starting")
    see(s, a="starting/started", b="starting/started", c="starting/started explicit",
        m="starting/started explicit")
    s.execs("a")
    got(s, "a started", "spawn b", "m started")
    see(s, a="started/started pid", b="starting/started", c="starting/started explicit",
        m="started/started explicit")
    s.execs("b")
    got(s, "b started", "spawn c")
    see(s, a="started/started pid", b="started/started pid", c="starting/started explicit",
        m="started/started explicit")
    s.execs("c")
    got(s, "c started")
    see(s, a="started/started pid", b="started/started pid", c="started/started pid explicit",
        m="started/started explicit")

    out = s.restart("a")
    see(s, a="started/started pid", b="started/started pid", c="started/started pid explicit",
        m="started/started explicit")
    assert not out.ok and out.dependents == ("b",)
    assert out.message == "a has started dependents: b; use --force to restart them too"
    got(s)

    assert s.restart("a", force=True).ok
    got(s, "a stopping", "b stopping", "c stopping", "signal c SIGTERM")
    see(s, a="stopping/started pid why=normal", b="stopping/started pid why=dep-restart",
        c="stopping/started pid explicit why=dep-restart", m="started/started explicit")
    s.exits("c")
    see(s, a="stopping/started pid why=normal", b="stopping/started pid why=dep-restart",
        c="starting/started explicit why=dep-restart", m="started/started explicit")
    got(s, "c stopped", "c starting", "signal b SIGTERM")
    s.exits("b")
    got(s, "b stopped", "b starting", "signal a SIGTERM")
    see(s, a="stopping/started pid why=normal", b="starting/started why=dep-restart",
        c="starting/started explicit why=dep-restart", m="started/started explicit")
    s.exits("a")
    see(s, a="starting/started why=normal", b="starting/started why=dep-restart",
        c="starting/started explicit why=dep-restart", m="started/started explicit")
    got(s, "a stopped", "a starting", "spawn a")
    s.execs("a")
    see(s, a="started/started pid why=normal", b="starting/started why=dep-restart",
        c="starting/started explicit why=dep-restart", m="started/started explicit")
    got(s, "a started", "spawn b")
    s.execs("b")
    see(s, a="started/started pid why=normal", b="started/started pid why=dep-restart",
        c="starting/started explicit why=dep-restart", m="started/started explicit")
    got(s, "b started", "spawn c")
    s.execs("c")
    got(s, "c started")
    see(s, a="started/started pid why=normal", b="started/started pid why=dep-restart",
        c="started/started pid explicit why=dep-restart", m="started/started explicit")
    assert active(s) == 4
    assert "m stopping" not in fx(s, s.history)


def test_engine_commands_forced_restart_brings_back_dependents_whatever_their_policy():
    # b and c have restart=no; a restart of a by command still brings them back.
    s = Sim(internal("a"), internal("b", depends_on=("a",), restart=NO),
            internal("c", depends_on=("b",), restart=NO))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "a started", "b started", "c started")
    see(s, a="started/started", b="started/started", c="started/started explicit")
    assert s.restart("a", force=True).ok
    got(s, "a stopping", "b stopping", "c stopping", "c stopped", "c starting", "b stopped",
        "b starting", "a stopped", "a starting", "a started", "b started", "c started")
    in_order(s, "c stopped", "b stopped", "a stopped", "a started", "b started", "c started")
    see(s, a="started/started why=normal", b="started/started why=dep-restart",
        c="started/started explicit why=dep-restart")
    assert active(s) == 3


def test_engine_commands_restart_with_only_a_soft_dependent_leaves_it_running():
    # test_other3: b waits-for a, c needs b. restart a is not refused and touches neither.
    s = Sim(proc("a"), internal("b", waits_for=("a",)), internal("c", depends_on=("b",)))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started", c="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started", "c started")
    see(s, a="started/started pid", b="started/started", c="started/started explicit")

    assert s.restart("a").ok
    got(s, "a stopping", "signal a SIGTERM")
    see(s, a="stopping/started pid why=normal", b="started/started", c="started/started explicit")
    s.exits("a")
    got(s, "a stopped", "a starting", "spawn a")
    see(s, a="starting/started why=normal", b="started/started", c="started/started explicit")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid why=normal", b="started/started", c="started/started explicit")


def test_engine_commands_restart_happens_once_and_a_later_stop_sticks():
    # test_other4: after one restart, a stop by command keeps a down (no stale restart flag).
    s = Sim(proc("a"), internal("b", waits_for=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid", b="started/started explicit")
    s.restart("a")
    got(s, "a stopping", "signal a SIGTERM")
    see(s, a="stopping/started pid why=normal", b="started/started explicit")
    s.exits("a")
    see(s, a="starting/started why=normal", b="started/started explicit")
    got(s, "a stopped", "a starting", "spawn a")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid why=normal", b="started/started explicit")

    s.stop("a")
    see(s, a="stopping/stopped pid why=normal", b="started/started explicit")
    got(s, "a stopping", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a")
    see(s, a="stopped/stopped why=normal", b="started/started explicit")
    s.tick(30)
    see(s, a="stopped/stopped why=normal", b="started/started explicit")
    got(s)


def test_engine_commands_restart_is_cancelled_when_the_last_dependent_goes():
    # test_other5: a, restarting, is no longer needed once b stops, and stays down.
    s = Sim(proc("a"), internal("b", waits_for=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid", b="started/started explicit")
    s.restart("a")
    got(s, "a stopping", "signal a SIGTERM")
    see(s, a="stopping/started pid why=normal", b="started/started explicit")

    s.stop("b")
    got(s, "b stopping", "b stopped")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")
    assert "a started" not in fx(s)


def test_engine_commands_stop_during_restart_prevents_it():
    # test_restart_stop1: a stop by command while a is stopping for a restart keeps it down.
    s = Sim(proc("a"))
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid explicit")
    s.restart("a")
    got(s, "a stopping", "signal a SIGTERM")
    see(s, a="stopping/started pid explicit why=normal")
    s.stop("a")
    got(s)
    see(s, a="stopping/stopped pid why=normal")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal")


def test_engine_commands_stop_during_restart_prevents_it_for_dependents_too():
    # test_restart_stop2: stop --force a during a forced restart of a keeps a and b down.
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
    s.restart("a", force=True)
    got(s, "a stopping", "b stopping", "signal b SIGTERM")
    see(s, a="stopping/started pid why=normal", b="stopping/started pid explicit why=dep-restart")

    out = s.stop("a")
    got(s)
    see(s, a="stopping/started pid why=normal", b="stopping/started pid explicit why=dep-restart")
    assert not out.ok and out.dependents == ("b",)
    assert s.stop("a", force=True).ok
    got(s)
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal")
    s.exits("b")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    got(s, "b stopped", "retire b", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")


def test_engine_commands_stopping_the_dependent_cancels_a_restart_of_an_unneeded_dependency():
    # test_restart_stop3: stopping b during a forced restart of a keeps both a and b down.
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
    s.restart("a", force=True)
    see(s, a="stopping/started pid why=normal", b="stopping/started pid explicit why=dep-restart")
    got(s, "a stopping", "b stopping", "signal b SIGTERM")
    s.stop("b")
    got(s)
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal")
    s.exits("b")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    got(s, "b stopped", "retire b", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")


def test_engine_commands_stopping_the_dependent_keeps_the_restart_of_an_explicit_dependency():
    # test_restart_stop4: as before, but a is also explicitly active: b stays down, a restarts.
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
    s.start("a")
    see(s, a="started/started pid explicit", b="started/started pid explicit")
    got(s)
    s.restart("a", force=True)
    see(s, a="stopping/started pid explicit why=normal",
        b="stopping/started pid explicit why=dep-restart")
    got(s, "a stopping", "b stopping", "signal b SIGTERM")
    s.stop("b")
    got(s)
    see(s, a="stopping/started pid explicit why=normal", b="stopping/stopped pid why=normal")
    s.exits("b")
    see(s, a="stopping/started pid explicit why=normal", b="stopped/stopped why=normal")
    got(s, "b stopped", "retire b", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "a starting", "spawn a")
    see(s, a="starting/started explicit why=normal", b="stopped/stopped why=normal")
    s.execs("a")
    see(s, a="started/started pid explicit why=normal", b="stopped/stopped why=normal")
    got(s, "a started")
    s.stop("a")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    got(s, "a stopping", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")


def test_engine_commands_forced_restart_bounces_a_dependent_still_waiting_for_another():
    # restart --force a bounces b (waiting for x) at once; b starts once a and x are up.
    s = Sim(proc("a"), proc("x"), internal("b", depends_on=("a", "x")))
    s.start("b")
    got(s, "b starting", "a starting", "x starting", "spawn a", "spawn x")
    see(s, a="starting/started", x="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid", x="starting/started", b="starting/started explicit")

    out = s.restart("a")
    got(s)
    see(s, a="started/started pid", x="starting/started", b="starting/started explicit")
    assert not out.ok and out.dependents == ("b",)
    assert s.restart("a", force=True).ok
    got(s, "a stopping", "b stopping", "b stopped", "b starting", "signal a SIGTERM")
    see(s, a="stopping/started pid why=normal", x="starting/started",
        b="starting/started explicit why=dep-restart")
    s.exits("a")
    see(s, a="starting/started why=normal", x="starting/started",
        b="starting/started explicit why=dep-restart")
    got(s, "a stopped", "a starting", "spawn a")
    s.execs("a")
    see(s, a="started/started pid why=normal", x="starting/started",
        b="starting/started explicit why=dep-restart")
    got(s, "a started")
    s.execs("x")
    got(s, "x started", "b started")
    see(s, a="started/started pid why=normal", x="started/started pid",
        b="started/started explicit why=dep-restart")


def test_engine_commands_forced_restart_brings_back_a_restart_no_dependent_caught_starting():
    # restart --force a while b (needs a, restart=no) awaits readiness: b and a must come back.
    s = Sim(proc("a"), proc("b", depends_on=("a",), ready_notification=READY_FD, restart=NO))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    s.execs("a")
    got(s, "a started", "spawn b")
    s.execs("b")
    got(s)
    see(s, a="started/started pid", b="starting/started pid explicit")

    assert s.restart("a", force=True).ok
    got(s, "a stopping")
    see(s, a="stopping/started pid why=normal", b="starting/started pid explicit why=dep-restart")

    s.ready("b")
    got(s, "b started", "b stopping", "signal b SIGTERM")
    see(s, a="stopping/started pid why=normal", b="stopping/started pid explicit why=dep-restart")

    s.exits("b")
    got(s, "b stopped", "b starting", "signal a SIGTERM")
    see(s, a="stopping/started pid why=normal", b="starting/started explicit why=dep-restart")
    s.exits("a")
    got(s, "a stopped", "a starting", "spawn a")
    s.execs("a")
    got(s, "a started", "spawn b")
    s.execs("b")
    got(s)
    s.ready("b")
    got(s, "b started")
    see(s, a="started/started pid why=normal", b="started/started pid explicit why=dep-restart")
    assert active(s) == 2


def test_engine_commands_forced_restart_is_no_automatic_restart_of_a_dependent_caught_starting():
    # restart --force a while b (restart=yes) awaits readiness: no counted, delayed restart of b.
    s = Sim(proc("a"), proc("b", depends_on=("a",), ready_notification=READY_FD),
            internal("c", depends_on=("b",), restart=NO))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "spawn a")
    s.execs("a")
    got(s, "a started", "spawn b")
    s.execs("b")
    got(s)
    see(s, a="started/started pid", b="starting/started pid", c="starting/started explicit")

    assert s.restart("a", force=True).ok
    got(s, "a stopping", "c stopping", "c stopped", "c starting")
    see(s, a="stopping/started pid why=normal", b="starting/started pid why=dep-restart",
        c="starting/started explicit why=dep-restart")

    s.ready("b")
    assert "signal b SIGTERM" in fx(s)
    see(s, a="stopping/started pid why=normal", b="stopping/started pid why=dep-restart",
        c="starting/started explicit why=dep-restart")

    s.exits("b")
    got(s, "b stopped", "b starting", "signal a SIGTERM")
    s.exits("a")
    got(s, "a stopped", "a starting", "spawn a")
    s.execs("a")
    # b is launched at once: a user restart does not wait out b's restart-delay.
    got(s, "a started", "spawn b")
    s.execs("b")
    got(s)
    s.ready("b")
    got(s, "b started", "c started")
    see(s, a="started/started pid why=normal", b="started/started pid why=dep-restart",
        c="started/started explicit why=dep-restart")
    assert active(s) == 3


def test_engine_commands_forced_restart_brings_back_a_scripted_dependent_whose_script_runs():
    # restart --force a while b's start script runs: b finishes, stops, and runs again after a.
    s = Sim(proc("a"), scripted("b", depends_on=("a",), restart=NO))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    s.execs("a")
    got(s, "a started", "spawn b")
    s.execs("b")
    got(s)
    see(s, a="started/started pid", b="starting/started pid explicit")

    assert s.restart("a", force=True).ok
    got(s, "a stopping")
    see(s, a="stopping/started pid why=normal", b="starting/started pid explicit why=dep-restart")

    s.exits("b", code=0)
    got(s, "b started", "b stopping", "b stopped", "b starting", "signal a SIGTERM")
    see(s, a="stopping/started pid why=normal", b="starting/started explicit why=dep-restart")
    s.exits("a")
    got(s, "a stopped", "a starting", "spawn a")
    s.execs("a")
    got(s, "a started", "spawn b")
    s.execs("b")
    got(s)
    s.exits("b", code=0)
    got(s, "b started")
    see(s, a="started/started pid why=normal", b="started/started explicit why=dep-restart")
    assert active(s) == 2


# ---------------------------------------------------------------------------------------------
# shutdown
# ---------------------------------------------------------------------------------------------


def test_engine_commands_shutdown_stops_in_reverse_dependency_order_then_idles():
    # shutdown stops w, then c, b, a one after the other, and reports Idle after the last.
    s = Sim(proc("a"), proc("b", depends_on=("a",)), proc("c", depends_on=("b",)),
            internal("w", waits_for=("c",)))
    s.start("w")
    got(s, "w starting", "c starting", "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started", c="starting/started",
        w="starting/started explicit")
    s.execs("a")
    got(s, "a started", "spawn b")
    see(s, a="started/started pid", b="starting/started", c="starting/started",
        w="starting/started explicit")
    s.execs("b")
    got(s, "b started", "spawn c")
    see(s, a="started/started pid", b="started/started pid", c="starting/started",
        w="starting/started explicit")
    s.execs("c")
    got(s, "c started", "w started")
    see(s, a="started/started pid", b="started/started pid", c="started/started pid",
        w="started/started explicit")
    assert active(s) == 4

    s.shutdown()
    got(s, "w stopping", "c stopping", "b stopping", "a stopping", "w stopped",
        "signal c SIGTERM")
    assert s.engine.shutting_down
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal",
        c="stopping/stopped pid why=normal", w="stopped/stopped why=normal")
    assert active(s) == 3
    s.exits("c")
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal",
        c="stopped/stopped why=normal", w="stopped/stopped why=normal")
    got(s, "c stopped", "retire c", "signal b SIGTERM")
    assert active(s) == 2
    s.exits("b")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal", w="stopped/stopped why=normal")
    got(s, "b stopped", "retire b", "signal a SIGTERM")
    assert active(s) == 1
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal", w="stopped/stopped why=normal")
    assert active(s) == 0


def test_engine_commands_shutdown_refuses_start_wake_and_restart():
    # During and after shutdown, start, wake and restart are refused; stop, release accepted.
    s = Sim(proc("a"), internal("b", waits_for=("a",)), internal("c"))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit", c="stopped/stopped")
    s.execs("a")
    got(s, "a started", "b started")
    see(s, a="started/started pid", b="started/started explicit", c="stopped/stopped")
    s.shutdown()
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped")
    got(s, "b stopping", "a stopping", "b stopped", "signal a SIGTERM")

    for command, message in ((s.start, "cannot start services: shutting down"),
                             (s.wake, "cannot wake services: shutting down"),
                             (s.restart, "cannot restart services: shutting down")):
        out = command("a")
        assert not out.ok and out.message == message
        got(s)
    assert not s.start("c").ok
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped")
    got(s)
    assert s.stop("a").ok
    got(s)
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped")
    assert s.release("c").ok
    got(s)
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped")
    s.exits("a")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal", c="stopped/stopped")
    got(s, "a stopped", "retire a", "idle")
    assert not s.start("a").ok
    got(s)
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal", c="stopped/stopped")


def test_engine_commands_shutdown_interrupts_a_start_in_progress():
    # dinit #225: shutdown interrupts a start awaiting readiness instead of waiting for it.
    s = Sim(proc("a", ready_notification=READY_FD), internal("b", depends_on=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s)
    see(s, a="starting/started pid", b="starting/started explicit")

    s.shutdown()
    got(s, "b stopping", "b stopped", "signal a SIGINT", "a stopping")
    in_order(s, "b stopped", "signal a SIGINT")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    assert active(s) == 1
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")
    assert active(s) == 0


def test_engine_commands_shutdown_interrupts_a_running_start_script():
    # shutdown interrupts a running start script too; the stop command then cleans up.
    s = Sim(scripted("a", stop_command=("/bin/a-stop",)), internal("b", depends_on=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit")
    s.execs("a")
    got(s)
    see(s, a="starting/started pid", b="starting/started explicit")

    s.shutdown()
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    got(s, "b stopping", "b stopped", "signal a SIGINT", "a stopping")
    s.exits("a")
    see(s, a="stopping/stopped why=normal", b="stopped/stopped why=normal")
    got(s, "spawn-stop a")
    s.execs("a", Role.STOP)
    got(s)
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal")
    s.exits("a", code=0, role=Role.STOP)
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")


def test_engine_commands_shutdown_with_nothing_running_idles_at_once():
    # Nothing active: the shutdown itself reports Idle.
    s = Sim(internal("a"), proc("b"))
    s.shutdown()
    got(s, "idle")
    assert active(s) == 0
    see(s, a="stopped/stopped", b="stopped/stopped")


def test_engine_commands_shutdown_of_internal_services_is_immediate():
    # Internal services only: everything stops within the shutdown step, dependents first.
    s = Sim(internal("a"), internal("b", depends_on=("a",)), internal("c", depends_ms=("b",)))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "a started", "b started", "c started")
    see(s, a="started/started", b="started/started", c="started/started explicit")
    assert active(s) == 3
    s.shutdown()
    got(s, "c stopping", "b stopping", "a stopping", "c stopped", "b stopped", "a stopped",
        "idle")
    in_order(s, "b stopped", "a stopped", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    assert active(s) == 0


def test_engine_commands_shutdown_cancels_restarts_under_way():
    # shutdown cancels a forced restart (a with b) and an automatic one waiting its delay (p).
    s = Sim(proc("a"), proc("b", depends_on=("a",)), proc("p", restart=YES, restart_delay=5))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit", p="stopped/stopped")
    s.execs("a")
    got(s, "a started", "spawn b")
    see(s, a="started/started pid", b="starting/started explicit", p="stopped/stopped")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started pid", b="started/started pid explicit", p="stopped/stopped")
    s.start("p")
    got(s, "p starting", "spawn p")
    see(s, a="started/started pid", b="started/started pid explicit",
        p="starting/started explicit")
    s.execs("p")
    got(s, "p started")
    see(s, a="started/started pid", b="started/started pid explicit",
        p="started/started pid explicit")
    s.tick(1)
    got(s)
    see(s, a="started/started pid", b="started/started pid explicit",
        p="started/started pid explicit")
    s.exits("p", code=1)
    see(s, a="started/started pid", b="started/started pid explicit",
        p="starting/started explicit why=terminated restarts=1")
    got(s, "p stopping", "p stopped", "p starting")
    s.restart("a", force=True)
    see(s, a="stopping/started pid why=normal", b="stopping/started pid explicit why=dep-restart",
        p="starting/started explicit why=terminated restarts=1")
    got(s, "a stopping", "b stopping", "signal b SIGTERM")

    s.shutdown()
    got(s, "p stopping", "p stopped", "retire p")
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal",
        p="stopped/stopped why=normal restarts=1")
    s.exits("b")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        p="stopped/stopped why=normal restarts=1")
    got(s, "b stopped", "retire b", "signal a SIGTERM")
    s.exits("a")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        p="stopped/stopped why=normal restarts=1")
    got(s, "a stopped", "retire a", "idle")
    s.tick(10)
    got(s)
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        p="stopped/stopped why=normal restarts=1")


def test_engine_commands_reopen_after_shutdown_accepts_starts_again():
    # Once a shutdown is complete, reopen() lets a final service be started.
    s = Sim(internal("a"), internal("final"))
    s.start("a")
    got(s, "a starting", "a started")
    see(s, a="started/started explicit", final="stopped/stopped")
    s.shutdown()
    see(s, a="stopped/stopped why=normal", final="stopped/stopped")
    got(s, "a stopping", "a stopped", "idle")
    assert not s.start("final").ok
    got(s)
    see(s, a="stopped/stopped why=normal", final="stopped/stopped")
    s.engine.reopen()
    assert not s.engine.shutting_down
    assert s.start("final").ok
    got(s, "final starting", "final started")
    see(s, a="stopped/stopped why=normal", final="started/started explicit")
    assert active(s) == 1


# ---------------------------------------------------------------------------------------------
# reload
# ---------------------------------------------------------------------------------------------


def test_engine_commands_reload_refuses_a_type_change_unless_stopped():
    # A started (or starting) service keeps its type; a stopped one may change it.
    s = Sim(internal("a"), proc("p"))
    s.start("a")
    got(s, "a starting", "a started")
    see(s, a="started/started explicit", p="stopped/stopped")
    out = reload(s, proc("a"))
    see(s, a="started/started explicit", p="stopped/stopped")
    assert not out.ok
    assert out.message == "cannot change the type of a while it is started; stop it first"
    got(s)
    assert s.engine.spec("a") == internal("a")
    s.start("p")
    got(s, "p starting", "spawn p")
    see(s, a="started/started explicit", p="starting/started explicit")
    out = reload(s, internal("p"))
    got(s)
    assert not out.ok and "type" in out.message and "starting" in out.message
    see(s, a="started/started explicit", p="starting/started explicit")

    s.stop("a")
    see(s, a="stopped/stopped why=normal", p="starting/started explicit")
    got(s, "a stopping", "a stopped")
    assert reload(s, proc("a")).ok
    see(s, a="stopped/stopped why=normal", p="starting/started explicit")
    got(s)
    assert s.engine.spec("a") == proc("a")
    s.start("a")
    see(s, a="starting/started explicit why=normal", p="starting/started explicit")
    got(s, "a starting", "spawn a")


def test_engine_commands_reload_refuses_while_starting_or_stopping():
    # Settings of a starting or stopping service can't be changed, even the harmless ones.
    s = Sim(proc("a"))
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit")
    out = reload(s, proc("a", restart=NO))
    got(s)
    see(s, a="starting/started explicit")
    assert not out.ok and out.message == "cannot reload a while it is starting"
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid explicit")
    assert reload(s, proc("a", restart=NO)).ok
    got(s)
    see(s, a="started/started pid explicit")
    assert s.engine.spec("a").restart is NO
    s.stop("a")
    see(s, a="stopping/stopped pid why=normal")
    got(s, "a stopping", "signal a SIGTERM")
    out = reload(s, proc("a"))
    assert not out.ok and out.message == "cannot reload a while it is stopping"
    got(s)
    see(s, a="stopping/stopped pid why=normal")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal")
    assert reload(s, proc("a")).ok
    see(s, a="stopped/stopped why=normal")
    got(s)


def test_engine_commands_reload_refuses_a_new_hard_dependency_that_is_not_started():
    # reload refuses a new hard dependency that is stopped or starting; soft ones are accepted.
    s = Sim(internal("c"), proc("b"), internal("x"))
    s.start("c")
    got(s, "c starting", "c started")
    see(s, c="started/started explicit", b="stopped/stopped", x="stopped/stopped")
    out = reload(s, internal("c", depends_on=("b",)))
    got(s)
    see(s, c="started/started explicit", b="stopped/stopped", x="stopped/stopped")
    assert not out.ok
    assert out.message == "cannot add dependency b to c: b is not started; start it first"
    s.start("b")
    see(s, c="started/started explicit", b="starting/started explicit", x="stopped/stopped")
    got(s, "b starting", "spawn b")
    assert not reload(s, internal("c", depends_on=("b",))).ok
    got(s)
    see(s, c="started/started explicit", b="starting/started explicit", x="stopped/stopped")
    assert s.engine.spec("c") == internal("c")

    # waits-for a stopped service is accepted, and starts nothing.
    assert reload(s, internal("c", waits_for=("x",))).ok
    got(s)
    see(s, c="started/started explicit", b="starting/started explicit", x="stopped/stopped")


def test_engine_commands_reload_adds_a_started_hard_dependency_and_holds_it():
    # reload adds depends-on b (started) to c: c now holds b, which blocks b's gentle stop.
    s = Sim(internal("c"), proc("b"))
    s.start("c")
    got(s, "c starting", "c started")
    see(s, c="started/started explicit", b="stopped/stopped")
    s.start("b")
    got(s, "b starting", "spawn b")
    see(s, c="started/started explicit", b="starting/started explicit")
    s.execs("b")
    got(s, "b started")
    see(s, c="started/started explicit", b="started/started pid explicit")
    assert reload(s, internal("c", depends_on=("b",))).ok
    got(s)
    see(s, c="started/started explicit", b="started/started pid explicit")

    s.release("b")
    got(s)
    see(s, c="started/started explicit", b="started/started pid")
    out = s.stop("b")
    got(s)
    see(s, c="started/started explicit", b="started/started pid")
    assert not out.ok and out.dependents == ("c",)
    s.release("c")
    see(s, c="stopped/stopped why=normal", b="stopping/stopped pid why=normal")
    got(s, "c stopping", "c stopped", "b stopping", "signal b SIGTERM")


def test_engine_commands_reload_removing_a_dependency_releases_it():
    # c stops needing a: a (held by nothing else) stops; b, kept, is not touched.
    s = Sim(proc("a"), proc("b"), internal("c", depends_on=("a", "b")))
    s.start("c")
    got(s, "c starting", "a starting", "b starting", "spawn a", "spawn b")
    see(s, a="starting/started", b="starting/started", c="starting/started explicit")
    s.execs("a")
    got(s, "a started")
    see(s, a="started/started pid", b="starting/started", c="starting/started explicit")
    s.execs("b")
    got(s, "b started", "c started")
    see(s, a="started/started pid", b="started/started pid", c="started/started explicit")

    assert reload(s, internal("c", depends_on=("b",))).ok
    got(s, "a stopping", "signal a SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="started/started pid",
        c="started/started explicit")
    s.exits("a")
    see(s, a="stopped/stopped why=normal", b="started/started pid", c="started/started explicit")
    got(s, "a stopped", "retire a")
    assert active(s) == 2


def test_engine_commands_reload_reforms_links_without_bouncing_shared_dependencies():
    # Reloads that re-form links (hard to milestone, unchanged, the dependency) bounce nothing.
    s = Sim(proc("a"), proc("b", depends_on=("a",)), internal("c", depends_on=("a",)))
    s.start("b")
    got(s, "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started explicit", c="stopped/stopped")
    s.execs("a")
    got(s, "a started", "spawn b")
    see(s, a="started/started pid", b="starting/started explicit", c="stopped/stopped")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started pid", b="started/started pid explicit", c="stopped/stopped")
    s.start("c")
    see(s, a="started/started pid", b="started/started pid explicit", c="started/started explicit")
    got(s, "c starting", "c started")

    assert reload(s, proc("b", depends_ms=("a",))).ok
    see(s, a="started/started pid", b="started/started pid explicit", c="started/started explicit")
    got(s)
    assert reload(s, internal("c", depends_on=("a",))).ok
    see(s, a="started/started pid", b="started/started pid explicit", c="started/started explicit")
    got(s)
    assert reload(s, proc("a", restart=NO)).ok  # the dependency itself: its dependents stay
    got(s)
    see(s, a="started/started pid", b="started/started pid explicit",
        c="started/started explicit")

    # The new links are the ones that count: only c blocks a's stop now.
    out = s.stop("a")
    got(s)
    see(s, a="started/started pid", b="started/started pid explicit", c="started/started explicit")
    assert not out.ok and out.dependents == ("c",)
    s.release("c")
    see(s, a="started/started pid", b="started/started pid explicit",
        c="stopped/stopped why=normal")
    got(s, "c stopping", "c stopped")
    assert s.stop("a").ok
    got(s, "a stopping", "signal a SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="started/started pid explicit",
        c="stopped/stopped why=normal")


def test_engine_commands_reload_of_a_stopped_service_needs_loaded_dependencies():
    # reload of a stopped service: any loaded dependency is accepted, an unknown one raises.
    s = Sim(internal("a"), internal("b"))
    with pytest.raises(UnknownService):
        s.engine.reload(internal("b", depends_on=("nope",)), s.now)
    assert s.engine.spec("b") == internal("b")
    assert reload(s, internal("b", depends_on=("a",))).ok
    got(s)
    see(s, a="stopped/stopped", b="stopped/stopped")
    s.start("b")
    got(s, "b starting", "a starting", "a started", "b started")
    see(s, a="started/started", b="started/started explicit")
