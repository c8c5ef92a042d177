"""What watchers tell the root, turned into engine events and client answers; and what the
death of a watcher means.

Each report kind has one handler, in a table checked against the protocol's report kinds.
The watcher table and the engine are told directly; the control side (log answers, followed
output) only through `ReportListener`, so this module knows nothing of clients.

A watcher is believed only about what it owns. Every frame carries the service name the
watcher authenticated as (`watcher_gate.py`); a frame whose routing id is another name is
dropped. A hello's `watcher_pid` must be the pid that connected. A reported pid of 1 or less
is refused, and the root acts on a daemon's pid (kills it when its watcher dies) only after
it verified, holding a pidfd, that the process was that watcher's own child.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import zmq

from actors.engine import Engine, ExitStatus, NotifyState, Role
from actors.root.console import Console
from actors.root.watcher_table import WatcherTable
from broker import protocol

if TYPE_CHECKING:
    from actors.root.takeback import TakeBack


class ReportListener(Protocol):
    """The control side, as far as watchers' reports concern it."""

    def on_logs_report(self, request: int, data: bytes, truncated: bool) -> None: ...
    def on_output(self, service: str, data: bytes) -> None: ...
    def answer_orphaned_log_requests(self) -> None: ...


class Reports:
    """Turns what watchers say (and their deaths) into engine events and client answers."""

    def __init__(self, table: WatcherTable, engine: Engine, listener: ReportListener,
                 console: Console, clock: Callable[[], float],
                 peer_pid: Callable[[str], int | None] = lambda service: None):
        self.table, self.engine, self.listener = table, engine, listener
        self.console, self.clock = console, clock
        self.peer_pid = peer_pid  # the pid that authenticated as a service's watcher
        self.takeback: TakeBack | None = None  # set while a new root takes watchers back
        self._handlers: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "hello": self._hello, "spawned": self._spawned, "spawn_failed": self._spawn_failed,
            "ready": self._ready, "ready_failed": self._ready_failed, "exited": self._exited,
            "logs": self._logs, "output": self._output, "retired": self._retired,
            "notify_state": self._notify_state, "extend_timeout": self._extend_timeout,
            "watchdog": self._watchdog,
        }
        assert set(self._handlers) == set(protocol.REPORTS), "a report kind without a handler"

    def on_frames(self, frames: list[bytes], user: str | None = None) -> None:
        """One message from the actor socket; `user` is the name its sender authenticated as."""
        if len(frames) != 2 or not frames[0]:
            return
        identity, payload = frames
        service = identity.decode(errors="replace")
        if user != service:
            self.console.log_limited("actor-socket", f"dropped a report under the name "
                                     f"{service!r} from a watcher authenticated as {user!r}")
            return
        try:
            report = protocol.decode_report(payload)
        except protocol.ProtocolError as exc:
            self.console.log_limited("actor-socket", f"dropped a bad report: {exc}")
            return
        kind = report["kind"]
        if kind == "retired" and self.table.expects_retired(service):
            pass
        elif kind != "hello" and not self.table.greeted(service):
            self.console.log_limited("actor-socket", f"dropped a {kind} report from "
                                     f"{service!r}, which has not said hello")
            return
        # (A retiring watcher's last words may come after its service left the engine: an
        # instance a pool shrank away.)
        if kind not in ("hello", "retired") and service not in self.engine:
            self.console.log_limited("actor-socket", f"dropped a {kind} report from a "
                                     f"watcher of an unknown service {service!r}")
            return
        self._handlers[kind](service, report)

    # --- one handler per report kind ----------------------------------------------------------

    def _hello(self, service: str, report: dict[str, Any]) -> None:
        watcher_pid, pid = report["watcher_pid"], report["pid"]
        connected = self.peer_pid(service)
        if report["service"] != service or watcher_pid <= 1 or (pid is not None and pid <= 1) \
                or (connected is not None and connected != watcher_pid):
            self.console.log_limited("actor-socket", f"dropped a hello from {service!r} that "
                                     f"does not add up (watcher pid {watcher_pid}, "
                                     f"connected as pid {connected}, process {pid})")
            return
        if service not in self.table and self.takeback is not None \
                and self.takeback.collecting and watcher_pid != os.getpid():
            self.table.adopt(service, watcher_pid)
            self.takeback.on_hello(service, report)
        if self.table.on_hello(service, watcher_pid) is None:
            self.console.log(f"{service}: a watcher (pid {watcher_pid}) connected that this "
                             f"root did not start and is not taking back; stopping it")
            identity = service.encode()
            for order in ("kill", "retire"):
                self._send_unknown(identity, order)
            return
        if pid is not None and report["role"] == Role.START.value:
            self.table.verify_daemon(service, pid)

    def _spawned(self, service: str, report: dict[str, Any]) -> None:
        pid = report["pid"]
        if pid <= 1:
            self.console.log_limited("actor-socket", f"dropped a spawned report from "
                                     f"{service!r} naming pid {pid}")
            return
        if report["role"] == Role.START.value:
            self.table.verify_daemon(service, pid)
        self.engine.on_spawned(service, pid, self.clock(), Role(report["role"]))

    def _spawn_failed(self, service: str, report: dict[str, Any]) -> None:
        self.engine.on_spawn_failed(service, report["reason"], self.clock(), Role(report["role"]))

    def _ready(self, service: str, report: dict[str, Any]) -> None:
        self.engine.on_ready(service, self.clock())

    def _ready_failed(self, service: str, report: dict[str, Any]) -> None:
        self.engine.on_ready_failed(service, self.clock())

    def _exited(self, service: str, report: dict[str, Any]) -> None:
        if report["role"] == Role.START.value:
            self.table.forget_daemon(service)
        self.engine.on_exited(service, ExitStatus(report["code"], report["signal"]), self.clock(),
                              Role(report["role"]))

    def _notify_state(self, service: str, report: dict[str, Any]) -> None:
        self.engine.on_notify_state(service, NotifyState(report["status"], report["stopping"],
                                                         report["reloading"]))

    def _extend_timeout(self, service: str, report: dict[str, Any]) -> None:
        self.engine.on_extend_timeout(service, float(report["seconds"]), self.clock())

    def _watchdog(self, service: str, report: dict[str, Any]) -> None:
        self.engine.on_watchdog(service, report["reason"], self.clock())

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
        _kill_verified(handle.daemon)
        self.engine.on_lost(service, self.clock())


def _kill_verified(daemon: tuple[int, int] | None) -> None:
    """SIGKILL a dead watcher's daemon, and its process group if it leads one, only through the
    pidfd taken when it was verified to be that watcher's child (so never a reused pid)."""
    if daemon is None:
        return
    pid, pidfd = daemon
    try:
        signal.pidfd_send_signal(pidfd, 0)  # raises if it has ended: nothing to kill
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except OSError:
        pass
    finally:
        os.close(pidfd)
