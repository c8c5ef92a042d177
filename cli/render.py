"""zeroctl's human output: aligned tables, status blocks, the dependency tree, event lines.
States are coloured only on a terminal (and never with NO_COLOR set)."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

_COLOURS = {"started": "32", "starting": "33", "stopping": "33", "failed": "31"}


def _colour(text: str, state: str, failed: bool = False) -> str:
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return text
    code = _COLOURS.get("failed" if failed else state)
    return f"\033[{code}m{text}\033[0m" if code else text


def _state_word(status: dict[str, Any]) -> str:
    state = status["state"]
    if state == "stopped" and status["failed"]:
        return "failed"
    if state in ("starting", "started") and status["target"] == "stopped":
        return f"{state}->stop"
    if state == "stopping" and status["target"] == "started":
        return "restarting"
    return state


def _notes(status: dict[str, Any]) -> str:
    notes = []
    if status.get("explicit"):
        notes.append("explicit")
    if status.get("instances"):
        notes.append(_instances(status["instances"], "/") + " instances started")
    if status["failed"] or status["state"] == "stopped":
        if status.get("reason"):
            notes.append(status["reason"])
        elif status.get("stop_reason") not in (None, "normal"):
            notes.append(status["stop_reason"])
    return ", ".join(notes)


def _instances(inst: dict[str, Any], of: str) -> str:
    # "wanted" is newer than "total" (they are equal); an older supervisor sends only "total".
    return f"{inst['started']}{of}{inst.get('wanted', inst['total'])}"


def _leaving(inst: dict[str, Any]) -> str:
    leaving = inst.get("leaving") or 0
    return f" ({leaving} more stopping)" if leaving else ""


def scaled(status: dict[str, Any]) -> str:
    """After `zeroctl scale`: the pool's new size and where it stands."""
    inst = status["instances"]
    return (f"Pool '{status['name']}' scaled to {inst['wanted']}: "
            f"{_instances(inst, ' of ')} started{_leaving(inst)}.")


def table(statuses: list[dict[str, Any]]) -> str:
    if not statuses:
        return "No service is loaded."
    rows = [("STATE", "NAME", "TYPE", "PID", "RESTARTS", "NOTES")]
    for s in statuses:
        rows.append((_state_word(s), s["name"], s["type"], str(s["pid"] or "-"),
                     str(s["restarts"] or ""), _notes(s)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]
        if index:
            status = statuses[index - 1]
            cells[0] = _colour(cells[0], status["state"], status["failed"])
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def status_blocks(result: dict[str, Any] | list[dict[str, Any]]) -> str:
    statuses = result if isinstance(result, list) else [result]
    return "\n\n".join(_status_block(s) for s in statuses)


def _status_block(s: dict[str, Any]) -> str:
    state = _colour(_state_word(s), s["state"], s["failed"])
    lines = [f"{s['name']} ({s['type']})",
             f"  state:      {state} (target {s['target']})",
             f"  activation: {'explicit' if s['explicit'] else 'by dependents' if s['state'] != 'stopped' else 'none'}"]
    if s.get("since"):
        lines.append(f"  since:      {_since(s['since'])}")
    if s["pid"]:
        lines.append(f"  pid:        {s['pid']}")
    lines.append(f"  restarts:   {s['restarts']}")
    if s.get("status_text"):
        lines.append(f"  status:     {s['status_text']}")  # sd_notify STATUS=
    notify = s.get("notify") or {}
    said = [word for word in ("stopping", "reloading") if notify.get(word)]
    if said:
        lines.append(f"  notify:     {', '.join(said)}")
    if s.get("stop_reason"):
        lines.append(f"  stopped:    {s['stop_reason']}")
    if s.get("reason"):
        lines.append(f"  reason:     {s['reason']}")
    if s.get("exit"):
        lines.append(f"  last exit:  {_describe_exit(s['exit'])}")
    if s.get("instances"):
        lines.append(f"  instances:  {_instances(s['instances'], ' of ')} started"
                     + _leaving(s["instances"]))
    for key, label in (("depends_on", "depends on"), ("depends_ms", "milestones"),
                       ("waits_for", "waits for")):
        if s.get(key):
            lines.append(f"  {label + ':':<11} {', '.join(s[key])}")
    return "\n".join(lines)


def _since(when: float, now: float | None = None) -> str:
    """`14:02:11 (3m 12s ago)`: the local time of a state change, and how long ago."""
    import time
    now = time.time() if now is None else now
    ago = max(0, int(now - when))
    days, rest = divmod(ago, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v]
    clock = time.strftime("%Y-%m-%d %H:%M:%S" if days else "%H:%M:%S", time.localtime(when))
    return f"{clock} ({' '.join(parts[:2] + ([f'{seconds}s'] if len(parts) < 2 else []))} ago)"


def outcome(result: dict[str, Any] | list[dict[str, Any]], command: str, waited: bool) -> str:
    statuses = result if isinstance(result, list) else [result]
    lines = []
    for s in statuses:
        if not waited:
            lines.append(f"Issued {command} for service '{s['name']}' ({s['state']}).")
        else:
            lines.append(f"Service '{s['name']}' {s['state']}.")
    return "\n".join(lines)


def tree(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No service is loaded."
    lines = []
    open_levels: list[bool] = []  # per depth: does a later sibling follow?
    for index, row in enumerate(rows):
        depth = row["depth"]
        last = _is_last_sibling(rows, index)
        del open_levels[depth:]
        prefix = "".join("│  " if more else "   " for more in open_levels[1:])
        if depth:
            prefix += "└─ " if last else "├─ "
        open_levels.append(not last)
        link = f" ({row['link']})" if row["link"] not in (None, "depends-on") else ""
        state = _colour(_state_word(row), row["state"], row["failed"])
        lines.append(f"{prefix}{row['name']} [{state}]{link}")
    return "\n".join(lines)


def _is_last_sibling(rows: list[dict[str, Any]], index: int) -> bool:
    depth = rows[index]["depth"]
    for row in rows[index + 1:]:
        if row["depth"] < depth:
            return True
        if row["depth"] == depth:
            return False
    return True


def event_line(event: dict[str, Any], seen: dict[str, dict[str, Any]] | None = None) -> str:
    """`12:00:01 web stopped: exited with code 1`: the change, and why where there is a why.
    `seen` is the last status of each service met so far in the stream, which says which
    dependency took a service down ("dependency db is stopping")."""
    stamp = time.strftime("%H:%M:%S", time.localtime(event["time"]))
    detail = ""
    if event["event"] == "started" and event.get("pid"):
        detail = f" (pid {event['pid']})"
    elif event["event"] in ("failed", "stopped", "stopping"):
        why = event_reason(event, seen or {})
        detail = f": {why}" if why else ""
    word = _colour(event["event"], event["state"], event["event"] == "failed")
    return f"{stamp} {event['name']} {word}{detail}"


_STOP_REASONS = {
    "dep-restart": "a dependency is restarting",
    "dep-failed": "a dependency failed",
    "timed-out": "timed out",
    "exec-failed": "could not be executed",
    "watchdog": "the watchdog expired",
    "unhealthy": "its health check failed",
}


def event_reason(event: dict[str, Any], seen: dict[str, dict[str, Any]]) -> str:
    """Why a service failed or stopped, in words: the engine's reason for a failure
    ("process exited with code 1"), else the stop reason, else the hard dependency seen
    going down just before, else how its process ended."""
    if event.get("reason"):
        return event["reason"]
    reason = event.get("stop_reason")
    if reason in _STOP_REASONS:
        return _STOP_REASONS[reason]
    for name in event.get("depends_on", ()):
        state = seen.get(name, {}).get("state")
        if state == "stopping":
            return f"dependency {name} is stopping"
        if state == "stopped":
            return f"dependency {name} stopped"
    exit = event.get("exit")
    if event["event"] == "stopped" and exit and reason not in (None, "normal"):
        return _describe_exit(exit)
    return ""


def _describe_exit(exit: dict[str, Any]) -> str:
    # As the engine words it (actors/engine/model.py, ExitStatus.describe).
    if exit.get("signal"):
        return f"killed by {exit['signal']}"
    return f"exited with code {exit['code']}"
