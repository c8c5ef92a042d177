# Ordering-only links (before/after): they order starts between services that are both
# starting, and never activate, hold or stop anything.
"""Scenario tests for `before` and `after` (dinit's BEFORE/AFTER dependency types, tests.cc
test_order1..3), step by step with `Sim`. Process services are used where a service must stay
STARTING until its exec is reported, so that the ordering can be seen.
"""

from __future__ import annotations

from tests.engine_checks import active, got, see
from tests.engine_sim import Sim, internal, proc


def test_engine_order_before_is_honoured_between_services_starting_together():
    # test_order1: b before a, c needs both: b, then a, then c start; no order on the way down.
    s = Sim(proc("a"), proc("b", before=("a",)), proc("c", depends_on=("b", "a")))
    s.start("c")
    got(s, "c starting", "b starting", "a starting", "spawn b")
    see(s, a="starting/started", b="starting/started", c="starting/started explicit")

    s.execs("b")
    got(s, "b started", "spawn a")
    see(s, a="starting/started", b="started/started pid", c="starting/started explicit")
    s.execs("a")
    see(s, a="started/started pid", b="started/started pid", c="starting/started explicit")
    got(s, "a started", "spawn c")
    s.execs("c")
    got(s, "c started")
    see(s, a="started/started pid", b="started/started pid", c="started/started pid explicit")

    s.stop("c")
    got(s, "c stopping", "b stopping", "a stopping", "signal c SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal",
        c="stopping/stopped pid why=normal")
    s.exits("c")
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal",
        c="stopped/stopped why=normal")
    got(s, "c stopped", "retire c", "signal a SIGTERM", "signal b SIGTERM")
    s.exits("b")
    see(s, a="stopping/stopped pid why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    got(s, "b stopped", "retire b")
    s.exits("a")
    got(s, "a stopped", "retire a", "idle")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal",
        c="stopped/stopped why=normal")
    assert active(s) == 0


def test_engine_order_before_does_not_start_the_other_service():
    # test_order2: b before a, c needs b: starting c starts b and c only; a stays stopped.
    s = Sim(proc("a"), proc("b", before=("a",)), proc("c", depends_on=("b",)))
    s.start("c")
    got(s, "c starting", "b starting", "spawn b")
    see(s, a="stopped/stopped", b="starting/started", c="starting/started explicit")
    s.execs("b")
    see(s, a="stopped/stopped", b="started/started pid", c="starting/started explicit")
    got(s, "b started", "spawn c")
    s.execs("c")
    got(s, "c started")
    see(s, a="stopped/stopped", b="started/started pid", c="started/started pid explicit")
    assert active(s) == 2

    s.stop("c")
    see(s, a="stopped/stopped", b="stopping/stopped pid why=normal",
        c="stopping/stopped pid why=normal")
    got(s, "c stopping", "b stopping", "signal c SIGTERM")
    s.exits("c")
    see(s, a="stopped/stopped", b="stopping/stopped pid why=normal",
        c="stopped/stopped why=normal")
    got(s, "c stopped", "retire c", "signal b SIGTERM")
    s.exits("b")
    got(s, "b stopped", "retire b", "idle")
    see(s, a="stopped/stopped", b="stopped/stopped why=normal", c="stopped/stopped why=normal")


def test_engine_order_after_does_not_start_the_other_service():
    # test_order3: b after a, c needs b: starting c starts b and c only; a stays stopped.
    s = Sim(proc("a"), proc("b", after=("a",)), proc("c", depends_on=("b",)))
    s.start("c")
    got(s, "c starting", "b starting", "spawn b")
    see(s, a="stopped/stopped", b="starting/started", c="starting/started explicit")
    s.execs("b")
    see(s, a="stopped/stopped", b="started/started pid", c="starting/started explicit")
    got(s, "b started", "spawn c")
    s.execs("c")
    got(s, "c started")
    see(s, a="stopped/stopped", b="started/started pid", c="started/started pid explicit")

    s.stop("c")
    see(s, a="stopped/stopped", b="stopping/stopped pid why=normal",
        c="stopping/stopped pid why=normal")
    got(s, "c stopping", "b stopping", "signal c SIGTERM")
    s.exits("c")
    see(s, a="stopped/stopped", b="stopping/stopped pid why=normal",
        c="stopped/stopped why=normal")
    got(s, "c stopped", "retire c", "signal b SIGTERM")
    s.exits("b")
    got(s, "b stopped", "retire b", "idle")
    see(s, a="stopped/stopped", b="stopped/stopped why=normal", c="stopped/stopped why=normal")


def test_engine_order_after_a_service_that_is_already_started_or_stopped_does_not_wait():
    # b after a: with a stopped, or already started, b starts at once.
    s = Sim(proc("a"), proc("b", after=("a",)))
    s.start("b")
    see(s, a="stopped/stopped", b="starting/started explicit")
    got(s, "b starting", "spawn b")
    s.execs("b")
    got(s, "b started")
    see(s, a="stopped/stopped", b="started/started pid explicit")
    s.stop("b")
    got(s, "b stopping", "signal b SIGTERM")
    see(s, a="stopped/stopped", b="stopping/stopped pid why=normal")
    s.exits("b")
    see(s, a="stopped/stopped", b="stopped/stopped why=normal")
    got(s, "b stopped", "retire b", "idle")

    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit", b="stopped/stopped why=normal")
    s.execs("a")
    see(s, a="started/started pid explicit", b="stopped/stopped why=normal")
    got(s, "a started")
    s.start("b")
    got(s, "b starting", "spawn b")
    see(s, a="started/started pid explicit", b="starting/started explicit why=normal")


def test_engine_order_after_link_to_a_service_loaded_later_takes_effect():
    # b declares after: a before a is loaded; once a loads, b waits for a when both start.
    s = Sim(proc("b", after=("a",)))
    assert s.engine.names() == ["b"]
    s.engine.add([proc("a")])
    see(s, b="stopped/stopped", a="stopped/stopped")
    s._absorb()
    got(s)
    assert s.engine.names() == ["b", "a"]

    s.start("a")
    see(s, b="stopped/stopped", a="starting/started explicit")
    got(s, "a starting", "spawn a")
    s.start("b")
    got(s, "b starting")
    see(s, a="starting/started explicit", b="starting/started explicit")
    s.execs("a")
    see(s, b="starting/started explicit", a="started/started pid explicit")
    got(s, "a started", "spawn b")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started pid explicit", b="started/started pid explicit")


def test_engine_order_before_link_to_a_service_loaded_later_takes_effect():
    # a declares before: b ahead of b's loading; once b loads the order holds, activating nothing.
    s = Sim(proc("a", before=("b",)), internal("g"))
    s.engine.add([proc("b"), internal("both", depends_on=("b", "a"))])
    see(s, a="stopped/stopped", g="stopped/stopped", b="stopped/stopped", both="stopped/stopped")
    s._absorb()
    got(s)

    s.start("both")
    got(s, "both starting", "b starting", "a starting", "spawn a")
    see(s, a="starting/started", b="starting/started", both="starting/started explicit")
    s.execs("a")
    see(s, a="started/started pid", g="stopped/stopped", b="starting/started",
        both="starting/started explicit")
    got(s, "a started", "spawn b")
    s.execs("b")
    see(s, a="started/started pid", g="stopped/stopped", b="started/started pid",
        both="started/started explicit")
    got(s, "b started", "both started")
    s.release("both")
    see(s, a="stopping/stopped pid why=normal", g="stopped/stopped",
        b="stopping/stopped pid why=normal", both="stopped/stopped why=normal")
    got(s, "both stopping", "both stopped", "a stopping", "b stopping", "signal a SIGTERM",
        "signal b SIGTERM")
    s.exits("a")
    got(s, "a stopped", "retire a")
    see(s, a="stopped/stopped why=normal", g="stopped/stopped",
        b="stopping/stopped pid why=normal", both="stopped/stopped why=normal")
    s.exits("b")
    see(s, a="stopped/stopped why=normal", g="stopped/stopped", b="stopped/stopped why=normal",
        both="stopped/stopped why=normal")
    got(s, "b stopped", "retire b", "idle")

    s.start("b")
    got(s, "b starting", "spawn b")
    see(s, a="stopped/stopped why=normal", b="starting/started explicit why=normal")


def test_engine_order_a_service_starting_later_holds_back_one_not_yet_launched():
    # a starting later holds back b (after a, not launched yet) but not c (after a, launched).
    s = Sim(proc("x"), proc("a"), proc("b", after=("a",), depends_on=("x",)),
            proc("c", after=("a",)))
    s.start("b")
    see(s, x="starting/started", a="stopped/stopped", b="starting/started explicit",
        c="stopped/stopped")
    got(s, "b starting", "x starting", "spawn x")
    s.start("c")
    see(s, x="starting/started", a="stopped/stopped", b="starting/started explicit",
        c="starting/started explicit")
    got(s, "c starting", "spawn c")
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, x="starting/started", a="starting/started explicit", b="starting/started explicit",
        c="starting/started explicit")

    s.execs("x")
    see(s, x="started/started pid", a="starting/started explicit", b="starting/started explicit",
        c="starting/started explicit")
    got(s, "x started")
    s.execs("c")
    got(s, "c started")
    see(s, x="started/started pid", a="starting/started explicit", b="starting/started explicit",
        c="started/started pid explicit")
    s.execs("a")
    see(s, x="started/started pid", a="started/started pid explicit",
        b="starting/started explicit", c="started/started pid explicit")
    got(s, "a started", "spawn b")
    s.execs("b")
    got(s, "b started")
    see(s, x="started/started pid", a="started/started pid explicit",
        b="started/started pid explicit", c="started/started pid explicit")


def test_engine_order_links_never_hold_the_other_service():
    # zeroinit: an ordering link never holds a: a's release stops it, a's stop is not refused.
    s = Sim(internal("a"), internal("b", after=("a",)))
    s.start("b")
    see(s, a="stopped/stopped", b="started/started explicit")
    got(s, "b starting", "b started")
    s.start("a")
    got(s, "a starting", "a started")
    see(s, a="started/started explicit", b="started/started explicit")

    s.release("a")
    got(s, "a stopping", "a stopped")
    see(s, a="stopped/stopped why=normal", b="started/started explicit")
    s.start("a")
    got(s, "a starting", "a started")
    see(s, a="started/started explicit why=normal", b="started/started explicit")
    out = s.stop("a")
    assert out.ok and out.dependents == ()
    got(s, "a stopping", "a stopped")
    see(s, a="stopped/stopped why=normal", b="started/started explicit")
    assert active(s) == 1


def test_engine_order_the_other_service_failing_or_stopping_releases_the_wait():
    # An ordering wait ends when the other service fails to start, or is stopped by command.
    s = Sim(proc("a"), proc("b", after=("a",)), proc("c", before=("d",)), proc("d"))
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit", b="stopped/stopped", c="stopped/stopped",
        d="stopped/stopped")
    s.start("b")
    see(s, a="starting/started explicit", b="starting/started explicit", c="stopped/stopped",
        d="stopped/stopped")
    got(s, "b starting")
    s.exec_fails("a")
    got(s, "a failed", "a stopped", "retire a", "spawn b")
    see(s, a="stopped/stopped why=exec-failed failed", b="starting/started explicit")
    s.execs("b")
    see(s, a="stopped/stopped failed why=exec-failed", b="started/started pid explicit",
        c="stopped/stopped", d="stopped/stopped")
    got(s, "b started")

    s.start("c")
    got(s, "c starting", "spawn c")
    see(s, a="stopped/stopped failed why=exec-failed", b="started/started pid explicit",
        c="starting/started explicit", d="stopped/stopped")
    s.start("d")
    got(s, "d starting")
    see(s, c="starting/started explicit", d="starting/started explicit")
    s.stop("c")
    got(s, "spawn d")
    see(s, c="starting/stopped why=normal", d="starting/started explicit")
    s.execs("d")
    see(s, a="stopped/stopped failed why=exec-failed", b="started/started pid explicit",
        c="starting/stopped why=normal", d="started/started pid explicit")
    got(s, "d started")
    s.execs("c")
    see(s, a="stopped/stopped failed why=exec-failed", b="started/started pid explicit",
        c="stopping/stopped pid why=normal", d="started/started pid explicit")
    got(s, "c started", "c stopping", "signal c SIGTERM")
    s.exits("c")
    got(s, "c stopped", "retire c")
    see(s, b="started/started pid explicit", c="stopped/stopped why=normal",
        d="started/started pid explicit")


def test_engine_order_reload_adds_and_removes_ordering_links():
    # reload adds after: a to b (later starts are ordered), then removes it (they aren't).
    s = Sim(proc("a"), proc("b"))
    out = s.engine.reload(proc("b", after=("a",)), s.now)
    see(s, a="stopped/stopped", b="stopped/stopped")
    s._absorb()
    assert out.ok
    got(s)
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit", b="stopped/stopped")
    s.start("b")
    see(s, a="starting/started explicit", b="starting/started explicit")
    got(s, "b starting")
    s.execs("a")
    see(s, a="started/started pid explicit", b="starting/started explicit")
    got(s, "a started", "spawn b")
    s.execs("b")
    got(s, "b started")
    see(s, a="started/started pid explicit", b="started/started pid explicit")

    assert s.engine.reload(proc("b"), s.now).ok
    see(s, a="started/started pid explicit", b="started/started pid explicit")
    s._absorb()
    got(s)
    s.stop("a")
    got(s, "a stopping", "signal a SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="started/started pid explicit")
    s.stop("b")
    got(s, "b stopping", "signal b SIGTERM")
    see(s, a="stopping/stopped pid why=normal", b="stopping/stopped pid why=normal")
    s.exits("a")
    got(s, "a stopped", "retire a")
    see(s, a="stopped/stopped why=normal", b="stopping/stopped pid why=normal")
    s.exits("b")
    see(s, a="stopped/stopped why=normal", b="stopped/stopped why=normal")
    got(s, "b stopped", "retire b", "idle")
    s.start("a")
    got(s, "a starting", "spawn a")
    see(s, a="starting/started explicit why=normal", b="stopped/stopped why=normal")
    s.start("b")
    got(s, "b starting", "spawn b")
    see(s, a="starting/started explicit why=normal", b="starting/started explicit why=normal")
