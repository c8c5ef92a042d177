"""The root's side of its watchers: which watcher serves which service, the orders waiting for
a watcher that has not said hello yet, the output a retired watcher left behind, and the
translation of watchers' reports into engine events.

A watcher is created (forked by the zygote) the first time its service needs a process, and
retires when the service stops for good; the output buffer it hands back is kept here, so
`zeroctl logs` still shows a stopped service's last words and the next watcher starts with it.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import zmq

from actors.engine import Engine, ExitStatus, Role
from actors.supervise.zygote import ZygoteClient
from broker import protocol

if TYPE_CHECKING:
    from actors.root.console import Console
    from actors.root.control import ControlServer


@dataclass
class Handle:
    service: str
    pid: int | None = None           # the watcher process, once known
    connected: bool = False          # it said hello
    retiring: bool = False
    outbox: list[bytes] = field(default_factory=list)  # orders sent before its hello
    # A spawn asked for while it was retiring: carried out by a new watcher once it is gone.
    next_spawn: tuple[str, dict[str, Any]] | None = None


class WatcherTable:
    def __init__(self, zygote: ZygoteClient, sock: zmq.Socket, endpoint: str):
        self.zygote = zygote
        self.sock = sock              # the actor ROUTER socket
        self.endpoint = endpoint
        self.handles: dict[str, Handle] = {}
        self.last_output: dict[str, bytes] = {}
        # Watchers that retired but whose process has not been reaped yet.
        self.exiting: set[int] = set()

    # --- orders -------------------------------------------------------------------------------

    def spawn(self, service: str, role: str, launch: dict[str, Any]) -> None:
        """Run a command of `service`, forking a watcher for it first if it has none."""
        handle = self.handles.get(service)
        if handle is None:
            self._fork(service, role, launch)
        elif handle.retiring:
            handle.next_spawn = (role, launch)  # it may be exiting already: don't rely on it
        else:
            self.send(service, "spawn", role=role, launch=launch)

    def _fork(self, service: str, role: str, launch: dict[str, Any]) -> None:
        self.handles[service] = Handle(service)
        self.zygote.fork_watcher(service, self.endpoint, launch["log"],
                                 self.last_output.pop(service, b""), (role, launch))

    def _forget(self, handle: Handle) -> None:
        del self.handles[handle.service]
        if handle.next_spawn is not None:
            self._fork(handle.service, *handle.next_spawn)

    def send(self, service: str, kind: str, **fields: Any) -> bool:
        """Send an order; queued until the watcher's hello. False if there is no watcher."""
        handle = self.handles.get(service)
        if handle is None:
            return False
        frame = protocol.encode(kind, **fields)
        if not handle.connected:
            handle.outbox.append(frame)
            return True
        try:
            self.sock.send_multipart([service.encode(), frame], zmq.NOBLOCK)
        except zmq.ZMQError:
            # Unreachable just now (reconnecting): keep it for its next hello.
            handle.connected = False
            handle.outbox.append(frame)
        return True

    def retire(self, service: str) -> None:
        handle = self.handles.get(service)
        if handle is not None and not handle.retiring:
            handle.retiring = True
            self.send(service, "retire")

    # --- reports ------------------------------------------------------------------------------

    def on_forked(self, service: str, pid: int) -> None:
        handle = self.handles.get(service)
        if handle is not None and handle.pid is None:
            handle.pid = pid

    def on_hello(self, service: str, watcher_pid: int) -> Handle | None:
        """A watcher (re)connected. Returns its handle, or None if the root doesn't know it."""
        handle = self.handles.get(service)
        if handle is None:
            return None
        handle.pid = watcher_pid
        handle.connected = True
        outbox, handle.outbox = handle.outbox, []
        for frame in outbox:
            try:
                self.sock.send_multipart([service.encode(), frame], zmq.NOBLOCK)
            except zmq.ZMQError:
                handle.outbox.append(frame)
        return handle

    def on_retired(self, service: str, output: bytes) -> None:
        self.last_output[service] = output
        handle = self.handles.get(service)
        if handle is not None and handle.retiring:
            if handle.pid is not None:
                self.exiting.add(handle.pid)
            self._forget(handle)

    def on_gone(self, pid: int) -> Handle | None:
        """A watcher process ended. Returns its handle if that was unexpected."""
        self.exiting.discard(pid)
        for handle in list(self.handles.values()):
            if handle.pid == pid:
                self._forget(handle)
                return None if handle.retiring else handle
        return None

    def retiring(self, service: str) -> bool:
        handle = self.handles.get(service)
        return handle is not None and handle.retiring

    def is_watcher(self, pid: int) -> bool:
        return any(handle.pid == pid for handle in self.handles.values())

    def output_of(self, service: str) -> bytes:
        return self.last_output.get(service, b"")

    def __contains__(self, service: str) -> bool:
        return service in self.handles

    def __len__(self) -> int:
        """Watchers still alive: serving, retiring, or retired and not reaped yet."""
        return len(self.handles) + len(self.exiting)


class Reports:
    """Turns what watchers say (and their deaths) into engine events and client answers."""

    def __init__(self, table: WatcherTable, engine: Engine, control: ControlServer,
                 console: Console):
        self.table, self.engine, self.control, self.console = table, engine, control, console

    def on_frames(self, frames: list[bytes], now: float) -> None:
        if len(frames) != 2 or not frames[0]:
            return
        identity, payload = frames
        try:
            report = protocol.decode_report(payload)
        except protocol.ProtocolError:
            return  # only watchers talk here (the socket is private); garbage is dropped
        service = identity.decode(errors="replace")
        kind = report["kind"]
        if kind == "hello":
            if report["service"] != service or self.table.on_hello(
                    service, report["watcher_pid"]) is None:
                self.console.log(f"an unknown watcher for {service!r} connected; retiring it")
                for order in ("kill", "retire"):
                    self._send_unknown(identity, order)
            return
        if service not in self.engine or service not in self.table:
            return  # a stray report from a watcher the root no longer knows
        engine = self.engine
        if kind == "spawned":
            engine.on_spawned(service, report["pid"], now, Role(report["role"]))
        elif kind == "spawn_failed":
            engine.on_spawn_failed(service, report["reason"], now, Role(report["role"]))
        elif kind == "ready":
            engine.on_ready(service, now)
        elif kind == "ready_failed":
            engine.on_ready_failed(service, now)
        elif kind == "exited":
            engine.on_exited(service, ExitStatus(report["code"], report["signal"]), now,
                             Role(report["role"]))
        elif kind == "logs":
            self.control.on_logs_report(report["request"], report["data"], report["truncated"])
        elif kind == "output":
            self.control.on_output(service, report["data"])
        elif kind == "retired":
            self.table.on_retired(service, report["log"])
            self.control.answer_orphaned_log_requests()

    def _send_unknown(self, identity: bytes, kind: str) -> None:
        try:
            self.table.sock.send_multipart([identity, protocol.encode(kind)], zmq.NOBLOCK)
        except zmq.ZMQError:
            pass

    def on_watcher_gone(self, pid: int, now: float) -> None:
        """A watcher process ended. Expected after it retired; otherwise its processes are
        killed (nobody supervises them any more) and the service is handled as exited."""
        handle = self.table.on_gone(pid)
        self.control.answer_orphaned_log_requests()
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
        self.engine.on_lost(service, now)
