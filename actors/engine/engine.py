"""The engine's public face: load services, take commands and process reports, fire timers,
and hand out the effects and status objects that follow.

Every entry point takes `now` (monotonic seconds), runs the rules to a fixed point, and leaves
the resulting effects to be collected with `take_effects()`. Commands answer with an `Outcome`:
a refusal is data, never an exception, and names what would have to change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from actors.engine.graph import ServiceGraph
from actors.engine.links import DeclaredLinks
from actors.engine.model import Effect, ExitStatus, Idle, Role, Snapshot, State, TimerKind
from actors.engine.phases import Input
from actors.engine.record import NotifyState, ServiceRecord
from actors.engine.status import snapshot_of, status_object
from actors.loader.spec import DepKind, ServiceSpec


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to a command. `dependents` lists what blocked a gentle stop or restart."""

    ok: bool
    message: str = ""
    dependents: tuple[str, ...] = ()


ACCEPTED = Outcome(True)


class UnknownService(KeyError):
    """A name the engine has no record for (the caller loads services before naming them)."""


class Engine:
    """The dependency engine: pure, single-threaded, driven by calls; see the package essay."""

    def __init__(self) -> None:
        self._g = ServiceGraph()
        self._links = DeclaredLinks(self._g)

    # -----------------------------------------------------------------------------------------
    # Loading
    # -----------------------------------------------------------------------------------------

    def add(self, specs: Iterable[ServiceSpec]) -> None:
        """Add services. Their dependencies must be loaded already or be in `specs`; `before`
        and `after` may name services that are not loaded (the link forms when they load)."""
        specs = list(specs)
        records = self._g.records
        for spec in specs:
            if spec.name in records:
                raise ValueError(f"service {spec.name!r} is already loaded")
        names = {spec.name for spec in specs}
        for spec in specs:
            for dep in spec.requires():
                if dep not in records and dep not in names:
                    raise ValueError(f"{spec.name}: dependency {dep!r} is not loaded")
        for spec in specs:
            records[spec.name] = ServiceRecord(spec)
        for spec in specs:
            self._links.link(records[spec.name])
        self._g.process_queues()

    def reload(self, spec: ServiceSpec, now: float) -> Outcome:
        """Replace a service's description, if the change is safe in its current state (dinit's
        rules: a running service keeps its type, isn't starting or stopping, and gains no hard
        dependency that is not started)."""
        g = self._g
        g.now = now
        rec = self._record(spec.name)
        if rec.state is not State.STOPPED:
            if spec.type is not rec.spec.type:
                return Outcome(False, f"cannot change the type of {spec.name} while it is "
                                      f"{rec.state.value}; stop it first")
            if rec.state is not State.STARTED:
                return Outcome(False, f"cannot reload {spec.name} while it is {rec.state.value}")
            for dep in spec.depends_on:
                if dep not in rec.spec.depends_on and self._record(dep).state is not State.STARTED:
                    return Outcome(False, f"cannot add dependency {dep} to {spec.name}: {dep} "
                                          f"is not started; start it first")
        for dep in spec.requires():
            self._record(dep)  # the caller loads new dependencies first
        # New links first, old ones after: a dependency kept across the reload never sees its
        # activation count touch zero.
        old_links = self._links.detach(rec)
        rec.spec = spec
        self._links.link(rec)
        for link in old_links:
            g.remove_link(link)
        g.process_queues()
        return ACCEPTED

    def resize(self, spec: ServiceSpec, now: float) -> Outcome:
        """A pool's new size (`zeroctl scale`): `spec` is the pool's internal service with its
        new hard links; the caller loads new instances first. Unlike `reload`, allowed in any
        state. A new link of an active pool acquires at once, so every new instance starts,
        in parallel (a pool still waiting for its dependencies waits for these too). A dropped
        link is removed highest index first, and its instance is stopped and kept stopped;
        refused if another started service hard-depends on it."""
        g = self._g
        g.now = now
        rec = self._record(spec.name)
        old, new = rec.spec.depends_on, spec.depends_on
        added = [self._record(name) for name in new if name not in old]
        dropped = [self._record(name) for name in reversed(old) if name not in new]
        for leaving in dropped:
            blocking = tuple(name for name in self._hard_dependents(leaving)
                             if name != rec.name)
            if blocking:
                return Outcome(False, f"cannot remove {leaving.name} from {rec.name}: "
                               f"{_blocked(leaving.name, 'stop', blocking)}", blocking)
        rec.spec = spec
        for dep in added:
            link = g.add_link(rec, dep, DepKind.REGULAR)
            if rec.state is State.STARTING and rec.waiting_for_deps \
                    and dep.state is not State.STARTED:
                link.waiting_on = True
        for leaving in dropped:
            g.remove_link(next(link for link in rec.deps if link.dependency is leaving
                               and link.kind is DepKind.REGULAR))
            g.stop(leaving, bring_down=True)
        if dropped:
            g.dependency_started(rec)  # it may have been waiting for those only
        g.process_queues()
        return ACCEPTED

    def remove(self, name: str) -> Outcome:
        """Forget a stopped service nothing depends on (an instance a pool shrank away)."""
        rec = self._record(name)
        if rec.state is not State.STOPPED or rec.required_by:
            return Outcome(False, f"cannot remove {name} while it is {rec.state.value}")
        held = tuple(link.dependent.name for link in rec.dependents if not link.is_ordering)
        if held:
            return Outcome(False, f"cannot remove {name}: {', '.join(held)} depend on it", held)
        self._links.unlink(rec)
        rec.timer = None  # its heap entry, if any, goes stale
        del self._g.records[name]
        return ACCEPTED

    def __contains__(self, name: str) -> bool:
        return name in self._g.records

    def names(self) -> list[str]:
        """Every loaded service, in load order."""
        return list(self._g.records)

    def spec(self, name: str) -> ServiceSpec:
        return self._record(name).spec

    def specs(self) -> dict[str, ServiceSpec]:
        return {name: rec.spec for name, rec in self._g.records.items()}

    def _record(self, name: str) -> ServiceRecord:
        try:
            return self._g.records[name]
        except KeyError:
            raise UnknownService(name) from None

    # -----------------------------------------------------------------------------------------
    # Commands
    # -----------------------------------------------------------------------------------------

    def start(self, name: str, now: float) -> Outcome:
        """Activate explicitly, and so start it and its dependencies."""
        rec = self._begin(name, now)
        if self._g.shutting_down:
            return Outcome(False, "cannot start services: shutting down")
        if not rec.explicit:
            rec.explicit = True
            rec.required_by += 1
        self._g.do_start(rec)
        self._g.process_queues()
        return ACCEPTED

    def stop(self, name: str, now: float, force: bool = False) -> Outcome:
        """Stop and remove explicit activation; refused while started services hard-depend on
        it, unless forced, which stops them too. None of the stopped sub-tree restarts."""
        rec = self._begin(name, now)
        if not force:
            blocking = self._hard_dependents(rec)
            if blocking:
                return Outcome(False, _blocked(name, "stop", blocking), blocking)
        self._g.stop(rec, bring_down=True)
        self._g.forced_stop(rec)
        self._g.process_queues()
        return ACCEPTED

    def release(self, name: str, now: float) -> Outcome:
        """Drop explicit activation; it stops only if nothing else needs it."""
        rec = self._begin(name, now)
        self._g.stop(rec, bring_down=False)
        self._g.process_queues()
        return ACCEPTED

    def wake(self, name: str, now: float) -> Outcome:
        """Start again for the active dependents that want it, without explicit activation."""
        rec = self._begin(name, now)
        if self._g.shutting_down:
            return Outcome(False, "cannot wake services: shutting down")
        found = False
        for link in rec.dependents:
            if link.is_ordering or not _wants_to_run(link.dependent):
                continue
            found = True
            if not link.holding_acq:
                link.holding_acq = True
                self._g.require(rec)
        if not found:
            return Outcome(False, f"{name} has no active dependents; cannot wake it "
                                  f"(use start to activate it explicitly)")
        self._g.process_queues()
        return ACCEPTED

    def restart(self, name: str, now: float, force: bool = False) -> Outcome:
        """Stop then start a started service, keeping its activation; with `force`, its hard
        dependents stop first and come back afterwards."""
        rec = self._begin(name, now)
        if self._g.shutting_down:
            return Outcome(False, "cannot restart services: shutting down")
        if rec.state is not State.STARTED:
            return Outcome(False, f"{name} is not started ({rec.state.value}); use start")
        if not force:
            blocking = self._hard_dependents(rec)
            if blocking:
                return Outcome(False, _blocked(name, "restart", blocking), blocking)
        self._g.restart(rec)
        self._g.process_queues()
        return ACCEPTED

    def shutdown(self, now: float) -> None:
        """Stop everything in reverse dependency order; starts are refused from now on, and a
        start under way is interrupted rather than waited for."""
        g = self._g
        g.now = now
        g.shutting_down = True
        was_idle = g.active_count == 0
        for rec in list(g.records.values()):
            g.stop(rec, bring_down=False)
        g.process_queues()
        if was_idle:
            g.effects.append(Idle())  # nothing was running: the supervisor may go at once

    def reopen(self) -> None:
        """Accept starts again after a completed shutdown (for a final service that runs once
        everything else has stopped)."""
        self._g.shutting_down = False

    def _hard_dependents(self, rec: ServiceRecord) -> tuple[str, ...]:
        return tuple(link.dependent.name for link in rec.dependents
                     if link.kind is DepKind.REGULAR and link.holding_acq)

    def _begin(self, name: str, now: float) -> ServiceRecord:
        self._g.now = now
        return self._record(name)

    # -----------------------------------------------------------------------------------------
    # Reports from processes (through the watchers)
    # -----------------------------------------------------------------------------------------

    def on_spawned(self, name: str, pid: int, now: float, role: Role = Role.START) -> None:
        if role is Role.START:
            self._record(name).notify = NotifyState()  # a new process has said nothing yet
        self._report(name, now, Input.SPAWNED if role is Role.START else Input.STOP_SPAWNED, pid)

    def on_spawn_failed(self, name: str, reason: str, now: float,
                        role: Role = Role.START) -> None:
        self._report(name, now, Input.SPAWN_FAILED if role is Role.START
                     else Input.STOP_SPAWN_FAILED, reason)

    def on_ready(self, name: str, now: float) -> None:
        self._report(name, now, Input.READY)

    def on_ready_failed(self, name: str, now: float) -> None:
        self._report(name, now, Input.READY_FAILED)

    def on_extend_timeout(self, name: str, seconds: float, now: float) -> None:
        """sd_notify EXTEND_TIMEOUT_USEC: a start under way gets `seconds` more from now."""
        self._report(name, now, Input.EXTEND_TIMEOUT, seconds)

    def on_watchdog(self, name: str, why: str, now: float) -> None:
        """Its watcher is aborting it for a missed watchdog (`why` says which way)."""
        self._report(name, now, Input.WATCHDOG, why)

    def on_notify_state(self, name: str, state: NotifyState) -> None:
        """What a `notify` service last said of itself (STATUS, STOPPING, RELOADING): shown in
        its status object; no rule depends on it."""
        self._record(name).notify = state

    def on_exited(self, name: str, exit: ExitStatus, now: float,
                  role: Role = Role.START) -> None:
        self._report(name, now, Input.EXITED if role is Role.START else Input.STOP_EXITED, exit)

    def restore(self, name: str, restarts: int, last_exit: ExitStatus | None) -> None:
        """A root taking services back: what its predecessor had counted and seen."""
        rec = self._record(name)
        rec.restarts = restarts
        if last_exit is not None:
            rec.last_exit = last_exit

    def on_lost(self, name: str, now: float) -> None:
        """The service's processes were lost with its watcher (and killed): a spawn still
        awaited failed, a running command ended by SIGKILL."""
        self._report(name, now, Input.LOST)

    def _report(self, name: str, now: float, what: Input, value: object = None) -> None:
        rec = self._begin(name, now)
        self._g.feed(rec, what, value)
        self._g.process_queues()

    # -----------------------------------------------------------------------------------------
    # Time
    # -----------------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """The earliest armed deadline, for the actor's poll timeout; None when nothing waits."""
        return self._g.next_deadline()

    def advance(self, now: float) -> None:
        """Fire every timer due at `now`, one at a time, each to a fixed point."""
        g = self._g
        g.now = now
        while (due := g.pop_due_timer()) is not None:
            rec, kind = due
            g.feed(rec, _TIMER_INPUT[kind])
            g.process_queues()

    # -----------------------------------------------------------------------------------------
    # Results
    # -----------------------------------------------------------------------------------------

    def take_effects(self) -> list[Effect]:
        effects, self._g.effects = self._g.effects, []
        return effects

    def snapshot(self, name: str) -> Snapshot:
        return snapshot_of(self._record(name))

    def status(self, name: str) -> dict[str, Any]:
        """The status object of the contract."""
        return status_object(snapshot_of(self._record(name)))

    def statuses(self) -> list[dict[str, Any]]:
        return [status_object(snapshot_of(rec)) for rec in self._g.records.values()]

    def state(self, name: str) -> State:
        return self._record(name).state

    def pid(self, name: str) -> int | None:
        return self._record(name).pid

    def durable_facts(self) -> tuple[list[str], dict[str, int], list[str]]:
        """What a successor root must be told (see actors/root/state_file.py): the explicitly
        activated services, the non-zero restart counts and the started services."""
        explicit, started, restarts = [], [], {}
        for name, rec in self._g.records.items():
            if rec.explicit:
                explicit.append(name)
            if rec.state is State.STARTED:
                started.append(name)
            if rec.restarts:
                restarts[name] = rec.restarts
        return explicit, restarts, started

    @property
    def active_count(self) -> int:
        return self._g.active_count

    @property
    def shutting_down(self) -> bool:
        return self._g.shutting_down


_TIMER_INPUT = {TimerKind.START: Input.START_TIMEOUT, TimerKind.STOP: Input.STOP_TIMEOUT,
                TimerKind.RESTART: Input.RESTART_DELAY}


def _wants_to_run(rec: ServiceRecord) -> bool:
    """Starting or started, and meant to stay up (not a start that will stop once done)."""
    return rec.state in (State.STARTED, State.STARTING) and rec.target is State.STARTED


def _blocked(name: str, verb: str, dependents: tuple[str, ...]) -> str:
    return (f"{name} has started dependents: {', '.join(dependents)}; "
            f"use --force to {verb} them too")
