# The engine stays sans-I/O: no module it imports, directly or through the project, does I/O.
"""Walk the import graph of `actors.engine` (static, through the project's own modules) and fail
on any module that talks to the outside world, and on calls to `os` process or file functions."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

FORBIDDEN = {
    "zmq", "socket", "subprocess", "select", "selectors", "signal", "threading", "asyncio",
    "time", "os", "io", "multiprocessing", "pathlib", "shutil", "tempfile", "random", "logging",
    "datetime", "ctypes", "fcntl", "errno", "sys", "pwd", "grp", "resource",
}
ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _project_file(module: str) -> Path | None:
    if module.split(".")[0] not in {"actors", "broker", "cli"}:
        return None
    spec = importlib.util.find_spec(module)
    return Path(spec.origin) if spec and spec.origin else None


def _closure(start: str) -> dict[str, set[str]]:
    """Module -> its imports, for every project module reachable from `start`."""
    seen: dict[str, set[str]] = {}
    todo = [start] + [f"actors.engine.{p.stem}" for p in (ROOT / "actors/engine").glob("*.py")]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        path = _project_file(module)
        if path is None:
            continue
        imports = _imports(path)
        seen[module] = imports
        todo.extend(imports)
    return seen


def test_engine_imports_no_io_module():
    closure = _closure("actors.engine")
    assert "actors.engine.graph" in closure and "actors.loader.spec" in closure
    offenders = sorted(
        f"{module} imports {name}"
        for module, imports in closure.items()
        for name in imports
        if name.split(".")[0] in FORBIDDEN
    )
    assert offenders == []


def test_engine_package_has_no_open_or_print_calls():
    # `open`, `print` and `input` are I/O even without an import.
    for path in (ROOT / "actors/engine").glob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        calls = {node.func.id for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        assert not calls & {"open", "print", "input", "exec", "eval"}, path.name


def test_the_check_itself_catches_an_io_import(tmp_path):
    # A module importing `time` is reported, so the first test can fail.
    bad = tmp_path / "bad.py"
    bad.write_text("import time\nfrom os import path\n")
    assert {"time", "os"} <= _imports(bad)
