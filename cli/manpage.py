"""Man pages for zeroinit(8) and zeroctl(1), generated from the same argparse parsers as
`--help`, so the two cannot drift apart:

    python -m cli.manpage docs/man      # writes docs/man/zeroinit.8 and docs/man/zeroctl.1

tests/test_zeroctl_cli.py checks that the committed pages are what this prints. Defaults are
written as a user without XDG_* variables sees them (the pages must not depend on who built
them); --help shows the live values.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from unittest import mock

PAGES = (("zeroinit", "8", "cli.zeroinit"), ("zeroctl", "1", "cli.zeroctl"))
# The environment the pages describe: root's defaults, as in shared/DESIGN.md.
NEUTRAL_ENV = {"PATH": "/usr/bin"}


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("-", "\\-").replace("'", "\\(aq")


def _lines(text: str) -> list[str]:
    return [("\\&" + _esc(line)) if line.startswith((".", "'")) else _esc(line)
            for line in text.splitlines()]


def _options(parser: argparse.ArgumentParser, shown: frozenset[str] = frozenset()) -> list[str]:
    """The options of `parser`, less those already `shown` (the common ones, once)."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS \
                or shown & set(action.option_strings):
            continue
        if action.option_strings:
            metavar = f" {action.metavar or action.dest.upper()}" if action.nargs != 0 else ""
            head = ", ".join(f"\\fB{_esc(o)}\\fR" for o in action.option_strings) + \
                (f" \\fI{_esc(metavar.strip())}\\fR" if metavar else "")
        else:
            head = f"\\fI{_esc(str(action.metavar or action.dest))}\\fR"
        out += [".TP", head, *_lines(action.help or "")]
    return out


def render(prog: str, section: str, parser: argparse.ArgumentParser) -> str:
    out = [f'.TH {prog.upper()} {section} "" "zeroinit" "zeroinit manual"', ".SH NAME",
           f"{prog} \\- {_esc(parser.description or '')}", ".SH SYNOPSIS", ".nf",
           *_lines(parser.format_usage().replace("usage: ", "").strip()), ".fi",
           ".SH OPTIONS", *_options(parser)]
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    if sub is not None:
        out.append(".SH COMMANDS")
        common = frozenset(o for a in parser._actions for o in a.option_strings)
        for name, command in sub.choices.items():
            out += [".SS " + _esc(name), ".nf",
                    *_lines(command.format_usage().replace("usage: ", "").strip()), ".fi",
                    *_lines(command.description or ""), ".RS"]
            out += _options(command, common) + [".RE"]
    if parser.epilog:
        out += [".SH NOTES", ".nf", *_lines(parser.epilog), ".fi"]
    return "\n".join(out) + "\n"


def pages() -> dict[str, str]:
    """File name -> page, for every command."""
    import importlib
    result = {}
    with mock.patch.dict(os.environ, NEUTRAL_ENV, clear=True), \
            mock.patch("os.geteuid", return_value=0), \
            mock.patch.dict(os.environ, {"COLUMNS": "100"}):
        for prog, section, module in PAGES:
            parser = importlib.import_module(module).build_parser()
            result[f"{prog}.{section}"] = render(prog, section, parser)
    return result


def main(argv: list[str]) -> int:
    target = Path(argv[0] if argv else "docs/man")
    target.mkdir(parents=True, exist_ok=True)
    for name, text in pages().items():
        (target / name).write_text(text)
        print(target / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
