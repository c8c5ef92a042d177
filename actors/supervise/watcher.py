"""The watcher actor: one process per service instance, shaped like s6-supervise.

Forked from the zygote, it starts its service's command (the root's `spawn` order carries
everything needed: the watcher parses no configuration), waits on it through a pidfd, keeps its
output, and reports every change to the root: spawned, spawn_failed, ready, ready_failed,
exited, and for an sd_notify service notify_state, extend_timeout and watchdog
(notify_socket.py). It carries out `signal`, `kill`, `logs` and `follow` orders, and exits on
`retire`.

The root owns decisions, the watcher owns the process. When the root goes away the watcher
keeps its process and its output and keeps trying the root's endpoint (every 0.1 s, backing
off to 2 s); on every (re)connection it first announces its service, pid and state (`hello`),
so a new root can take it back. While disconnected nothing is queued: the next `hello` carries
the state instead. Only the reports made before the very first connection wait for it.

A stop the root orders carries its stop-timeout (`kill_after`): the watcher sends SIGKILL to
whatever is left when it passes, by itself, so a stop completes even if the root dies in the
middle of it (s6-supervise escalates the same way).

It speaks ZMTP to the root's ROUTER itself (`broker.zmtp`), without a ZeroMQ context: no
threads, and a fraction of the memory, in a process of which there are hundreds.

One loop, one `poll`: the root connection, a SIGCHLD wake-up fd, the commands' pidfds, the
output pipe, the readiness pipe and the sd_notify socket; its timeout is the earliest of its
few deadlines (the reconnection back-off, the stop escalation, the readiness-pipe grace, the
service's watchdog), so while the root is up and nothing is stopping an idle watcher never
wakes (but for a watchdog): the root keeps the service's other timers.

A service's watchdog is the one timer the watcher keeps itself: it must hold while the root is
away. When it passes (or the service sends WATCHDOG=trigger) the watcher reports `watchdog`,
sends SIGABRT, and SIGKILLs what is left after stop-timeout (`abort_hung`).
"""

from __future__ import annotations

import os
import select
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

from actors.supervise.children import Exit, ServiceProcesses, SpawnError, reserve_low_fds
from actors.supervise.subreaper import become_subreaper
from broker import protocol
from broker.endpoints import ipc_path
from broker.zmtp import ZmtpError, ZmtpStream

LINGER = 2.0  # on exit, how long queued reports may take to reach the root (seconds)
RECONNECT_FIRST, RECONNECT_MAX = 0.1, 2.0  # seconds between attempts to reach a lost root
# A readiness pipe that reaches EOF while the command has not been reaped yet is usually the
# command exiting (the kernel closes its files before it becomes a zombie): wait this long
# for the exit before calling it a readiness failure.
READY_EOF_GRACE = 0.25
# A stop's own escalation comes this long after the root's stop timer would: while the root is
# there, it kills (and says why on its console); the watcher's is the backstop for a root that
# went away in the middle of a stop.
ESCALATION_LAG = 0.5
POLLIN, POLLOUT = select.POLLIN, select.POLLOUT


class Watcher:
    def __init__(self, service: str, log: dict[str, Any], seed: bytes = b"",
                 clock: Callable[[], float] = time.monotonic, password: bytes = b""):
        self.service = service
        self.password = password  # proves to the root's actor socket that the root forked us
        self.procs = ServiceProcesses(log, seed)
        self.clock = clock
        self.follow = False
        self.retiring = False
        self.root: ZmtpStream | None = None
        self.path = ""
        self.ever_connected = False
        self.reconnect_delay = RECONNECT_FIRST
        self.reconnect_at: float | None = None  # while disconnected: the next attempt
        self.kill_at: float | None = None       # a stop in progress: SIGKILL what is left then
        self.ready_eof_at: float | None = None  # the readiness pipe closed: decide then
        self.pending: list[bytes] = []  # reports made before the first connection
        self._wake_r, self._wake_w = socket.socketpair()
        for end in (self._wake_r, self._wake_w):
            end.setblocking(False)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    # --- the root connection ------------------------------------------------------------------

    def connect(self, endpoint: str) -> None:
        path = ipc_path(endpoint)
        if path is None:
            raise ValueError(f"the actor endpoint must be ipc://, not {endpoint!r}")
        self.path = path
        self.try_connect()

    def try_connect(self) -> None:
        """Connect and say hello (and, the first time, what happened before)."""
        self.reconnect_at = None
        try:
            name = self.service.encode()
            self.root = ZmtpStream(self.path, name, credentials=(name, self.password))
            self.hello()
        except ZmtpError:
            self.disconnected()
            return
        self.reconnect_delay = RECONNECT_FIRST
        notify = self.procs.notify
        if notify is not None and notify.said_anything() and self.ever_connected:
            self.report("notify_state", **notify.state())  # what a new root cannot know
        if not self.ever_connected:
            self.ever_connected = True
            pending, self.pending = self.pending, []
            for frame in pending:
                self.report_frame(frame)

    def disconnected(self) -> None:
        if self.root is not None:
            self.root.close()
            self.root = None
        self.reconnect_at = self.clock() + self.reconnect_delay
        self.reconnect_delay = min(self.reconnect_delay * 2, RECONNECT_MAX)

    def hello(self) -> None:
        child = self.procs.children.get("start") or self.procs.children.get("stop")
        last = self.procs.last_exit
        assert self.root is not None
        self.root.send(protocol.encode(
            "hello", service=self.service, watcher_pid=os.getpid(),
            pid=child.pid if child else None, role=child.role if child else None,
            ready=self.procs.ready_seen, exit=last.as_json() if last else None))

    # --- reporting ----------------------------------------------------------------------------

    def report(self, kind: str, **fields: Any) -> None:
        self.report_frame(protocol.encode(kind, **fields))

    def report_frame(self, frame: bytes) -> None:
        if self.root is None:
            if not self.ever_connected:
                self.pending.append(frame)
            return  # a later hello carries the state
        try:
            self.root.send(frame)
        except ZmtpError:
            self.disconnected()

    # --- orders -------------------------------------------------------------------------------

    def spawn(self, role: str, launch: dict[str, Any], kill_after: float | None = None) -> None:
        running = self.procs.children.get(role)
        if running is not None:
            # Never a second copy: a root that asks again (one taking us back, say) is told
            # about the process that already runs.
            self.report("spawned", role=role, pid=running.pid)
            return
        if role == "start":
            self.kill_at = None  # a new start: any stop before it is over
        elif self.procs.notify is not None:
            self.procs.notify.stop_watchdog()  # a stop command: no more pings are owed
        self.escalate_after(kill_after)
        try:
            child = self.procs.spawn(role, launch)
        except SpawnError as exc:
            self.report("spawn_failed", role=role, reason=str(exc))
            return
        self.report("spawned", role=role, pid=child.pid)

    def escalate_after(self, seconds: float | None) -> None:
        """A stop is under way: SIGKILL whatever of the service is left `seconds` from now."""
        if seconds:
            deadline = self.clock() + seconds + ESCALATION_LAG
            self.kill_at = deadline if self.kill_at is None else min(self.kill_at, deadline)

    def on_order(self, frame: bytes) -> None:
        try:
            order = protocol.decode_order(frame)
        except protocol.ProtocolError:
            return  # only the root talks here; a bad frame is dropped
        kind = order["kind"]
        if kind == "spawn":
            self.spawn(order["role"], order["launch"], order["kill_after"])
        elif kind == "signal":
            self.escalate_after(order["kill_after"])
            if order["kill_after"] and self.procs.notify is not None:
                self.procs.notify.stop_watchdog()  # a stop: no more pings are owed
            self.procs.signal(order["signal"], order["group"])
        elif kind == "kill":
            if self.procs.notify is not None:
                self.procs.notify.stop_watchdog()
            self.procs.kill()
        elif kind == "logs":
            data = self.procs.out.buffer.snapshot()
            truncated = self.procs.out.buffer.truncated
            if order["clear"]:
                self.procs.out.buffer.clear()
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
            if exit.role == "start":
                self.ready_eof_at = None  # its exit says it all
        if not self.procs.children:
            self.kill_at = None  # nothing left to escalate against

    def on_deadlines(self) -> None:
        now = self.clock()
        if self.reconnect_at is not None and now >= self.reconnect_at:
            self.try_connect()
        if self.kill_at is not None and now >= self.kill_at:
            self.kill_at = None
            self.procs.kill()
        notify = self.procs.notify
        if notify is not None and notify.watchdog_due(now):
            notify.stop_watchdog()
            self.abort_hung(f"no WATCHDOG=1 within {notify.watchdog:g} s")
        if self.ready_eof_at is not None and now >= self.ready_eof_at:
            self.ready_eof_at = None
            self.on_exits(self.procs.reap())
            if "start" in self.procs.children:
                self.report("ready_failed")

    def next_deadline(self) -> float | None:
        watchdog = self.procs.notify.watchdog_at if self.procs.notify is not None else None
        deadlines = [d for d in (self.reconnect_at, self.kill_at, self.ready_eof_at, watchdog)
                     if d is not None]
        return min(deadlines) if deadlines else None

    def run(self) -> int:
        poller = select.poll()
        registered: dict[int, int] = {}
        wake = self._wake_r.fileno()
        while True:
            if self.retiring and not self.procs.children:
                return self.retire()
            wanted = {fd: POLLIN for fd in self.procs.fds()}
            wanted[wake] = POLLIN
            if self.root is not None:
                wanted[self.root.fileno()] = POLLIN | (POLLOUT if self.root.wants_write else 0)
            for fd in registered.keys() - wanted.keys():
                poller.unregister(fd)
            for fd, mask in wanted.items():
                if registered.get(fd) != mask:
                    poller.register(fd, mask)
            registered = wanted
            deadline = self.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.clock()) * 1000
            events = poller.poll(timeout)
            for fd, mask in events:
                self.on_fd(fd, mask)
            self.on_deadlines()

    def on_fd(self, fd: int, mask: int) -> None:
        if self.root is not None and fd == self.root.fileno():
            self.on_root(mask)
        elif fd == self._wake_r.fileno():
            _drain(self._wake_r)
            self.on_exits(self.procs.reap())
        elif any(fd == child.pidfd for child in self.procs.children.values()):
            self.on_exits(self.procs.reap())
        elif fd == self.procs.out.fd:
            data = self.procs.out.read()
            if data and self.follow:
                self.report("output", data=data)
        elif fd == self.procs.ready_fd:
            self.on_ready()
        elif self.procs.notify is not None and fd == self.procs.notify.fileno():
            self.on_notify()

    def on_root(self, mask: int) -> None:
        root = self.root
        assert root is not None
        try:
            if mask & POLLOUT:
                root.on_writable()
            if mask & (POLLIN | select.POLLHUP | select.POLLERR):
                for frames in root.on_readable():
                    self.on_order(frames[-1])
                    if self.root is not root:
                        return  # an order's report found the connection gone
        except ZmtpError:
            self.disconnected()

    def on_ready(self) -> None:
        state = self.procs.read_ready()
        if state == "ready":
            self.report("ready")
        elif state == "closed":
            # The pipe closed without a word: a failure, unless the command is ending anyway
            # (then its exit is the report). It may not be reapable yet: give it a moment.
            self.on_exits(self.procs.reap())
            if "start" in self.procs.children:
                self.ready_eof_at = self.clock() + READY_EOF_GRACE

    def on_notify(self) -> None:
        """Datagrams on the sd_notify socket: the believed ones become reports."""
        assert self.procs.notify is not None
        child = self.procs.children.get("start")
        for kind, fields in self.procs.notify.receive(child.pid if child else None,
                                                      self.procs.ready_seen):
            if kind == "watchdog":
                self.abort_hung(fields["reason"])
                continue
            if kind == "ready":
                self.procs.ready_seen = True
            self.report(kind, **fields)

    def abort_hung(self, reason: str) -> None:
        """The watchdog passed (or was triggered): SIGABRT to the process (systemd's default
        WatchdogSignal=), SIGKILL to what is left after stop-timeout, by the watcher itself;
        the root hears why, then the exit."""
        notify = self.procs.notify
        assert notify is not None
        if "start" not in self.procs.children:
            return
        self.report("watchdog", reason=reason)
        self.procs.signal("SIGABRT", False)
        if notify.stop_timeout > 0:
            deadline = self.clock() + notify.stop_timeout
            self.kill_at = deadline if self.kill_at is None else min(self.kill_at, deadline)

    def retire(self) -> int:
        self.procs.out.drain()
        self.procs.out.close_logfile()
        self.report("retired", log=self.procs.out.buffer.snapshot())
        if self.root is not None:
            self.root.close(LINGER)
        return 0


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except BlockingIOError:
        pass


def main(service: str, endpoint: str, password: bytes, log: dict[str, Any], seed: bytes,
         first: tuple[str, dict[str, Any], float] | None) -> int:
    """Entry point in a freshly forked zygote child. `first` is the spawn order (role, launch,
    kill_after) that caused the fork; it runs before the connection to the root, so the
    service starts as early as possible."""
    reserve_low_fds()
    become_subreaper()
    # The root decides when a service stops. A handler, not SIG_IGN: an ignored signal stays
    # ignored across exec, and the service must still get SIGINT when it is interrupted.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    watcher = Watcher(service, log, seed, password=password)
    try:
        if first is not None:
            watcher.spawn(*first)
        watcher.connect(endpoint)
        return watcher.run()
    except BaseException:
        # A watcher that cannot go on takes its processes with it rather than leave them
        # unsupervised; the root sees it die and handles the service as exited.
        watcher.procs.kill()
        raise
