"""Both ends of a root's succession: keeping what the next root will need (`Keeper`), and, in a
new root, taking its predecessor's watchers back (`TakeBack`).

Take-back, in order:
1. The state file (`state_file.py`) gives the key (so the old watchers can log in), the
   explicit activations, restart counts and started services, and whom to wait for: the
   watchers still alive.
2. No service is started until each of them has said hello, or `WAIT` has passed (a watcher
   retries the root at least every 2 s, so each one that is alive comes back well within it).
   Each hello creates the service's handle in the watcher table and is kept here.
3. Then the services are activated as usual. When the engine asks for a start command that
   a taken-back watcher already runs, no order goes out: the engine is told the process was
   spawned (and ready, if the watcher saw it ready). A scripted service that was started and
   whose watcher is idle is told its start command ran. So dependency order, readiness and
   every rule stay the engine's, and nothing is started twice.
4. What is left: a watcher whose service no longer exists, or is no longer wanted, is stopped
   (with the reason on the console); a watcher that did not come back leaves its service to be
   started by its policy, after its old process, if it still runs, is killed (it would run
   twice otherwise: nobody can take back a process without its watcher).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actors.engine import Engine, ExitStatus, Role
from actors.loader.kinds import ServiceType
from actors.root.state_file import SavedState

WAIT = 5.0  # seconds a new root waits for its predecessor's watchers before starting anything


@dataclass
class Hello:
    service: str
    watcher_pid: int
    pid: int | None
    role: str | None
    ready: bool
    exit: dict[str, Any] | None

    @property
    def running_start(self) -> bool:
        return self.pid is not None and self.role == Role.START.value


class TakeBack:
    def __init__(self, saved: SavedState, now: float, wait: float = WAIT):
        self.saved = saved
        self.expected = {name for name, pid in saved.watchers.items() if _alive(pid)}
        self.deadline = now + wait
        self.hellos: dict[str, Hello] = {}
        self.claimed: set[str] = set()
        self.collecting = bool(self.expected)

    def on_hello(self, service: str, report: dict[str, Any]) -> Hello:
        hello = Hello(service, report["watcher_pid"], report["pid"], report["role"],
                      report["ready"], report["exit"])
        self.hellos[service] = hello
        return hello

    def due(self, now: float) -> bool:
        """Every expected watcher is back, or the wait is over: start the services now."""
        return self.collecting and (self.expected <= self.hellos.keys() or now >= self.deadline)

    def claim(self, engine: Engine, service: str, role: Role, now: float) -> bool:
        """The engine asks for `service`'s `role` command: if a taken-back watcher already
        ran it, tell the engine so and return True (no order is to be sent)."""
        hello = self.hellos.get(service)
        if hello is None or service in self.claimed or role is not Role.START:
            return False
        if hello.running_start:
            self.claimed.add(service)
            engine.on_spawned(service, hello.pid, now)
            if hello.ready:
                engine.on_ready(service, now)
        elif hello.pid is None and service in self.saved.started and _clean(hello.exit) \
                and engine.spec(service).type is ServiceType.SCRIPTED:
            self.claimed.add(service)
            engine.on_spawned(service, 0, now)
            engine.on_exited(service, ExitStatus(0, None), now)
        else:
            return False
        last = hello.exit
        engine.restore(service, self.saved.restarts.get(service, 0),
                       ExitStatus(last.get("code"), last.get("signal")) if last else None)
        return True

    def unclaimed(self) -> list[Hello]:
        return [h for name, h in self.hellos.items() if name not in self.claimed]

    def missing(self) -> list[str]:
        return sorted(self.expected - self.hellos.keys())

    def kill_orphan(self, service: str) -> int | None:
        """The process of a service whose watcher did not come back, if it still runs (the same
        pid and start time as recorded): killed with its process group. Returns its pid."""
        recorded = self.saved.daemons.get(service)
        if recorded is None:
            return None
        pid, started = recorded
        if pid <= 1 or start_time(pid) != started:
            return None
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except OSError:
            return None
        return pid


class Keeper:
    """Keeps the state file up to date: rebuilt after each step, written only when changed."""

    def __init__(self, path: str, state: SavedState, save: Callable[[str, SavedState], None]):
        self.path, self.state, self._save = path, state, save
        self._written = b""
        self._start_times: dict[int, int] = {}

    def update(self, engine: Engine, watcher_pids: dict[str, int], pids: dict[str, int],
               pool_sizes: dict[str, int] | None = None) -> None:
        """`pids`: each service's daemon, as verified by the watcher table; `pool_sizes`: the
        pools sized at run time (`zeroctl scale`)."""
        explicit, restarts, started = engine.durable_facts()
        state = self.state
        state.explicit, state.restarts, state.started = explicit, restarts, started
        state.scale = dict(pool_sizes or {})
        state.watchers = watcher_pids
        state.daemons = {}
        for service, pid in pids.items():
            if pid not in self._start_times:
                self._start_times[pid] = start_time(pid)
            state.daemons[service] = (pid, self._start_times[pid])
        if len(self._start_times) > 4 * len(pids) + 64:
            alive = set(pids.values())
            self._start_times = {p: t for p, t in self._start_times.items() if p in alive}
        data = state.encode()
        if data != self._written:
            self._save(self.path, state)
            self._written = data


def start_time(pid: int) -> int:
    """A process's start time in clock ticks since boot (/proc/PID/stat field 22), or -1: with
    the pid, it names one process for good, whatever pids are reused."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return -1


def _alive(pid: int) -> bool:
    if pid <= 1:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean(exit: dict[str, Any] | None) -> bool:
    return exit is not None and exit.get("code") == 0 and exit.get("signal") is None
