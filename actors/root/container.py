"""zeroinit as a container's init: the `main` service, the exit status, and the last sweep.

`zeroinit [SERVICE...] -- CMD [ARG...]` runs CMD as the service `main`: a process with
`restart = no`, the supervisor's own stdin/stdout/stderr, and a hard dependency on each named
service (default: `boot`, or cinit's `init`, where one exists). When `main` ends, everything
else stops in reverse dependency order, whatever is left of the process tree is terminated
(term-signal, then SIGKILL after the stop timeout), and zeroinit exits with `main`'s status:
its exit code, or 128+N when signal N killed it; 1 when it never ran because a dependency
failed.
"""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Callable, Iterable

from actors.engine import Engine, Snapshot, StopReason
from actors.signames import signal_number
from actors.loader.spec import LogType, RestartPolicy, ServiceSpec, ServiceType

MAIN = "main"
FORWARDED_SIGNALS = (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH)


def main_spec(command: list[str], dependencies: Iterable[str]) -> ServiceSpec:
    return ServiceSpec(MAIN, ServiceType.PROCESS, command=tuple(command),
                       working_dir=os.getcwd(), restart=RestartPolicy.NO,
                       depends_on=tuple(dependencies), log_type=LogType.INHERIT)


def start_main(command: list[str], dependencies: list[str],
               ensure_loaded: Callable[[str], str | None], engine: Engine,
               now: float) -> str | None:
    """Add `main` and start it (after its dependencies); why it cannot run, if it cannot."""
    for name in dependencies:
        error = ensure_loaded(name)
        if error:
            return f"main will not run: {error}"
    engine.add([main_spec(command, dependencies)])
    engine.start(MAIN, now)
    return None


def exit_status(main: Snapshot) -> int:
    """The container's exit status from `main` as it stopped."""
    exit = main.last_exit
    if exit is None:
        if main.stop_reason is StopReason.EXEC_FAILED:
            # As a shell (and Docker) says it: 127 not found, 126 found but not executable.
            return 127 if main.reason.endswith(os.strerror(errno.ENOENT)) else 126
        return 1  # it never ran: its dependencies failed
    if exit.signal:
        return 128 + signal_number(exit.signal)
    return exit.code or 0


def why_main_ended(main: Snapshot, engine: Engine) -> str:
    """One sentence: how `main` ended, or why it never ran (naming the services that failed)."""
    if main.last_exit is not None:
        return f"main {main.last_exit.describe()}"
    failed = [engine.snapshot(dep) for dep in main.spec.depends_on]
    why = "; ".join(f"{dep.name}: {dep.reason or 'failed'}" for dep in failed if dep.failed)
    return f"main did not run: {why or main.reason or 'it could not start'}"


class Sweep:
    """The end of a run: term-signal to every process left below the supervisor, then SIGKILL
    once the deadline passes. The root calls `step` on each wake-up until it is done."""

    def __init__(self, keep: set[int], deadline: float):
        self.keep = keep          # processes not to touch (the zygote)
        self.deadline = deadline
        self.killed = False

    def start(self) -> None:
        self._signal(signal.SIGTERM)

    def step(self, now: float) -> bool:
        """True once nothing is left."""
        left = self.left()
        if not left:
            return True
        if now >= self.deadline and not self.killed:
            self._signal(signal.SIGKILL)
            self.killed = True
        return False

    def left(self) -> list[int]:
        return [pid for pid in descendants(os.getpid()) if pid not in self.keep
                and not _is_zombie(pid)]

    def _signal(self, number: int) -> None:
        for pid in self.left():
            try:
                os.kill(pid, number)
            except ProcessLookupError:
                pass


def descendants(root: int) -> list[int]:
    """Every process below `root`: walked through /proc/PID/task/*/children (our own subtree
    only), or, where the kernel lacks those files, by reading every process's parent."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        children = _children(pid)
        if children is None:
            return _descendants_by_scan(root)
        found += children
        todo += children
    return found


def _children(pid: int) -> list[int] | None:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []  # gone meanwhile
    result: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                result += [int(c) for c in f.read().split()]
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{task}"):
                continue  # the thread ended meanwhile
            return None  # no children files on this kernel
        except OSError:
            continue
    return result


def _descendants_by_scan(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if entry.isdigit():
            ppid = _ppid(int(entry))
            if ppid is not None:
                children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()


def _ppid(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def _is_zombie(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is None or fields[0] == "Z"
