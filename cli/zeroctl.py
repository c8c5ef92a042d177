"""zeroctl: the command line of zeroinit.

    zeroctl [-s ENDPOINT] [--json] [--timeout SECONDS] COMMAND ...

Every command is one row of `COMMANDS`: its name, a one-line summary, the arguments it adds to
its sub-parser, and its handler. The sub-parsers are built from the table and `main` finds the
handler in it, so the two cannot disagree (tests/test_zeroctl_cli.py checks it too); a new
command is one row and one handler. A handler takes the parsed arguments and a `Session` (the
connection, made only when asked for) and returns an `ExitCode`.

Exit status: see cli/exits.py. Errors are one sentence on stderr (and, with --json, a JSON
`{"error", "message"}` object on stdout). This module imports only what the command at hand
needs: `zeroctl status` must start fast (no pyzmq on a local ipc socket).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

from cli import commands, offline
from cli.exits import E_INTERNAL, E_USAGE, HELP as EXIT_HELP, ExitCode, Failure
from cli.session import Session, emit_error
from cli.version import version_action

Handler = Callable[[argparse.Namespace, Session], "ExitCode | None"]
Arguments = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    handler: Handler
    arguments: Arguments = lambda parser: None
    epilog: str = ""


def _names(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="+", metavar="NAME", help="service names")


def _start_stop(force: bool, no_wait: bool) -> Arguments:
    def arguments(parser: argparse.ArgumentParser) -> None:
        if no_wait:
            parser.add_argument("--no-wait", action="store_true",
                                help="return once the command is issued (default: wait until "
                                     "every named service has started or stopped)")
        if force:
            parser.add_argument("-f", "--force", action="store_true",
                                help="also stop the started services that hard-depend on it "
                                     "(default: refuse)")
        _names(parser)
    return arguments


def _signal(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("signal", metavar="SIGNAL", help="a name (HUP, SIGHUP) or a number")
    parser.add_argument("name", metavar="NAME")


def _logs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--follow", action="store_true",
                        help="keep printing new output until interrupted")
    parser.add_argument("-n", "--lines", type=_count, metavar="N",
                        help="only the last N lines (default: all that is kept)")
    parser.add_argument("--clear", action="store_true",
                        help="empty the buffer after printing it")
    parser.add_argument("-t", "--timestamps", action="store_true",
                        help="with -f: begin each new line with the time it arrived")
    parser.add_argument("name", metavar="NAME")


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of lines, got {text!r}")
    return int(text)


def _one_name(optional: bool) -> Arguments:
    def arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name", nargs="?" if optional else None, metavar="NAME")
    return arguments


def _scale(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="a pool (a service with `instances`)")
    parser.add_argument("count", metavar="N", type=_size,
                        help="its new number of instances (0 allowed)")


def _size(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of instances, got "
                                         f"{text!r}") from None


def _check(parser: argparse.ArgumentParser) -> None:
    from broker.endpoints import default_services_dirs
    parser.add_argument("-d", "--services-dir", action="append", dest="dirs", metavar="DIR",
                        help="a services directory, searched in order (repeatable; default: "
                             f"{' '.join(default_services_dirs())}, as zeroinit's)")
    parser.add_argument("--profile", help="choose NAME.PROFILE variants of cinit services "
                                          "(default: none)")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="services to check, with what they need (default: every file)")


def _convert(parser: argparse.ArgumentParser) -> None:
    from actors.convert import add_arguments
    add_arguments(parser)


def _keygen(parser: argparse.ArgumentParser) -> None:
    import socket
    parser.add_argument("directory", metavar="DIR",
                        help="where to write the key pair (made, mode 700, if missing)")
    parser.add_argument("--name", default=socket.gethostname() or "zeroinit",
                        help="the files' name: NAME.key_secret and NAME.pub (default: this "
                             "host's name, %(default)s)")


def _completion(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=("bash", "zsh"), help="the shell")


COMMANDS: tuple[Command, ...] = (
    Command("list", "every loaded service, in load order", commands.list_services),
    Command("status", "the status of each named service", commands.status, _names,
            "A service that failed is reported, not an error: the exit status is 0."),
    Command("start", "activate and start services (and their dependencies)",
            commands.start_stop, _start_stop(force=False, no_wait=True)),
    Command("stop", "stop services and remove their explicit activation",
            commands.start_stop, _start_stop(force=True, no_wait=True)),
    Command("restart", "stop then start started services", commands.start_stop,
            _start_stop(force=True, no_wait=False)),
    Command("release", "drop explicit activation (stops only if nothing needs it)",
            commands.release_wake, _names),
    Command("wake", "start again for the dependents that want it", commands.release_wake,
            _names),
    Command("signal", "send a signal to a service's process", commands.send_signal, _signal),
    Command("logs", "a service's captured output, or the tail of its logfile", commands.logs,
            _logs),
    Command("tree", "the dependency tree, with each node's state", commands.tree,
            _one_name(optional=True)),
    Command("reload", "re-read a service description", commands.reload,
            _one_name(optional=False)),
    Command("scale", "grow or shrink a pool to N instances (the highest indexes stop first)",
            commands.scale, _scale,
            "New instances start at once, in parallel, if the pool is active. The size is kept "
            "across a reload of the pool and a restart of the supervisor."),
    Command("events", "one line per state change, until interrupted", commands.events),
    Command("shutdown", "stop everything in reverse dependency order; the supervisor exits",
            commands.shutdown),
    Command("reexec", "the supervisor re-executes itself (after an upgrade); no service "
            "restarts", commands.reexec),
    Command("metrics", "the supervisor's metrics, in Prometheus' text format (0.0.4)",
            commands.metrics),
    Command("check", "validate service descriptions offline (no supervisor needed)",
            offline.check, _check),
    Command("convert", "supervisord.conf to service files", offline.convert, _convert),
    Command("keygen", "write a CURVE key pair (for tcp:// endpoints and --curve-dir)",
            offline.keygen, _keygen,
            "Writes DIR/NAME.key_secret (the pair; mode 600: keep it there) and DIR/NAME.pub "
            "(the public half: copy it into a server's DIR/admin or DIR/read-only, or, for a "
            "server's key, into each client's DIR/broker)."),
    Command("completion", "print the shell completion script (bash or zsh)",
            offline.completion, _completion,
            "bash: source <(zeroctl completion bash); zsh: source <(zeroctl completion zsh)."),
)
BY_NAME = {command.name: command for command in COMMANDS}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error also leaves JSON on stdout when --json was asked for."""

    json_errors = False  # set by `main` from the raw arguments, before parsing

    def error(self, message: str):  # type: ignore[override]
        if Parser.json_errors:
            emit_error(E_USAGE, message)
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from broker.endpoints import default_control_endpoint
    try:
        where = default_control_endpoint()
    except ValueError:
        where = "(ZEROINIT_SOCKET is not a usable endpoint)"
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-s", "--socket", default=argparse.SUPPRESS, metavar="ENDPOINT",
                        help="the supervisor's control endpoint: a path, ipc://PATH or "
                             "tcp://HOST:PORT (default: $ZEROINIT_SOCKET, else "
                             f"{where})")
    common.add_argument("--curve-dir", default=argparse.SUPPRESS, metavar="DIR",
                        help="CURVE keys for a tcp:// endpoint: our key pair is the one "
                             "*.key_secret file in DIR, the server's public key the one *.pub "
                             "file in DIR/broker (default: $ZEROINIT_CURVE_DIR, else none: "
                             "tcp:// is refused)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print JSON only on stdout, for scripts (default: text)")
    common.add_argument("--timeout", type=float, default=argparse.SUPPRESS, metavar="SECONDS",
                        help="how long to try reaching the supervisor (default: 5)")
    parser = Parser(prog="zeroctl", parents=[common], epilog=EXIT_HELP,
                    formatter_class=argparse.RawDescriptionHelpFormatter,
                    description="Control a zeroinit supervisor; `check` works offline.")
    parser.add_argument("--version", action=version_action("zeroctl"),
                        help="print zeroctl's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        epilog = f"{command.epilog}\n\n{EXIT_HELP}" if command.epilog else EXIT_HELP
        p = sub.add_parser(command.name, parents=[common], help=command.summary,
                           description=command.summary, epilog=epilog,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        command.arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    Parser.json_errors = "--json" in argv
    args = build_parser().parse_args(argv)
    args.json = getattr(args, "json", False)
    args.timeout = getattr(args, "timeout", 5.0)
    args.table = COMMANDS  # for handlers that describe the commands (completion)
    session = Session(args)
    try:
        return int(BY_NAME[args.command].handler(args, session) or ExitCode.OK)
    except Failure as exc:
        return _fail(args, exc.code, str(exc), exc.status)
    except KeyboardInterrupt:
        return ExitCode.OK if args.command in ("events", "logs") else 130
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # noqa: BLE001 - users get a sentence, never a traceback
        return _fail(args, E_INTERNAL, f"internal error: {type(exc).__name__}: {exc}",
                     ExitCode.FAILED)
    finally:
        session.close()


def _fail(args: argparse.Namespace, code: str, message: str, status: ExitCode) -> int:
    if args.json and not getattr(args, "json_written", False):
        emit_error(code, message)
    print(f"zeroctl: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
