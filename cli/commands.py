"""zeroctl's handlers of the commands that talk to a supervisor, one function each.

Each takes the parsed arguments and the `Session`, and returns an `ExitCode` (None is OK).
A refusal or failure is raised as a `Failure` by the session; nothing here prints an error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cli import render
from cli.exits import E_UNREACHABLE, ExitCode, Failure
from cli.session import Session


def list_services(args: argparse.Namespace, session: Session) -> ExitCode:
    session.show(session.call("list"), render.table)
    return ExitCode.OK


def status(args: argparse.Namespace, session: Session) -> ExitCode:
    # A failed service is reported, not an error (its status says "failed"): exit 0.
    session.show(session.shaped(session.call("status", names=args.names)),
                 render.status_blocks)
    return ExitCode.OK


def start_stop(args: argparse.Namespace, session: Session) -> ExitCode:
    """start, stop and restart: wait (unless --no-wait) until each named service is done."""
    command = args.command
    wait = not getattr(args, "no_wait", False)
    fields: dict[str, Any] = {"names": args.names, "wait": wait}
    if command != "start":
        fields["force"] = args.force
    warning = _takes_everything_down(session, args.names) if command == "stop" else None
    line = None
    if wait and not args.json:
        from cli.progress import WaitLine
        line = WaitLine.on_terminal(session, command)
    try:
        result = session.call(command, until_done=wait,
                              on_wait=line.update if line else None, **fields)
    finally:
        if line:
            line.clear()
    if warning:
        print(f"zeroctl: warning: {warning}", file=sys.stderr)
    session.show(session.shaped(result), lambda r: render.outcome(r, command, wait))
    return ExitCode.OK


def _takes_everything_down(session: Session, names: list[str]) -> str | None:
    """A sentence when stopping `names` (and, with --force, their hard dependents) leaves no
    service active, so that the supervisor will exit; else None. Worked out from `list`
    before the stop: what stays active is every explicitly activated service outside the
    stopped sub-tree (and what it needs)."""
    statuses = {s["name"]: s for s in session.call("list")}
    doomed = set(names)
    grew = True
    while grew:  # the hard dependents of what stops stop too
        grew = False
        for s in statuses.values():
            if s["name"] not in doomed and s["state"] != "stopped" and \
                    doomed & set(s["depends_on"]):
                doomed.add(s["name"])
                grew = True
    if any(s["explicit"] and s["name"] not in doomed for s in statuses.values()):
        return None
    if not any(s["state"] != "stopped" for s in statuses.values()):
        return None
    gone = sorted(doomed - set(names))
    via = f" (with {', '.join(gone)}, which depend on it)" if gone else ""
    return (f"this stopped every active service{via}: nothing is active any more, "
            f"so the supervisor exits")


def release_wake(args: argparse.Namespace, session: Session) -> ExitCode:
    result = session.call(args.command, names=args.names)
    session.show(session.shaped(result), lambda r: render.outcome(r, args.command, False))
    return ExitCode.OK


def send_signal(args: argparse.Namespace, session: Session) -> ExitCode:
    result = session.call("signal", name=args.name, signal=args.signal)
    session.show(result, lambda r: f"Sent {r['signal']} to {args.name} (pid {r['pid']}).")
    return ExitCode.OK


def tree(args: argparse.Namespace, session: Session) -> ExitCode:
    session.show(session.call("tree", name=args.name), render.tree)
    return ExitCode.OK


def reload(args: argparse.Namespace, session: Session) -> ExitCode:
    session.show(session.call("reload", name=args.name),
                 lambda r: f"Service '{args.name}' reloaded.")
    return ExitCode.OK


def scale(args: argparse.Namespace, session: Session) -> ExitCode:
    """Resize a pool; prints the pool's status object with --json."""
    result = session.call("scale", name=args.name, count=args.count)
    session.show(result, render.scaled)
    return ExitCode.OK


def events(args: argparse.Namespace, session: Session) -> ExitCode:
    seen: dict[str, dict[str, Any]] = {}  # each service's last status in the stream
    for message in session.stream("events"):
        event = {**message["status"], "event": message["event"], "time": message["time"]}
        if args.json:
            session.emit(event, compact=True)
        else:
            print(render.event_line(event, seen), flush=True)
        seen[event["name"]] = event
    return ExitCode.OK


def shutdown(args: argparse.Namespace, session: Session) -> ExitCode:
    if not args.json:
        print("Shutting down.", flush=True)
    session.call("shutdown", until_done=True)
    if args.json:
        session.emit({"shutdown": True})
    return ExitCode.OK


def metrics(args: argparse.Namespace, session: Session) -> ExitCode:
    """The text as the root wrote it (with --json, a JSON string)."""
    text = session.call("metrics")
    if args.json:
        session.emit(text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return ExitCode.OK


def reexec(args: argparse.Namespace, session: Session) -> ExitCode:
    """The root re-executes itself; answered once the new one serves (its `started` time
    tells it from the old, as the pid stays the same)."""
    import time
    before = session.call("reexec")
    session.close()  # the old root's connection ends with its exec
    deadline = time.monotonic() + args.timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure(f"the supervisor did not come back within {args.timeout:g} s of "
                          f"re-executing", ExitCode.UNREACHABLE, E_UNREACHABLE)
        try:
            hello = session.call("hello")
        except Failure as exc:
            if exc.status is not ExitCode.UNREACHABLE:
                raise
            hello = None
        session.close()
        if hello is not None and hello.get("started") != before.get("started"):
            break
        time.sleep(min(0.05, max(left, 0)))  # a client's retry, not a test's wait
    if args.json:
        session.emit({"reexec": True, "pid": hello["pid"]})
    else:
        print(f"zeroinit (pid {hello['pid']}) re-executed and took its services back.")
    return ExitCode.OK


# ---------------------------------------------------------------------------------------------
# logs
# ---------------------------------------------------------------------------------------------


def logs(args: argparse.Namespace, session: Session) -> ExitCode:
    out = sys.stdout.buffer
    result = session.call("logs", name=args.name, follow=False,
                          clear=args.clear and not args.follow)
    data = last_lines(result["data"], args.lines)
    if not args.follow:
        if args.json:
            session.emit({"name": args.name, "type": result["type"],
                          "data": data.decode(errors="replace"),
                          "truncated": result["truncated"]})
        else:
            out.write(data)
            out.flush()
        return ExitCode.OK
    if result["type"] == "file":
        _write_chunk(session, out, data, new=False)
        end = result.get("end")
        return _follow_file(session, result["path"], out, tuple(end) if end else None)
    # A buffer: the stream starts with its content, then carries new output as it comes.
    first = True
    for message in session.stream("logs", name=args.name, follow=True, clear=args.clear):
        chunk = last_lines(message["data"], args.lines) if first else message["data"]
        _write_chunk(session, out, chunk, new=not first)
        first = False
    return ExitCode.OK


def last_lines(data: bytes, count: int | None) -> bytes:
    """The last `count` lines of `data` (all of it for None); a last line without its
    newline counts as a line."""
    if count is None:
        return data
    if count == 0:
        return b""
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-count:])


def _follow_file(session: Session, path: str, out,
                 start: tuple[int, int, int] | None = None) -> ExitCode:
    """Like tail -F: the daemon (or its watcher, when it rotates) writes the file itself, so
    the file is read where it lies, through its rotations (cli/follow_file.py)."""
    from cli.follow_file import follow
    try:
        follow(path, lambda data: _write_chunk(session, out, data), start)
    except OSError as exc:
        raise Failure(f"cannot follow logfile {path}: {exc.strerror}") from None
    return ExitCode.OK


def _write_chunk(session: Session, out, data: bytes, new: bool = True) -> None:
    """Print a chunk of output; with -t, each line that begins in a `new` chunk (one that
    arrived while following, not the tail already kept) starts with its arrival time."""
    if session.args.json:
        session.emit({"name": session.args.name, "data": data.decode(errors="replace")},
                     compact=True)
        return
    if not data:
        return
    if new and getattr(session.args, "timestamps", False):
        data = _stamped(session.args, data)
    elif data:
        session.args.mid_line = not data.endswith(b"\n")
    out.write(data)
    out.flush()


def _stamped(args: argparse.Namespace, data: bytes) -> bytes:
    import time
    now = time.time()
    stamp = (time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d} ")
    lines = data.splitlines(keepends=True)
    first = 1 if getattr(args, "mid_line", False) else 0  # that line began in an earlier chunk
    args.mid_line = not data.endswith(b"\n")
    return b"".join(line if i < first else stamp.encode() + line for i, line in enumerate(lines))
