"""zeroctl's commands that need no supervisor: `check` (validate service descriptions),
`keygen` (a CURVE key pair, broker/curve.py), `convert` (supervisord.conf) and `completion`
(the bash or zsh completion script, with the command list taken from the table).

`check` prints every problem, errors and warnings alike, on stderr (`FILE:LINE: SETTING:
PROBLEM`, warnings prefixed `warning: `) and a one-line summary on stdout. A services
directory that does not exist, or holds no description, is an error: checking nothing is
not a success.
"""

from __future__ import annotations

import argparse
import os
import sys

from cli.exits import E_KEYGEN, E_NO_SERVICES, ExitCode, Failure


def check(args: argparse.Namespace, session) -> ExitCode:
    from actors.loader.walk import ServiceLoader
    from broker.endpoints import default_services_dirs
    dirs = args.dirs or default_services_dirs()
    _check_dirs(dirs, given=bool(args.dirs))
    loader = ServiceLoader(dirs, dict(os.environ), args.profile)
    specs, problems = loader.check(args.names or None)
    is_error = [getattr(p, "severity", "error") == "error" for p in problems]
    errors = [p for p, error in zip(problems, is_error) if error]
    warnings = [p for p, error in zip(problems, is_error) if not error]
    if not specs and not problems:
        raise Failure(f"no service description in {_listing(dirs)}", ExitCode.FAILED,
                      E_NO_SERVICES)
    if args.json:
        session.emit({"services": [spec.name for spec in specs],
                      "errors": [str(p) for p in errors],
                      "warnings": [str(p) for p in warnings]})
    else:
        for problem, error in zip(problems, is_error):
            prefix = "" if error else "warning: "
            print(f"{prefix}{problem}", file=sys.stderr)
        print(_summary(len(specs), len(errors), len(warnings)))
    return ExitCode.FAILED if errors else ExitCode.OK


def _check_dirs(dirs: list[str], given: bool) -> None:
    missing = [d for d in dirs if not os.path.isdir(d)]
    if not missing:
        return
    if given:
        what = "is not a directory" if os.path.exists(missing[0]) else "does not exist"
        raise Failure(f"services directory {missing[0]} {what}", ExitCode.FAILED,
                      E_NO_SERVICES)
    raise Failure(f"the default services directory {missing[0]} does not exist; "
                  f"name one with -d DIR", ExitCode.FAILED, E_NO_SERVICES)


def _listing(dirs: list[str]) -> str:
    return dirs[0] if len(dirs) == 1 else ", ".join(dirs[:-1]) + " or " + dirs[-1]


def _summary(checked: int, errors: int, warnings: int) -> str:
    def count(n: int, word: str) -> str:
        return f"{n} {word}{'s' if n != 1 else ''}"
    found = f"{count(errors, 'error')}" if errors else "no errors"
    if warnings:
        found += f", {count(warnings, 'warning')}"
    return f"{count(checked, 'service')} checked: {found}."


def keygen(args: argparse.Namespace, session) -> ExitCode:
    """A CURVE key pair in `args.directory`; the two file names on stdout (JSON: an object)."""
    from broker.curve import CurveError, keygen as write_pair
    try:
        secret, public = write_pair(args.directory, args.name)
    except CurveError as exc:
        raise Failure(str(exc), ExitCode.FAILED, E_KEYGEN) from None
    if args.json:
        session.emit({"secret": str(secret), "public": str(public)})
    else:
        print(f"secret key pair: {secret} (keep it there, mode 600)")
        print(f"public key:      {public} (hand this one out)")
    return ExitCode.OK


def completion(args: argparse.Namespace, session) -> ExitCode:
    """Print the shipped completion script for `args.shell`, its command list filled in
    from zeroctl's table (so a new command completes without touching the scripts)."""
    from importlib.resources import files
    COMMANDS = args.table  # zeroctl's command table, passed in (it imports this module)
    name = {"bash": "zeroctl.bash", "zsh": "_zeroctl"}[args.shell]
    script = (files("cli") / "completion" / name).read_text()
    described = " ".join(f"'{c.name}:{c.summary.replace(chr(39), '')}'" for c in COMMANDS)
    sys.stdout.write(script.replace("__COMMANDS__", " ".join(c.name for c in COMMANDS))
                     .replace("__COMMANDS_DESCRIBED__", described))
    return ExitCode.OK


def convert(args: argparse.Namespace, session) -> ExitCode:
    """supervisord.conf to a services directory (actors/convert/)."""
    from actors.convert import main
    return ExitCode(main(args))
