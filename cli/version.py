"""`--version` of both commands, computed only when asked for: importlib.metadata costs
start-up time, and zeroinit forks its zygote from a process that has imported little."""

from __future__ import annotations

import argparse


def version() -> str:
    """`0.1.0 (protocol 1)`: the installed package and the control protocol it speaks."""
    from broker.protocol import PROTOCOL_VERSION
    try:
        from importlib.metadata import version as dist_version
        number = dist_version("zeroinit")
    except Exception:  # noqa: BLE001 - a source checkout that was never installed
        number = "unknown"
    return f"{number} (protocol {PROTOCOL_VERSION})"


def version_action(prog: str) -> type[argparse.Action]:
    class Version(argparse.Action):
        def __init__(self, option_strings, dest, **kwargs):
            super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

        def __call__(self, parser, namespace, values, option_string=None):
            print(f"{prog} {version()}")
            parser.exit(0)
    return Version
