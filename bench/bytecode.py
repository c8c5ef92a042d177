"""Benchmarks time zeroinit as it runs once installed: `pip install` compiles every module to
bytecode, so a start-up never compiles source. A checkout may not have the bytecode (with
PYTHONDONTWRITEBYTECODE set, as on CI machines, it never gets written), and compiling the
root's modules on every start costs about 30 ms. `ensure_bytecode` writes it first.
"""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGES = ("actors", "broker", "cli")


def ensure_bytecode() -> None:
    top = Path(__file__).resolve().parent.parent
    for package in PACKAGES:
        compileall.compile_dir(str(top / package), quiet=1)
