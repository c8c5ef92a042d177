"""zeroctl: the command line of zeroinit.

    zeroctl [-s ENDPOINT] [--json] [--timeout SECONDS] COMMAND ...

Exit status: 0 success; 1 the operation failed or was refused; 2 bad usage; 3 the supervisor
could not be reached. Errors are one sentence on stderr. This module imports only what the
command at hand needs: `zeroctl status` must start fast (no pyzmq on a local ipc socket).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3

COMMANDS = {
    "list": "every loaded service, in load order",
    "status": "the status of each named service",
    "start": "activate and start services (and their dependencies)",
    "stop": "stop services and remove their explicit activation",
    "restart": "stop then start started services",
    "release": "drop explicit activation (stops only if nothing needs it)",
    "wake": "start again for the dependents that want it",
    "signal": "send a signal to a service's process",
    "logs": "a service's captured output, or the tail of its logfile",
    "tree": "the dependency tree, with each node's state",
    "reload": "re-read a service description",
    "events": "one line per state change, until interrupted",
    "shutdown": "stop everything in reverse dependency order; the supervisor exits",
    "check": "validate service descriptions offline",
    "convert": "supervisord.conf to service files",
}


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-s", "--socket", default=argparse.SUPPRESS, metavar="ENDPOINT",
                        help="the supervisor's control endpoint (a path, ipc:// or tcp://)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print JSON only, for scripts")
    common.add_argument("--timeout", type=float, default=argparse.SUPPRESS, metavar="SECONDS",
                        help="how long to try reaching the supervisor (default 5)")
    parser = argparse.ArgumentParser(prog="zeroctl", parents=[common],
                                     description="Control a zeroinit supervisor.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=COMMANDS[name],
                              description=COMMANDS[name])

    command("list")
    command("status").add_argument("names", nargs="+", metavar="NAME")
    for name in ("start", "stop", "restart"):
        p = command(name)
        if name != "restart":
            p.add_argument("--no-wait", action="store_true",
                           help="return once the command is issued")
        if name != "start":
            p.add_argument("-f", "--force", action="store_true",
                           help="also stop the services that hard-depend on it")
        p.add_argument("names", nargs="+", metavar="NAME")
    command("release").add_argument("names", nargs="+", metavar="NAME")
    command("wake").add_argument("names", nargs="+", metavar="NAME")
    p = command("signal")
    p.add_argument("signal", metavar="SIGNAL", help="a name (HUP, SIGHUP) or a number")
    p.add_argument("name", metavar="NAME")
    p = command("logs")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new output")
    p.add_argument("--clear", action="store_true", help="empty the buffer after printing it")
    p.add_argument("name", metavar="NAME")
    command("tree").add_argument("name", nargs="?", metavar="NAME")
    command("reload").add_argument("name", metavar="NAME")
    command("events")
    command("shutdown")
    p = command("check")
    p.add_argument("-d", "--services-dir", action="append", dest="dirs", metavar="DIR",
                   help="a services directory (repeatable; default: the supervisor's default)")
    p.add_argument("--profile", help="choose NAME.PROFILE variants of cinit services")
    p.add_argument("names", nargs="*", metavar="NAME")
    from actors.convert import add_arguments as convert_arguments
    convert_arguments(command("convert"))
    return parser


class Failure(Exception):
    """Ends the command with a one-sentence message and an exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED):
        super().__init__(message)
        self.status = status


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.json = getattr(args, "json", False)
    args.timeout = getattr(args, "timeout", 5.0)
    try:
        if args.command == "check":
            return check(args)
        if args.command == "convert":
            from actors.convert import main as convert
            return convert(args)
        from broker.client import RemoteError, Unreachable
        try:
            return run(args)
        except Unreachable as exc:
            raise Failure(str(exc), EXIT_UNREACHABLE) from None
        except RemoteError as exc:
            if args.json and "statuses" in exc.details:
                statuses = exc.details["statuses"]
                emit_json(statuses[0] if len(statuses) == 1 else statuses, args)
            raise Failure(exc.message,
                          EXIT_USAGE if exc.code == "bad-request" else EXIT_FAILED) from None
    except Failure as exc:
        print(f"zeroctl: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return EXIT_OK if args.command in ("events", "logs") else 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - users get a sentence, never a traceback
        print(f"zeroctl: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


def run(args: argparse.Namespace) -> int:
    from broker.client import Client
    from broker.endpoints import EndpointError, default_control_endpoint
    try:
        endpoint = getattr(args, "socket", None) or default_control_endpoint()
        client = Client(endpoint, timeout=args.timeout)
    except EndpointError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None
    from cli import render
    with client:
        command = args.command
        if command == "list":
            show(client.call("list"), args, render.table)
        elif command == "status":
            result = client.call("status", names=args.names)
            show(result if len(result) > 1 else result[0], args, render.status_blocks)
        elif command in ("start", "stop", "restart"):
            wait = not getattr(args, "no_wait", False)
            fields: dict[str, Any] = {"names": args.names, "wait": wait}
            if command != "start":
                fields["force"] = args.force
            result = client.call(command, until_done=wait, **fields)
            show(result if len(result) > 1 else result[0], args,
                 lambda r: render.outcome(r, command, wait))
        elif command in ("release", "wake"):
            result = client.call(command, names=args.names)
            show(result if len(result) > 1 else result[0], args,
                 lambda r: render.outcome(r, command, False))
        elif command == "signal":
            result = client.call("signal", name=args.name, signal=args.signal)
            show(result, args, lambda r: f"Sent {r['signal']} to {args.name} (pid {r['pid']}).")
        elif command == "logs":
            return logs(client, args)
        elif command == "tree":
            show(client.call("tree", name=args.name), args, render.tree)
        elif command == "reload":
            show(client.call("reload", name=args.name), args,
                 lambda r: f"Service '{args.name}' reloaded.")
        elif command == "events":
            for message in client.stream("events"):
                event = {**message["status"], "event": message["event"], "time": message["time"]}
                if args.json:
                    emit_json(event, args, compact=True)
                else:
                    print(render.event_line(event), flush=True)
        elif command == "shutdown":
            if not args.json:
                print("Shutting down.", flush=True)
            client.call("shutdown", until_done=True)
            if args.json:
                emit_json({"shutdown": True}, args)
    return EXIT_OK


def logs(client, args: argparse.Namespace) -> int:
    out = sys.stdout.buffer
    result = client.call("logs", name=args.name, follow=False,
                         clear=args.clear and not args.follow)
    if not args.follow:
        if args.json:
            emit_json({"name": args.name, "type": result["type"],
                       "data": result["data"].decode(errors="replace"),
                       "truncated": result["truncated"]}, args)
        else:
            out.write(result["data"])
            out.flush()
        return EXIT_OK
    if result["type"] == "file":
        write_chunk(out, result["data"], args)
        return follow_file(result["path"], out, args)
    # A buffer: the stream starts with its content, then carries new output as it comes.
    for message in client.stream("logs", name=args.name, follow=True, clear=args.clear):
        write_chunk(out, message["data"], args)
    return EXIT_OK


def follow_file(path: str, out, args: argparse.Namespace) -> int:
    """Like tail -f: the daemon writes the file itself, so the file is read where it lies."""
    import time
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise Failure(f"cannot follow logfile {path}: {exc.strerror}") from None
    with f:
        f.seek(0, os.SEEK_END)
        while True:
            data = f.read(65536)
            if data:
                write_chunk(out, data, args)
            else:
                time.sleep(0.25)  # a client-side poll, as tail -f does without inotify


def write_chunk(out, data: bytes, args: argparse.Namespace) -> None:
    if args.json:
        emit_json({"name": args.name, "data": data.decode(errors="replace")}, args, compact=True)
    else:
        out.write(data)
        out.flush()


def check(args: argparse.Namespace) -> int:
    from actors.loader.walk import ServiceLoader
    from broker.endpoints import default_services_dirs
    dirs = args.dirs or default_services_dirs()
    loader = ServiceLoader(dirs, dict(os.environ), args.profile)
    specs, problems = loader.check(args.names or None)
    errors = [p for p in problems if getattr(p, "severity", "error") == "error"]
    if args.json:
        emit_json({"services": [spec.name for spec in specs],
                   "errors": [str(p) for p in errors],
                   "warnings": [str(p) for p in problems if p not in errors]}, args)
    else:
        for problem in problems:
            prefix = "" if problem in errors else "warning: "
            print(f"{prefix}{problem}", file=sys.stderr if problem in errors else sys.stdout)
        if not errors:
            warned = len(problems)
            print(f"{len(specs)} service{'s' if len(specs) != 1 else ''} checked: no errors"
                  + (f", {warned} warning{'s' if warned != 1 else ''}" if warned else "") + ".")
    return EXIT_FAILED if errors else EXIT_OK


def show(result: Any, args: argparse.Namespace, human) -> None:
    if args.json:
        emit_json(result, args)
    else:
        text = human(result)
        if text:
            print(text, flush=True)


def emit_json(value: Any, args: argparse.Namespace, compact: bool = False) -> None:
    import json
    print(json.dumps(value, separators=(",", ":") if compact else None,
                     indent=None if compact else 2), flush=True)


if __name__ == "__main__":
    sys.exit(main())
