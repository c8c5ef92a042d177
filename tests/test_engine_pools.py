# A pool resized at run time (`zeroctl scale`): Engine.resize gives the pool's internal service
# new hard links, Engine.remove forgets the instances it shrank away. Instances here are named
# w0, w1, ... (the engine does not care how names look; the root names them pool@0, ...).
"""Scenario tests of Engine.resize and Engine.remove."""

from __future__ import annotations

from actors.engine import State
from tests.engine_checks import got, in_order, see
from tests.engine_sim import NO, Sim, internal, proc


def pool(count: int, **kw):
    return internal("pool", instances=count, depends_on=tuple(f"w{i}" for i in range(count)),
                    **kw)


def workers(count: int, **kw):
    return [proc(f"w{i}", restart=NO, **kw) for i in range(count)]


def resize(s: Sim, count: int):
    outcome = s.engine.resize(pool(count), s.now)
    s._absorb()
    return outcome


def started_pool(count: int, spare: int = 0) -> Sim:
    """A started pool of `count` instances, and `spare` more loaded, not in it."""
    s = Sim(*workers(count + spare), pool(count))
    s.start("pool")
    for i in range(count):
        s.execs(f"w{i}")
    assert s.state("pool") == "started"
    return s


def test_growing_a_started_pool_starts_the_new_instances_at_once_and_touches_no_other():
    # pool of 2, started; resized to 4: w2 and w3 are spawned in the same step, w0/w1 untouched.
    s = started_pool(2, spare=2)
    assert resize(s, 4).ok
    got(s, "w2 starting", "w3 starting", "spawn w2", "spawn w3")
    see(s, pool="started/started explicit", w0="started/started pid", w1="started/started pid")
    s.execs("w2")
    s.execs("w3")
    see(s, w2="started/started pid", w3="started/started pid")
    assert s.engine.spec("pool").instances == 4


def test_shrinking_stops_the_highest_indexes_first_and_keeps_them_stopped():
    # pool of 4, started; resized to 1: w3, w2, w1 are signalled in that order; w0 stays.
    s = started_pool(4)
    assert resize(s, 1).ok
    assert s.signals() == [("w3", "SIGTERM"), ("w2", "SIGTERM"), ("w1", "SIGTERM")]
    for name in ("w3", "w2", "w1"):
        s.exits(name)
    see(s, pool="started/started explicit", w0="started/started pid",
        w1="stopped/stopped why=normal", w3="stopped/stopped why=normal")
    # Nothing holds them any more: they can be forgotten; a running one cannot.
    assert s.engine.remove("w3").ok and "w3" not in s.engine
    assert not s.engine.remove("w0").ok
    assert s.engine.names() == ["w0", "w1", "w2", "pool"]


def test_an_instance_that_crashes_restarts_alone():
    # A started pool of 3 with restart = yes; w1 is killed: only w1 is spawned again.
    s = Sim(*[proc(f"w{i}", restart_delay=0.1) for i in range(3)], pool(3))
    s.start("pool")
    pids = [s.execs(f"w{i}") for i in range(3)]
    s.exits("w1", signal="SIGKILL")
    assert s.signals() == [] and s.kills() == []
    s.advance_to_deadline()
    assert s.spawned() == ["w1"]
    s.execs("w1")
    # The pool itself went down and up with w1 (a hard dependent is rolled back): no process.
    see(s, pool="started/started explicit restarts=1",
        w1="started/started pid why=terminated restarts=1")
    assert [s.engine.pid("w0"), s.engine.pid("w2")] == [pids[0], pids[2]]


def test_a_pool_waiting_for_its_instances_waits_for_new_ones_too():
    # pool of 1 starting (w0 not up yet); grown to 2: it starts only once both are up.
    s = Sim(*workers(2), pool(1))
    s.start("pool")
    assert resize(s, 2).ok
    assert s.spawned() == ["w1"]
    s.execs("w0")
    assert s.state("pool") == "starting"
    s.execs("w1")
    in_order(s, "w1 started", "pool started")


def test_a_pool_waiting_only_for_instances_it_drops_starts():
    # pool of 2 starting, w0 up, w1 still spawning; shrunk to 1: the pool is started at once.
    s = Sim(*workers(2), pool(2))
    s.start("pool")
    s.execs("w0")
    assert resize(s, 1).ok
    assert s.state("pool") == "started"
    assert s.status("w1")["target"] == "stopped"


def test_shrinking_to_zero_stops_every_instance_and_leaves_the_pool_started():
    # pool of 2, started; resized to 0: both stop; the pool, with nothing to wait for, stays up.
    s = started_pool(2)
    assert resize(s, 0).ok
    assert s.signals() == [("w1", "SIGTERM"), ("w0", "SIGTERM")]
    s.exits("w1")
    s.exits("w0")
    see(s, pool="started/started explicit", w0="stopped/stopped why=normal")
    assert s.engine.active_count == 1


def test_growing_a_stopped_pool_starts_nothing_until_it_is_started():
    # pool of 1, stopped; grown to 3: no spawn; `start pool` then starts all three.
    s = Sim(*workers(3), pool(1))
    assert resize(s, 3).ok
    assert s.spawned() == []
    s.start("pool")
    assert sorted(s.spawned()) == ["w0", "w1", "w2"]


def test_shrinking_is_refused_while_another_service_needs_the_instance():
    # web depends on w2; shrinking the pool to 2 would stop w2 under it: refused, unchanged.
    s = Sim(*workers(3), pool(3), internal("web", depends_on=("w2",)))
    s.start("pool")
    s.start("web")
    for i in range(3):
        s.execs(f"w{i}")
    outcome = resize(s, 2)
    assert not outcome.ok and outcome.dependents == ("web",)
    assert "w2 has started dependents: web" in outcome.message
    assert s.last == [] and s.engine.spec("pool").instances == 3
    assert s.engine.state("w2") is State.STARTED


def test_a_removed_service_is_ordered_again_when_loaded_again():
    # db declares `after = w1`; w1 is removed, then loaded again: the ordering link re-forms.
    s = Sim(*workers(2), pool(2), internal("db", after=("w1",)))
    assert resize(s, 1).ok
    assert s.engine.remove("w1").ok
    s.engine.add(workers(2)[1:])
    assert resize(s, 2).ok
    s.start("pool")
    s.start("db")
    assert s.state("db") == "starting"  # waits for w1, which is starting
    s.execs("w1")
    assert s.state("db") == "started"
