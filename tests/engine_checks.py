"""Compact assertions for the engine's scenario tests (process, scripted and timer rules).

`fx(sim)` turns the last step's effects into short strings, in the order the engine produced
them, so a test can compare the whole list at once:

    "spawn p"                 Spawn(p, Role.START)
    "spawn-stop p"            Spawn(p, Role.STOP)
    "signal p SIGTERM"        Signal to the process group
    "signal p SIGTERM only"   Signal to the process alone (signal-process-only)
    "kill p"                  Kill
    "p starting"              Notify (event: starting, started, stopping, stopped, failed)
    "log p warning"           Log (the message: `logs(sim)`)
    "retire p", "chain p q", "idle"
    "rejected p spawned"      Rejected: an input the lifecycle table marks impossible

`check(sim, name, state, target, ...)` compares all eight status fields a script relies on
(state, target, pid, failed, stop_reason, exit, restarts, explicit) at once; the keyword
defaults describe a quiet service, so a test names only what differs. `wait(sim, dt)` lets
time pass and asserts that nothing at all happened.

The dependency scenarios use a lighter notation: `got(s, ...)` (exactly these effects, in any
order), `in_order(s, ...)` and `see(s, name="state/target flags...")` (see its docstring).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from actors.engine import (Chain, Idle, Kill, Log, Notify, Rejected, Retire, Role, Signal,
                           Spawn, StopReason)

FIELDS = ("state", "target", "pid", "failed", "stop_reason", "exit", "restarts", "explicit")


def code(n: int) -> dict[str, Any]:
    """The `exit` field of a process that exited with code `n`."""
    return {"code": n, "signal": None}


def sig(name: str) -> dict[str, Any]:
    """The `exit` field of a process killed by signal `name`."""
    return {"code": None, "signal": name}


def _short(effect) -> str:
    if isinstance(effect, Spawn):
        prefix = "spawn" if effect.role is Role.START else "spawn-stop"
        return f"{prefix} {effect.service}"
    if isinstance(effect, Signal):
        return f"signal {effect.service} {effect.signal}" + ("" if effect.group else " only")
    if isinstance(effect, Kill):
        return f"kill {effect.service}"
    if isinstance(effect, Notify):
        assert effect.status.name == effect.service
        if effect.event != "failed":
            # A state change carries the status as it is just after it.
            assert effect.status.state.value == effect.event, effect
        return f"{effect.service} {effect.event}"
    if isinstance(effect, Log):
        return f"log {effect.service} {effect.level}"
    if isinstance(effect, Retire):
        return f"retire {effect.service}"
    if isinstance(effect, Chain):
        return f"chain {effect.service} {effect.target}"
    if isinstance(effect, Idle):
        return "idle"
    if isinstance(effect, Rejected):
        return f"rejected {effect.service} {effect.what}"
    raise AssertionError(f"unknown effect {effect!r}")


def fx(sim, effects: list | None = None) -> list[str]:
    """The last step's effects (or `effects`), in order, as short strings."""
    return [_short(e) for e in (sim.last if effects is None else effects)]


def logs(sim, effects: list | None = None) -> list[tuple[str, str, str]]:
    """(service, level, message) of every Log among the last step's effects."""
    effects = sim.last if effects is None else effects
    return [(e.service, e.level, e.message) for e in effects if isinstance(e, Log)]


def notes(sim, effects: list | None = None) -> list[Notify]:
    effects = sim.last if effects is None else effects
    return [e for e in effects if isinstance(e, Notify)]


def check(sim, name: str, state: str, target: str, *, pid: int | None = None,
          failed: bool = False, reason: str | None = None, exit: dict | None = None,
          restarts: int = 0, explicit: bool = False) -> None:
    """Assert every status field a script relies on (`reason` is the stop_reason)."""
    status = sim.status(name)
    got = {field: status[field] for field in FIELDS}
    want = {"state": state, "target": target, "pid": pid, "failed": failed,
            "stop_reason": reason, "exit": exit, "restarts": restarts, "explicit": explicit}
    assert got == want, f"{name}: got {got}"


def deadline(sim) -> float | None:
    return sim.engine.next_deadline()


def wait(sim, dt: float) -> None:
    """Let `dt` seconds pass with no timer due: assert no effect and no status change at all."""
    before = sim.engine.statuses()
    sim.tick(dt)
    assert fx(sim) == []
    assert sim.engine.statuses() == before


REASONS = tuple(reason.value for reason in StopReason)


def got(s, *expected: str) -> None:
    """The last step's effects were exactly these, in any order (see `fx` for the notation)."""
    assert Counter(fx(s)) == Counter(expected), fx(s)


def in_order(s, *items: str) -> None:
    """These effects of the last step came in this relative order."""
    effects = fx(s)
    positions = [effects.index(item) for item in items]
    assert positions == sorted(positions), effects


def running_pid(s, name: str) -> int | None:
    """The pid of the service's running fake process: its start role, else its stop command."""
    for role in (Role.START, Role.STOP):
        process = s.procs.get((name, role))
        if process is not None and process.pid is not None:
            return process.pid
    return None


def see(s, **want: str) -> None:
    """Check the status of each named service against a short description:
    "state/target", then any of: `explicit`, `failed`, `why=<stop_reason>`, `restarts=N`, and
    `pid` (the pid of its running fake process; without it, the pid must be None)."""
    for name, spec in want.items():
        tokens = spec.split()
        state, target = tokens[0].split("/")
        flags = set(tokens[1:])
        why = [t[4:] for t in flags if t.startswith("why=")]
        assert all(w in REASONS for w in why), spec
        restarts = [int(t[9:]) for t in flags if t.startswith("restarts=")]
        expected = {
            "state": state, "target": target,
            "explicit": "explicit" in flags, "failed": "failed" in flags,
            "stop_reason": why[0] if why else None,
            "restarts": restarts[0] if restarts else 0,
            "pid": running_pid(s, name) if "pid" in flags else None,
        }
        if "pid" in flags:
            assert expected["pid"] is not None, f"{name} has no running process"
        status = s.status(name)
        actual = {key: status[key] for key in expected}
        assert actual == expected, f"{name}: {actual}"


def active(s) -> int:
    return s.engine.active_count
