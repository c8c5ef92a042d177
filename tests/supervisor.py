"""A zeroinit under test: its own directories and socket, started with --ready-fd, driven with
the real `zeroctl`, waited on through its `events` stream (or a status poll with a deadline),
and taken down at the end with every process it started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from broker.client import Client, Unreachable

BIN = Path(sys.executable).parent
ZEROINIT = [str(BIN / "zeroinit")] if (BIN / "zeroinit").exists() else \
    [sys.executable, "-m", "cli.zeroinit"]
ZEROCTL = [str(BIN / "zeroctl")] if (BIN / "zeroctl").exists() else \
    [sys.executable, "-m", "cli.zeroctl"]
DEFAULT_WAIT = 20.0  # generous: CI machines are busy; tests end as soon as the event comes


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


def descendants(pid: int, depth: int | None = None) -> list[int]:
    """Every process below `pid` (or only `depth` levels down), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [(pid, 0)]
    while todo:
        parent, level = todo.pop()
        if depth is not None and level >= depth:
            continue
        for child in children.get(parent, []):
            found.append(child)
            todo.append((child, level + 1))
    return found


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Supervisor:
    def __init__(self, base: Path):
        self.base = base
        self.services = base / "services"
        self.services.mkdir(parents=True, exist_ok=True)
        # Unix socket paths are limited to 107 bytes: keep the socket in a short directory.
        self.rundir = Path(tempfile.mkdtemp(prefix="zi-", dir="/tmp"))
        self.socket = str(self.rundir / "control")
        self.proc: subprocess.Popen | None = None
        self.stdout_path = base / "zeroinit.out"
        self.stderr_path = base / "zeroinit.err"

    # --- set-up -------------------------------------------------------------------------------

    def write(self, name: str, text: str) -> Path:
        path = self.services / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def script(self, name: str, body: str) -> Path:
        """An executable shell script beside the services, for commands."""
        path = self.base / name
        path.write_text("#!/bin/sh\n" + textwrap.dedent(body).lstrip())
        path.chmod(0o755)
        return path

    def start(self, *services: str, extra: tuple[str, ...] = (), wait_ready: bool = True,
              env: dict[str, str] | None = None) -> subprocess.Popen:
        read_fd, write_fd = os.pipe()
        args = [*ZEROINIT, "-d", str(self.services), "-s", self.socket,
                "--ready-fd", str(write_fd), *extra, *services]
        self.proc = subprocess.Popen(
            args, stdout=open(self.stdout_path, "wb"), stderr=open(self.stderr_path, "wb"),
            pass_fds=[write_fd], env={**os.environ, **(env or {})}, cwd=self.base)
        os.close(write_fd)
        if wait_ready:
            ready = _read_with_deadline(read_fd, DEFAULT_WAIT)
            os.close(read_fd)
            assert ready, f"zeroinit did not become ready:\n{self.stderr}"
        else:
            os.close(read_fd)
        return self.proc

    # --- driving ------------------------------------------------------------------------------

    def ctl(self, *args: str, timeout: float = 60.0, check: bool = False) -> Result:
        proc = subprocess.run([*ZEROCTL, "-s", self.socket, *args], capture_output=True,
                              text=True, timeout=timeout)
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check:
            assert result.code == 0, f"zeroctl {' '.join(args)} failed: {result.err}"
        return result

    def status(self, name: str) -> dict[str, Any]:
        with Client(self.socket, timeout=10) as client:
            return client.call("status", names=[name])[0]

    def statuses(self) -> dict[str, dict[str, Any]]:
        with Client(self.socket, timeout=10) as client:
            return {s["name"]: s for s in client.call("list")}

    def wait_until(self, condition: Callable[[dict[str, dict[str, Any]]], bool],
                   what: str, timeout: float = DEFAULT_WAIT) -> dict[str, dict[str, Any]]:
        """Wait for `condition(statuses)` to hold, re-checking on every state change (the
        events stream), with a deadline."""
        deadline = time.monotonic() + timeout
        with Client(self.socket, timeout=10) as events, Client(self.socket, timeout=10) as client:
            stream = events.stream("events", idle_timeout=timeout)
            events.call("hello")  # a round trip: the subscription is registered by now
            statuses = {s["name"]: s for s in client.call("list")}
            # The subscription is in place before the first check: no change can be missed.
            while not condition(statuses):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; now: "
                                         f"{_brief(statuses)}\n{self.stderr}")
                try:
                    message = _next_within(stream, left)
                except Unreachable:
                    raise AssertionError(f"timed out waiting for {what}; now: "
                                         f"{_brief(statuses)}\n{self.stderr}") from None
                if message is None:
                    raise AssertionError(f"the supervisor went away waiting for {what}")
                status = message["status"]
                statuses[status["name"]] = status
            return statuses

    def wait_state(self, name: str, state: str, timeout: float = DEFAULT_WAIT) -> dict:
        return self.wait_until(lambda s: s.get(name, {}).get("state") == state,
                               f"{name} to be {state}", timeout)[name]

    def poll(self, condition: Callable[[], Any], what: str,
             timeout: float = DEFAULT_WAIT) -> Any:
        """For what no event announces (a file, a process): re-check with a deadline."""
        deadline = time.monotonic() + timeout
        pause = threading.Event()
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.stderr}")
            pause.wait(0.02)

    def wait_exit(self, timeout: float = DEFAULT_WAIT) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"zeroinit did not exit\n{self.stderr}") from None

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    # --- tear-down ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop zeroinit in order if it still runs; then kill anything of it that is left."""
        if self.proc is not None and self.proc.poll() is None:
            tree = descendants(self.proc.pid)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            kill_all(tree)
        shutil.rmtree(self.rundir, ignore_errors=True)


def _read_with_deadline(fd: int, timeout: float) -> bool:
    import select
    readable, _, _ = select.select([fd], [], [], timeout)
    return bool(readable) and os.read(fd, 1) != b""


def _next_within(stream, timeout: float):
    # Client.stream applies its idle timeout per message; the caller tracks the deadline.
    return next(stream, None)


def _brief(statuses: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"{n}={s['state']}" for n, s in statuses.items())
