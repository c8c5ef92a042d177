"""A fake clock and a fake process table around the engine, for scenario and property tests.

`Sim` plays the part of the actors: it collects the effects the engine asks for (spawns,
signals, kills) and lets a test answer them as the watchers would ("the exec succeeded", "the
process exited with code 1"), jumping time instead of sleeping.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from actors.engine import (Engine, ExitStatus, Kill, Notify, Outcome, Role, Signal, Spawn)
from actors.loader.spec import (DepKind, ReadyKind, ReadyNotification, RestartPolicy, ServiceSpec,
                         ServiceType)


def internal(name: str, **kw) -> ServiceSpec:
    return ServiceSpec(name, ServiceType.INTERNAL, **kw)


def proc(name: str, **kw) -> ServiceSpec:
    kw.setdefault("command", (f"/bin/{name}",))
    return ServiceSpec(name, ServiceType.PROCESS, **kw)


def scripted(name: str, **kw) -> ServiceSpec:
    kw.setdefault("command", (f"/bin/{name}-start",))
    return ServiceSpec(name, ServiceType.SCRIPTED, **kw)


READY_FD = ReadyNotification(ReadyKind.PIPEFD, fd=3)
NO, YES, ON_FAILURE = RestartPolicy.NO, RestartPolicy.YES, RestartPolicy.ON_FAILURE
REG, MS, WAITS, AFTER, BEFORE = (DepKind.REGULAR, DepKind.MILESTONE, DepKind.WAITS_FOR,
                                 DepKind.AFTER, DepKind.BEFORE)


@dataclass
class FakeProcess:
    service: str
    role: Role
    pid: int | None = None       # None until the exec is reported
    signals: list[str] = field(default_factory=list)
    killed: bool = False
    ready: bool = False          # it reported ready


class Sim:
    """The engine plus a fake world. Every method advances nothing but what it says."""

    def __init__(self, *specs: ServiceSpec):
        self.engine = Engine()
        self.engine.add(specs)
        self.now = 0.0
        self._pids = itertools.count(1000)
        # Processes per service: the start role, or the stop command of a process service.
        self.procs: dict[tuple[str, Role], FakeProcess] = {}
        self.history: list = []  # every effect ever produced, in order
        self.last: list = []     # the effects of the last step
        self._absorb()

    # --- time ---------------------------------------------------------------------------------

    def tick(self, dt: float) -> list:
        self.now += dt
        self.engine.advance(self.now)
        return self._absorb()

    def advance_to_deadline(self) -> list:
        deadline = self.engine.next_deadline()
        assert deadline is not None, "no deadline is armed"
        self.now = max(self.now, deadline)
        self.engine.advance(self.now)
        return self._absorb()

    # --- commands -----------------------------------------------------------------------------

    def start(self, name: str) -> Outcome:
        return self._command(self.engine.start(name, self.now))

    def stop(self, name: str, force: bool = False) -> Outcome:
        return self._command(self.engine.stop(name, self.now, force))

    def release(self, name: str) -> Outcome:
        return self._command(self.engine.release(name, self.now))

    def wake(self, name: str) -> Outcome:
        return self._command(self.engine.wake(name, self.now))

    def restart(self, name: str, force: bool = False) -> Outcome:
        return self._command(self.engine.restart(name, self.now, force))

    def shutdown(self) -> list:
        self.engine.shutdown(self.now)
        return self._absorb()

    def _command(self, outcome: Outcome) -> Outcome:
        self._absorb()
        return outcome

    # --- reports from processes ---------------------------------------------------------------

    def execs(self, name: str, role: Role = Role.START) -> int:
        """The pending spawn of `name` executed; returns its pid."""
        proc = self.procs[(name, role)]
        assert proc.pid is None, f"{name} {role.value} already executing"
        proc.pid = next(self._pids)
        self.engine.on_spawned(name, proc.pid, self.now, role)
        self._absorb()
        return proc.pid

    def exec_fails(self, name: str, reason: str = "No such file or directory",
                   role: Role = Role.START) -> list:
        proc = self.procs.pop((name, role))
        assert proc.pid is None
        self.engine.on_spawn_failed(name, reason, self.now, role)
        return self._absorb()

    def ready(self, name: str) -> list:
        proc = self.procs.get((name, Role.START))
        if proc is not None:
            proc.ready = True
        self.engine.on_ready(name, self.now)
        return self._absorb()

    def ready_fails(self, name: str) -> list:
        self.engine.on_ready_failed(name, self.now)
        return self._absorb()

    def exits(self, name: str, code: int | None = None, signal: str | None = None,
              role: Role = Role.START) -> list:
        """The running process of `name` ended (by default: by the last signal it was sent,
        else with code 0)."""
        proc = self.procs.pop((name, role))
        assert proc.pid is not None, f"{name} {role.value} has no running process"
        if code is None and signal is None:
            if proc.killed:
                signal = "SIGKILL"
            elif proc.signals:
                signal = proc.signals[-1]
            else:
                code = 0
        self.engine.on_exited(name, ExitStatus(code, signal), self.now, role)
        return self._absorb()

    def up(self, name: str) -> int:
        """Shortcut: the pending spawn executes (and reports ready if it uses readiness)."""
        pid = self.execs(name)
        if self.engine.spec(name).ready_notification is not None:
            self.ready(name)
        return pid

    # --- what happened ------------------------------------------------------------------------

    def _absorb(self) -> list:
        effects = self.engine.take_effects()
        for effect in effects:
            if isinstance(effect, Spawn):
                key = (effect.service, effect.role)
                assert key not in self.procs or self.procs[key].pid is None or \
                    effect.role is Role.STOP, f"spawn of {key} while one runs"
                self.procs[key] = FakeProcess(effect.service, effect.role)
            elif isinstance(effect, Signal):
                for role in Role:
                    proc = self.procs.get((effect.service, role))
                    if proc is not None and (role is Role.START or self._is_scripted(effect.service)):
                        proc.signals.append(effect.signal)
            elif isinstance(effect, Kill):
                for role in Role:
                    proc = self.procs.get((effect.service, role))
                    if proc is not None:
                        proc.killed = True
        self.history.extend(effects)
        self.last = effects
        return effects

    def _is_scripted(self, name: str) -> bool:
        return self.engine.spec(name).type is ServiceType.SCRIPTED

    def state(self, name: str) -> str:
        return self.engine.status(name)["state"]

    def states(self, *names: str) -> tuple[str, ...]:
        return tuple(self.state(n) for n in names)

    def status(self, name: str) -> dict:
        return self.engine.status(name)

    def spawned(self, effects: list | None = None) -> list[str]:
        """Names spawned (start role) among `effects` (default: the last step's)."""
        effects = self.last if effects is None else effects
        return [e.service for e in effects if isinstance(e, Spawn) and e.role is Role.START]

    def signals(self, effects: list | None = None) -> list[tuple[str, str]]:
        effects = self.last if effects is None else effects
        return [(e.service, e.signal) for e in effects if isinstance(e, Signal)]

    def kills(self, effects: list | None = None) -> list[str]:
        effects = self.last if effects is None else effects
        return [e.service for e in effects if isinstance(e, Kill)]

    def events(self, effects: list | None = None) -> list[tuple[str, str]]:
        effects = self.last if effects is None else effects
        return [(e.service, e.event) for e in effects if isinstance(e, Notify)]

    def running(self, name: str, role: Role = Role.START) -> bool:
        proc = self.procs.get((name, role))
        return proc is not None and proc.pid is not None

    def pending_spawn(self, name: str, role: Role = Role.START) -> bool:
        proc = self.procs.get((name, role))
        return proc is not None and proc.pid is None
