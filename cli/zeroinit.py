"""zeroinit: the supervisor (the root actor).

    zeroinit [options] [SERVICE...]
    zeroinit [options] [SERVICE...] -- CMD [ARG...]

starts the named services (default: `boot`) and supervises them until none is active any more,
`zeroctl shutdown`, or SIGTERM/SIGINT (an orderly stop, dependents first). With `-- CMD`, CMD
runs as the service `main` after the named services (a container's init): when it ends,
everything stops and zeroinit exits with its status.
"""

from __future__ import annotations

import argparse
import os
import sys


def octal(text: str) -> int:
    try:
        mode = int(text, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal mode like 600") from None
    if not 0 <= mode <= 0o777:
        raise argparse.ArgumentTypeError(f"{text!r} is not a file mode")
    return mode


HELP = """the container form:
  zeroinit [options] [SERVICE...] -- CMD [ARG...]
  runs CMD as the service `main` (restart = no) once the named services (default: boot,
  or init in a cinit tree) have started; when it ends, everything stops and zeroinit exits
  with its status.

exit status:
  0    every service stopped and nothing is active any more, or `zeroctl shutdown`,
       SIGTERM or SIGINT
  1    no service could be started, or main's dependencies failed (main never ran)
  2    bad usage (unknown option, bad endpoint, a --metrics address that is not HOST:PORT)
  N    with -- CMD: main's exit status, or 128+N if signal N killed it"""


def build_parser() -> argparse.ArgumentParser:
    from broker.endpoints import default_control_endpoint, default_services_dirs
    try:
        where = default_control_endpoint()
    except ValueError:
        where = "(ZEROINIT_SOCKET is not a usable endpoint)"
    parser = argparse.ArgumentParser(
        prog="zeroinit", usage="%(prog)s [options] [SERVICE...] [-- CMD [ARG...]]",
        epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A service supervisor: dinit's dependency semantics, one watcher actor "
                    "per service, driven by zeroctl over ZeroMQ.")
    parser.add_argument("services", nargs="*", metavar="SERVICE",
                        help="services to start (default: boot)")
    parser.add_argument("-d", "--services-dir", action="append", dest="dirs", metavar="DIR",
                        help="a services directory, searched in order (repeatable; default: "
                             f"{' '.join(default_services_dirs())})")
    parser.add_argument("-s", "--socket", metavar="ENDPOINT",
                        help="the control endpoint: a path (ipc), ipc://PATH, or "
                             "tcp://HOST:PORT with --curve-dir (default: $ZEROINIT_SOCKET, "
                             f"else {where})")
    parser.add_argument("--socket-mode", type=octal, default=0o600, metavar="MODE",
                        help="permissions of an ipc control socket (default: 600)")
    parser.add_argument("--curve-dir", metavar="DIR",
                        default=os.environ.get("ZEROINIT_CURVE_DIR"),
                        help="CURVE keys for a tcp:// endpoint: the supervisor's key pair is "
                             "the one *.key_secret file in DIR (zeroctl keygen DIR); clients "
                             "whose *.pub key is in DIR/admin may send every command, in "
                             "DIR/read-only only look; others are refused (default: "
                             "$ZEROINIT_CURVE_DIR, else none: tcp:// is refused)")
    parser.add_argument("--ready-fd", type=int, metavar="N",
                        help="write a byte to fd N once the control endpoint accepts commands "
                             "(default: none)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only failures on the console (default: every change)")
    parser.add_argument("--profile", metavar="PROFILE",
                        help="use NAME.PROFILE variants of cinit-style services "
                             "(default: none)")
    parser.add_argument("--metrics", metavar="HOST:PORT",
                        help="serve the metrics in Prometheus' text format at "
                             "http://HOST:PORT/metrics (default: not served; zeroctl "
                             "metrics prints them)")
    from cli.version import version_action
    parser.add_argument("--version", action=version_action("zeroinit"),
                        help="print zeroinit's version and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = None
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1:]
        if not command:
            print("zeroinit: nothing to run after '--'", file=sys.stderr)
            return 2
    args = build_parser().parse_args(argv)
    from broker import endpoints
    endpoint = None
    given = args.socket or os.environ.get("ZEROINIT_SOCKET")
    if given:
        try:
            endpoint = endpoints.normalise(given)
        except endpoints.EndpointError as exc:
            print(f"zeroinit: {exc}", file=sys.stderr)
            return 2
        if endpoint.startswith(endpoints.TCP) and not args.curve_dir:
            print(f"zeroinit: {endpoint}: a tcp:// endpoint needs CURVE keys: give "
                  f"--curve-dir DIR (see zeroctl keygen), or use an ipc endpoint",
                  file=sys.stderr)
            return 2
    if args.metrics is not None:
        from broker.endpoints import EndpointError, parse_http_address
        try:
            parse_http_address(args.metrics)
        except EndpointError as exc:
            print(f"zeroinit: {exc}", file=sys.stderr)
            return 2
    # The zygote first, before the root's own imports: it is forked from a small process, so
    # the pages its watchers share with it are few and dense (see actors/supervise/zygote.py).
    from actors.root.zygote_client import ZygoteClient
    zygote = ZygoteClient.fork()
    from actors.root import reexec
    from actors.root.loop import Root, RootOptions
    reexec.arguments = list(argv if command is None else argv + ["--"] + command)
    options = RootOptions(quiet=args.quiet, profile=args.profile, ready_fd=args.ready_fd,
                          socket_mode=args.socket_mode, main_command=command, zygote=zygote,
                          metrics=args.metrics, curve_dir=args.curve_dir)
    if args.services:
        options.services = args.services
        options.services_given = True
    if args.dirs:
        options.dirs = args.dirs
    if endpoint is not None:
        options.endpoint = endpoint
        options.endpoint_given = True
    return Root(options).run()


if __name__ == "__main__":
    sys.exit(main())
