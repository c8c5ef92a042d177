# Property-based: random acyclic graphs of every link kind under random event orders keep the rules.
"""Hypothesis builds random dependency graphs (every link kind, every service type and restart
policy) and drives them with random commands, process reports and time jumps. After every step
the invariants of dinit's model must hold; at the end, with every outstanding report delivered,
every service that should run is running.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from actors.engine import Rejected, Kill, Role, Signal, Spawn, State
from actors.engine.graph import ServiceGraph
from actors.engine.phases import RECOVERY, Phase
from actors.loader.spec import (OPTION_SKIPPABLE, OPTION_START_INTERRUPTIBLE, DepKind, RestartPolicy,
                         ServiceSpec, ServiceType)
from tests.engine_sim import READY_FD, Sim

KINDS = [None, None, None, DepKind.REGULAR, DepKind.MILESTONE, DepKind.WAITS_FOR,
         DepKind.AFTER, DepKind.BEFORE]
EXITS = [(0, None), (1, None), (None, "SIGTERM"), (None, "SIGKILL"), (None, "SIGINT"),
         (None, "SIGSEGV")]
MAX_STEPS_PER_EVENT = 200_000


@st.composite
def graphs(draw) -> list[ServiceSpec]:
    """1-7 services s0..sN; links only point from a higher index to a lower one, so the
    graph (ordering links included) is acyclic."""
    n = draw(st.integers(1, 7))
    links: dict[int, dict[DepKind, list[str]]] = {i: {k: [] for k in DepKind} for i in range(n)}
    for i in range(n):
        for j in range(i):
            kind = draw(st.sampled_from(KINDS))
            if kind is DepKind.BEFORE:
                links[j][DepKind.BEFORE].append(f"s{i}")  # s_j before s_i: s_i waits for s_j
            elif kind is not None:
                links[i][kind].append(f"s{j}")
    specs = []
    for i in range(n):
        type_ = draw(st.sampled_from(list(ServiceType)))
        kw = dict(
            depends_on=tuple(links[i][DepKind.REGULAR]),
            depends_ms=tuple(links[i][DepKind.MILESTONE]),
            waits_for=tuple(links[i][DepKind.WAITS_FOR]),
            after=tuple(links[i][DepKind.AFTER]),
            before=tuple(links[i][DepKind.BEFORE]),
            restart=draw(st.sampled_from(list(RestartPolicy))),
        )
        if type_ is not ServiceType.INTERNAL:
            kw.update(
                command=(f"/bin/s{i}",),
                stop_command=draw(st.sampled_from([(), (f"/bin/stop-s{i}",)])),
                start_timeout=draw(st.sampled_from([0.0, 5.0, 60.0])),
                stop_timeout=draw(st.sampled_from([3.0, 10.0])),
                restart_delay=draw(st.sampled_from([0.0, 0.2, 2.0])),
                restart_limit_count=draw(st.sampled_from([0, 1, 3])),
                term_signal=draw(st.sampled_from(["SIGTERM", "SIGTERM", "SIGHUP", None])),
                options=frozenset(draw(st.sets(st.sampled_from(
                    [OPTION_START_INTERRUPTIBLE, OPTION_SKIPPABLE])))),
            )
        if type_ is ServiceType.PROCESS:
            kw.update(smooth_recovery=draw(st.booleans()),
                      ready_notification=draw(st.sampled_from([None, READY_FD])))
        specs.append(ServiceSpec(f"s{i}", type_, **kw))
    return specs


LAUNCHED = frozenset({Phase.LAUNCHING, Phase.RECOVERY_LAUNCHING, Phase.STOP_LAUNCHING})


def is_up(rec) -> bool:
    """Started or running a process, itself or any service that hard-depends on it."""
    todo, seen = [rec], set()
    while todo:
        current = todo.pop()
        if current.state is State.STARTED or current.pid is not None or current.phase in LAUNCHED:
            return True
        seen.add(current.name)
        todo += [link.dependent for link in current.dependents
                 if link.is_hard and link.dependent.name not in seen]
    return False


def describe(specs: list[ServiceSpec]) -> str:
    """A compact, readable form of a generated graph, for failure reports."""
    lines = []
    for spec in specs:
        parts = [spec.type.value, f"restart={spec.restart.value}"]
        for kind, dep in spec.dependencies():
            parts.append(f"{kind.value}={dep}")
        defaults = ServiceSpec(spec.name, spec.type)
        for attr in ("stop_command", "start_timeout", "stop_timeout", "restart_delay",
                     "restart_limit_count", "term_signal", "options", "smooth_recovery",
                     "ready_notification"):
            if getattr(spec, attr) != getattr(defaults, attr):
                parts.append(f"{attr}={getattr(spec, attr)!r}")
        lines.append(f"{spec.name}: " + " ".join(parts))
    return "\n".join(lines)


class CheckedEffects(list):
    """An effects list that checks the safety rules at the moment an effect is produced."""

    def __init__(self, graph: ServiceGraph):
        super().__init__()
        self.graph = graph

    def append(self, effect) -> None:
        records = self.graph.records
        # Reports a real watcher could send, in any order it could send them, never reach a
        # cell the lifecycle table calls impossible.
        assert not isinstance(effect, Rejected), effect
        if isinstance(effect, Spawn) and effect.role is Role.START:
            rec = records[effect.service]
            for link in rec.deps:
                # Nothing is spawned before its dependencies are satisfied.
                assert not link.waiting_on, f"{rec.name} spawned while waiting on {link}"
                if link.kind is DepKind.REGULAR:
                    assert link.dependency.state is State.STARTED, f"{rec.name} spawned: {link}"
        if isinstance(effect, (Signal, Kill)):
            rec = records[effect.service]
            for link in rec.dependents:
                if link.is_hard:
                    # No process is signalled while a hard dependent is still up.
                    assert not is_up(link.dependent), \
                        f"{rec.name} signalled while {link.dependent!r} is up"
        super().append(effect)


class CheckedSim(Sim):
    def __init__(self, *specs):
        self.steps = 0
        super().__init__(*specs)
        graph = self.engine._g
        graph.effects = CheckedEffects(graph)
        original = graph._execute_transition

        def counted(rec):
            self.steps += 1
            assert self.steps < MAX_STEPS_PER_EVENT, "processing does not terminate"
            original(rec)
        graph._execute_transition = counted

    def _absorb(self):
        effects = super()._absorb()
        if hasattr(self, "steps"):
            self.steps = 0
            self.engine._g.effects = CheckedEffects(self.engine._g)
        return effects


def check_invariants(sim: Sim) -> None:
    graph = sim.engine._g
    active = 0
    for rec in graph.records.values():
        # The activation count is explicit activation plus the links holding it.
        holders = sum(1 for link in rec.dependents if link.holding_acq)
        assert rec.required_by == int(rec.explicit) + holders, rec
        assert rec.links_waited == sum(1 for link in rec.deps if link.waiting_on), rec
        # A started service's hard dependencies are started.
        if rec.state is State.STARTED:
            for link in rec.deps:
                if link.kind is DepKind.REGULAR:
                    assert link.dependency.state is State.STARTED, f"{rec!r} up, {link} not"
        if rec.state is State.STOPPED:
            assert not rec.explicit or rec.target is State.STARTED, rec
            assert rec.pid is None and rec.timer is None and rec.phase is Phase.IDLE, rec
            # ...and nothing of it still runs in the (fake) world.
            assert not any(sim.procs.get((rec.name, role)) for role in Role), \
                f"{rec!r} stopped with a process in flight"
            # A service that stopped for good holds none of its dependencies.
            if rec.target is State.STOPPED:
                assert not any(link.holding_acq for link in rec.deps), rec
        active += rec.active
        assert not rec.in_prop_queue and not rec.in_transition_queue
    assert active == graph.active_count


def possible_actions(sim: Sim, names: list[str]) -> list[tuple]:
    actions: list[tuple] = []
    for name in names:
        actions += [("start", name), ("stop", name), ("stop-force", name), ("release", name),
                    ("wake", name), ("restart", name), ("restart-force", name)]
    for (name, role), proc in list(sim.procs.items()):
        if proc.pid is None:
            actions += [("exec", name, role), ("exec-fail", name, role)]
        else:
            actions += [("exit", name, role, code, sig) for code, sig in EXITS]
            rec = sim.engine._g.records[name]
            if role is Role.START and rec.spec.ready_notification is not None:
                actions += [("ready", name), ("ready-fail", name), ("extend", name)]
                if proc.ready:  # a watcher arms the watchdog only once it saw readiness
                    actions.append(("watchdog", name))
    actions += [("tick", 0.1), ("tick", 1.0), ("tick", 30.0), ("shutdown",)]
    return actions


def perform(sim: Sim, action: tuple) -> None:
    verb = action[0]
    if verb == "start":
        sim.start(action[1])
    elif verb == "stop":
        sim.stop(action[1])
    elif verb == "stop-force":
        sim.stop(action[1], force=True)
    elif verb == "release":
        sim.release(action[1])
    elif verb == "wake":
        sim.wake(action[1])
    elif verb == "restart":
        sim.restart(action[1])
    elif verb == "restart-force":
        sim.restart(action[1], force=True)
    elif verb == "exec":
        sim.execs(action[1], action[2])
    elif verb == "exec-fail":
        sim.exec_fails(action[1], role=action[2])
    elif verb == "exit":
        sim.exits(action[1], code=action[3], signal=action[4], role=action[2])
    elif verb == "ready":
        sim.ready(action[1])
    elif verb == "ready-fail":
        sim.ready_fails(action[1])
    elif verb == "extend":
        sim.engine.on_extend_timeout(action[1], 20.0, sim.now)
        sim._absorb()
    elif verb == "watchdog":
        sim.engine.on_watchdog(action[1], "WATCHDOG=trigger", sim.now)
        sim._absorb()
    elif verb == "tick":
        sim.tick(action[1])
    elif verb == "shutdown":
        sim.shutdown()


def settle(sim: Sim) -> None:
    """Deliver everything outstanding, as well-behaved processes would, until nothing is left:
    execs succeed, signalled processes die, ready processes say so, scripts finish, timers fire."""
    for _ in range(2000):
        graph = sim.engine._g
        pending = [(k, p) for k, p in sim.procs.items() if p.pid is None]
        dying = [(k, p) for k, p in sim.procs.items() if p.pid is not None and (p.signals or p.killed)]
        if pending:
            (name, role), _ = pending[0]
            sim.execs(name, role)
        elif dying:
            (name, role), _ = dying[0]
            sim.exits(name, role=role)
        elif (ready := [n for (n, r), p in sim.procs.items() if p.pid is not None
                        and not p.ready
                        and r is Role.START and graph.records[n].spec.ready_notification
                        and (graph.records[n].state is State.STARTING
                             or graph.records[n].phase in RECOVERY)]):
            sim.ready(ready[0])
        elif (scripts := [(n, r) for (n, r), p in sim.procs.items() if p.pid is not None
                          and (graph.records[n].spec.type is ServiceType.SCRIPTED
                               or r is Role.STOP)]):
            sim.exits(scripts[0][0], code=0, role=scripts[0][1])
        elif sim.engine.next_deadline() is not None:
            sim.advance_to_deadline()
        else:
            return
        check_invariants(sim)
    raise AssertionError("the system never settles")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=graphs(), data=st.data())
def test_random_graphs_and_events_keep_the_rules(specs, data):
    note(describe(specs))
    sim = CheckedSim(*specs)
    names = [spec.name for spec in specs]
    check_invariants(sim)
    for _ in range(data.draw(st.integers(1, 40), label="steps")):
        action = data.draw(st.sampled_from(possible_actions(sim, names)), label="action")
        perform(sim, action)
        check_invariants(sim)
    settle(sim)
    # When nothing is pending, every service that should run is running.
    for rec in sim.engine._g.records.values():
        if rec.target is State.STARTED:
            assert rec.state is State.STARTED, f"{rec!r} should be started"
        else:
            assert rec.state is State.STOPPED, f"{rec!r} should be stopped"
    if sim.engine.shutting_down:
        assert sim.engine.active_count == 0


@settings(max_examples=150, deadline=None)
@given(specs=graphs(), data=st.data())
def test_shutdown_always_stops_everything(specs, data):
    note(describe(specs))
    sim = CheckedSim(*specs)
    names = [spec.name for spec in specs]
    for _ in range(data.draw(st.integers(0, 25), label="steps")):
        action = data.draw(st.sampled_from(possible_actions(sim, names)), label="action")
        if action[0] != "shutdown":
            perform(sim, action)
    sim.shutdown()
    settle(sim)
    assert all(rec.state is State.STOPPED for rec in sim.engine._g.records.values())
    assert sim.engine.active_count == 0
