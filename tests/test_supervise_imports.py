"""The watcher side stays light: what the zygote imports for every watcher (the watcher, its
process work, its output and rotating logfile) brings in none of the engine, the loader or
the root, and no heavy standard module."""

from __future__ import annotations

import json
import subprocess
import sys

_LIST_MODULES = ("import json, sys, actors.supervise.watcher; "
                 "print(json.dumps(sorted(sys.modules)))")


def test_the_watcher_imports_no_engine_loader_root_or_heavy_module():
    # A fresh interpreter imports the watcher exactly as the zygote does, and lists modules.
    result = subprocess.run([sys.executable, "-c", _LIST_MODULES], capture_output=True,
                            text=True, check=True, timeout=60)
    modules = json.loads(result.stdout)
    assert "actors.supervise.rotating_log" in modules and "actors.supervise.output" in modules
    forbidden = ("actors.engine", "actors.loader", "actors.root", "subprocess", "threading",
                 "zmq", "dataclasses")
    assert [m for m in modules if m.split(".")[0] in forbidden or m.startswith(forbidden)] == []
