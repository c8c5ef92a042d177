"""What watchers tell the root, turned into engine events and client answers; and what the
death of a watcher means.

Each report kind has one handler, in a table checked against the protocol's report kinds.
The watcher table and the engine are told directly; the control side (log answers, followed
output) only through `ReportListener`, so this module knows nothing of clients.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any, Protocol

import zmq

from actors.engine import Engine, ExitStatus, Role
from actors.root.console import Console
from actors.root.watcher_table import WatcherTable
from broker import protocol


class ReportListener(Protocol):
    """The control side, as far as watchers' reports concern it."""

    def on_logs_report(self, request: int, data: bytes, truncated: bool) -> None: ...
    def on_output(self, service: str, data: bytes) -> None: ...
    def answer_orphaned_log_requests(self) -> None: ...


class Reports:
    """Turns what watchers say (and their deaths) into engine events and client answers."""

    def __init__(self, table: WatcherTable, engine: Engine, listener: ReportListener,
                 console: Console, clock: Callable[[], float]):
        self.table, self.engine, self.listener = table, engine, listener
        self.console, self.clock = console, clock
        self._handlers: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "hello": self._hello, "spawned": self._spawned, "spawn_failed": self._spawn_failed,
            "ready": self._ready, "ready_failed": self._ready_failed, "exited": self._exited,
            "logs": self._logs, "output": self._output, "retired": self._retired,
        }
        assert set(self._handlers) == set(protocol.REPORTS), "a report kind without a handler"

    def on_frames(self, frames: list[bytes]) -> None:
        if len(frames) != 2 or not frames[0]:
            return
        identity, payload = frames
        try:
            report = protocol.decode_report(payload)
        except protocol.ProtocolError as exc:
            self.console.log_limited("actor-socket", f"dropped a bad report: {exc}")
            return
        service = identity.decode(errors="replace")
        kind = report["kind"]
        if kind != "hello" and (service not in self.engine or service not in self.table):
            self.console.log_limited("actor-socket", f"dropped a {kind} report from an "
                                                     f"unknown watcher {service!r}")
            return
        self._handlers[kind](service, report)

    # --- one handler per report kind ----------------------------------------------------------

    def _hello(self, service: str, report: dict[str, Any]) -> None:
        if report["service"] != service or self.table.on_hello(
                service, report["watcher_pid"]) is None:
            self.console.log(f"an unknown watcher for {service!r} connected; retiring it")
            identity = service.encode()
            for order in ("kill", "retire"):
                self._send_unknown(identity, order)

    def _spawned(self, service: str, report: dict[str, Any]) -> None:
        self.engine.on_spawned(service, report["pid"], self.clock(), Role(report["role"]))

    def _spawn_failed(self, service: str, report: dict[str, Any]) -> None:
        self.engine.on_spawn_failed(service, report["reason"], self.clock(), Role(report["role"]))

    def _ready(self, service: str, report: dict[str, Any]) -> None:
        self.engine.on_ready(service, self.clock())

    def _ready_failed(self, service: str, report: dict[str, Any]) -> None:
        self.engine.on_ready_failed(service, self.clock())

    def _exited(self, service: str, report: dict[str, Any]) -> None:
        self.engine.on_exited(service, ExitStatus(report["code"], report["signal"]), self.clock(),
                              Role(report["role"]))

    def _logs(self, service: str, report: dict[str, Any]) -> None:
        self.listener.on_logs_report(report["request"], report["data"], report["truncated"])

    def _output(self, service: str, report: dict[str, Any]) -> None:
        self.listener.on_output(service, report["data"])

    def _retired(self, service: str, report: dict[str, Any]) -> None:
        self.table.on_retired(service, report["log"])
        self.listener.answer_orphaned_log_requests()

    def _send_unknown(self, identity: bytes, kind: str) -> None:
        try:
            self.table.sock.send_multipart([identity, protocol.encode(kind)], zmq.NOBLOCK)
        except zmq.ZMQError:
            pass

    # --- a watcher's death ---------------------------------------------------------------------

    def on_watcher_gone(self, pid: int) -> None:
        """A watcher process ended. Expected after it retired; otherwise its processes are
        killed (nobody supervises them any more) and the service is handled as exited."""
        handle = self.table.on_gone(pid)
        self.listener.answer_orphaned_log_requests()
        if handle is None or handle.service not in self.engine:
            return
        service = handle.service
        self.console.log(f"{service}: its watcher (pid {pid}) died; "
                         f"its processes are stopped and it is handled as exited")
        daemon = self.engine.pid(service)
        if daemon is not None:
            try:
                os.killpg(daemon, signal.SIGKILL)
            except OSError:
                pass
        self.engine.on_lost(service, self.clock())
