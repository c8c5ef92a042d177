"""The watcher actor: one process per service instance, shaped like s6-supervise.

Forked from the zygote, it starts its service's command (the root's `spawn` order carries
everything needed: the watcher parses no configuration), waits on it through a pidfd, keeps its
output, and reports every change to the root: spawned, spawn_failed, ready, ready_failed,
exited. It carries out `signal`, `kill`, `logs` and `follow` orders, and exits on `retire`.

The root owns decisions, the watcher owns the process. When the root goes away the watcher
keeps its process and its output and stays connected to the root's endpoint, which ZeroMQ
re-establishes by itself; on every (re)connection it announces its service, pid and state
(`hello`), so a new root can take it back. Until connected, nothing is queued: ZMQ_IMMEDIATE
drops sends, and the next `hello` carries the state instead.

One loop, one poller: the root socket, its connection monitor, a SIGCHLD wake-up fd, the
command's pidfd, its output pipe and its readiness pipe. No timers: the root keeps them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
from typing import Any

import zmq
import zmq.utils.monitor

from actors.daemon import Daemon, Exit, SpawnError, reserve_low_fds
from broker import protocol

PR_SET_CHILD_SUBREAPER = 36
LINGER_MS = 2000  # on exit, how long queued reports may take to reach the root


# Resolved in the zygote, once: each watcher then calls it without loading anything.
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None  # not Linux: orphans go to init, which reaps them


def become_subreaper() -> None:
    """Orphans of the service's processes come to the watcher, which reaps them."""
    if _prctl is not None:
        _prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


class Watcher:
    def __init__(self, service: str, log: dict[str, Any], seed: bytes = b""):
        self.service = service
        self.daemon = Daemon(log, seed)
        self.follow = False
        self.retiring = False
        self.need_hello = False
        self.connected = False
        self.ever_connected = False
        self.pending: list[bytes] = []  # reports made before the first connection
        self._wake_r, self._wake_w = socket.socketpair()
        for end in (self._wake_r, self._wake_w):
            end.setblocking(False)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    def connect(self, endpoint: str) -> None:
        self.ctx = zmq.Context(io_threads=1)
        self.ctx.setsockopt(zmq.LINGER, LINGER_MS)
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.IDENTITY, self.service.encode())
        self.sock.setsockopt(zmq.IMMEDIATE, 1)
        self.sock.setsockopt(zmq.RECONNECT_IVL, 100)
        self.sock.setsockopt(zmq.RECONNECT_IVL_MAX, 2000)
        # HANDSHAKE_SUCCEEDED, not CONNECTED: with ZMQ_IMMEDIATE a send only goes through
        # once the ZMTP handshake is done.
        self.monitor = self.sock.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED)
        self.sock.connect(endpoint)

    # --- reporting ----------------------------------------------------------------------------

    def report(self, kind: str, **fields: Any) -> None:
        self.report_frame(protocol.encode(kind, **fields))

    def report_frame(self, frame: bytes) -> None:
        if not self.connected:
            if not self.ever_connected:
                self.pending.append(frame)
            return  # a later hello carries the state
        try:
            self.sock.send(frame, zmq.NOBLOCK)
        except zmq.Again:
            self.connected = False

    def hello(self) -> None:
        child = self.daemon.children.get("start") or self.daemon.children.get("stop")
        last = self.daemon.last_exit
        self.sock.send(protocol.encode(
            "hello", service=self.service, watcher_pid=os.getpid(),
            pid=child.pid if child else None, role=child.role if child else None,
            ready=self.daemon.ready_seen, exit=last.as_json() if last else None), zmq.NOBLOCK)

    # --- orders -------------------------------------------------------------------------------

    def spawn(self, role: str, launch: dict[str, Any]) -> None:
        try:
            child = self.daemon.spawn(role, launch)
        except SpawnError as exc:
            self.report("spawn_failed", role=role, reason=str(exc))
            return
        self.report("spawned", role=role, pid=child.pid)

    def on_order(self, frame: bytes) -> None:
        try:
            order = protocol.decode_order(frame)
        except protocol.ProtocolError:
            return  # only the root talks here; a bad frame is dropped
        kind = order["kind"]
        if kind == "spawn":
            self.spawn(order["role"], order["launch"])
        elif kind == "signal":
            self.daemon.signal(order["signal"], order["group"])
        elif kind == "kill":
            self.daemon.kill()
        elif kind == "logs":
            data = self.daemon.output.snapshot()
            truncated = self.daemon.output.truncated
            if order["clear"]:
                self.daemon.output.clear()
            self.report("logs", request=order["request"], data=data, truncated=truncated)
        elif kind == "follow":
            self.follow = order["on"]
        elif kind == "retire":
            self.retiring = True

    # --- events -------------------------------------------------------------------------------

    def on_exits(self, exits: list[Exit]) -> None:
        for exit in exits:
            self.report("exited", role=exit.role, pid=exit.pid, code=exit.code,
                        signal=exit.signal)

    def on_monitor(self) -> None:
        event = zmq.utils.monitor.recv_monitor_message(self.monitor)["event"]
        if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
            self.need_hello = True
            self.greet()
        elif event == zmq.EVENT_DISCONNECTED:
            self.connected = False

    def greet(self) -> None:
        """Say hello (and, the first time, what happened before): now, or as soon as the
        socket can take it."""
        try:
            self.hello()
        except zmq.Again:
            return  # retried when the socket becomes writable (see run)
        self.need_hello = False
        self.connected = True
        if not self.ever_connected:
            self.ever_connected = True
            pending, self.pending = self.pending, []
            for frame in pending:
                self.report_frame(frame)

    def run(self) -> int:
        poller = zmq.Poller()
        registered: set[int] = set()
        poller.register(self.sock, zmq.POLLIN)
        poller.register(self.monitor, zmq.POLLIN)
        # By fd number: for anything but a ZeroMQ socket, the poller reports the fd number.
        wake = self._wake_r.fileno()
        poller.register(wake, zmq.POLLIN)
        while True:
            fds = set(self.daemon.fds())
            for fd in registered - fds:
                poller.unregister(fd)
            for fd in fds - registered:
                poller.register(fd, zmq.POLLIN)
            registered = fds
            if self.retiring and not self.daemon.children:
                return self.retire()
            poller.modify(self.sock, zmq.POLLIN | (zmq.POLLOUT if self.need_hello else 0))
            for item, events in poller.poll():
                if item is self.sock and events & zmq.POLLOUT and self.need_hello:
                    self.greet()
                    if not events & zmq.POLLIN:
                        continue
                if item is self.sock:
                    while self.sock.poll(0):
                        self.on_order(self.sock.recv_multipart()[-1])
                elif item is self.monitor:
                    self.on_monitor()
                elif item == wake:
                    _drain(self._wake_r)
                    self.on_exits(self.daemon.reap())
                elif any(item == child.pidfd for child in self.daemon.children.values()):
                    self.on_exits(self.daemon.reap())
                elif item == self.daemon.out_fd:
                    data = self.daemon.read_output()
                    if data and self.follow:
                        self.report("output", data=data)
                elif item == self.daemon.ready_fd:
                    self.on_ready()

    def on_ready(self) -> None:
        state = self.daemon.read_ready()
        if state == "ready":
            self.report("ready")
        elif state == "closed":
            # The pipe closed without a word: a failure, unless the process is ending anyway
            # (then its exit is the report).
            self.on_exits(self.daemon.reap())
            if "start" in self.daemon.children:
                self.report("ready_failed")

    def retire(self) -> int:
        if self.daemon.out_fd is not None:
            while self.daemon.read_output():
                pass
        self.report("retired", log=self.daemon.output.snapshot())
        self.monitor.close(0)
        self.sock.close(LINGER_MS)
        self.ctx.term()
        return 0


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except BlockingIOError:
        pass


def main(service: str, endpoint: str, log: dict[str, Any], seed: bytes,
         first: tuple[str, dict[str, Any]] | None) -> int:
    """Entry point in a freshly forked zygote child. `first` is the spawn order that caused
    the fork; it runs before any ZeroMQ set-up, so the service starts as early as possible."""
    reserve_low_fds()
    become_subreaper()
    # The root decides when a service stops. A handler, not SIG_IGN: an ignored signal stays
    # ignored across exec, and the service must still get SIGINT when it is interrupted.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    watcher = Watcher(service, log, seed)
    try:
        if first is not None:
            watcher.spawn(*first)
        watcher.connect(endpoint)
        return watcher.run()
    except BaseException:
        # A watcher that cannot go on takes its processes with it rather than leave them
        # unsupervised; the root sees it die and handles the service as exited.
        watcher.daemon.kill()
        raise
