"""The root's side of its watchers: which watcher serves which service, the orders waiting for
a watcher that has not said hello yet, and the output a retired watcher left behind. What
watchers say is turned into engine events by `reports.py`.

A watcher is created (forked by the zygote) the first time its service needs a process, and
retires when the service stops for good; the output buffer it hands back is kept here, so
`zeroctl logs` still shows a stopped service's last words and the next watcher starts with it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import zmq

from actors.root.zygote_client import ZygoteClient
from broker import protocol


@dataclass
class Handle:
    service: str
    pid: int | None = None           # the watcher process, once known
    connected: bool = False          # it said hello, and orders reach it
    greeted: bool = False            # it said hello at least once: its reports are believed
    retiring: bool = False
    adopted: bool = False            # taken back from a previous root (not our zygote's)
    # Its running daemon, once verified to be its own child: (pid, a pidfd on it).
    daemon: tuple[int, int] | None = None
    outbox: list[bytes] = field(default_factory=list)  # orders sent before its hello
    # A spawn asked for while it was retiring: carried out by a new watcher once it is gone.
    next_spawn: tuple[str, dict[str, Any], float] | None = None


class WatcherTable:
    def __init__(self, zygote: ZygoteClient, sock: zmq.Socket, endpoint: str,
                 password: Callable[[str], bytes]):
        self.zygote = zygote
        self.sock = sock              # the actor ROUTER socket
        self.endpoint = endpoint
        self.password = password      # each watcher's credentials (see watcher_gate.py)
        self.handles: dict[str, Handle] = {}
        self.last_output: dict[str, bytes] = {}
        self.departed: set[str] = set()  # retired and ended; their `retired` not seen yet
        # Watchers that retired but whose process has not been reaped yet.
        self.exiting: set[int] = set()

    # --- orders -------------------------------------------------------------------------------

    def spawn(self, service: str, role: str, launch: dict[str, Any],
              kill_after: float = 0.0) -> None:
        """Run a command of `service`, forking a watcher for it first if it has none.
        `kill_after`: see the engine's `Spawn`."""
        handle = self.handles.get(service)
        order = (role, launch, kill_after)
        if handle is None:
            self._fork(service, order)
        elif handle.retiring:
            handle.next_spawn = order  # it may be exiting already: don't rely on it
        else:
            self.send(service, "spawn", role=role, launch=launch, kill_after=kill_after)

    def _fork(self, service: str, order: tuple[str, dict[str, Any], float]) -> None:
        self.handles[service] = Handle(service)
        self.zygote.fork_watcher(service, self.endpoint, self.password(service), order[1]["log"],
                                 self.last_output.pop(service, b""), order)

    def adopt(self, service: str, watcher_pid: int) -> Handle:
        """A previous root's watcher said hello: it serves `service` from now on. (Our zygote
        does not tell us when it ends: the root watches it through a pidfd.)"""
        handle = Handle(service, pid=watcher_pid, adopted=True)
        self.handles[service] = handle
        return handle

    def adopted_pids(self) -> set[int]:
        return {h.pid for h in self.handles.values() if h.adopted and h.pid is not None}

    def verify_daemon(self, service: str, pid: int) -> bool:
        """Believe that `pid` is `service`'s daemon only if it is its watcher's own child:
        a pidfd is taken first, so the parent checked is that of the process the pidfd holds."""
        handle = self.handles.get(service)
        if handle is None or handle.pid is None or pid <= 1:
            return False
        self.forget_daemon(service)
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            return False  # already gone (and reaped): nothing to act on later anyway
        if _parent_of(pid) != handle.pid:
            os.close(pidfd)
            return False
        handle.daemon = (pid, pidfd)
        return True

    def forget_daemon(self, service: str) -> None:
        handle = self.handles.get(service)
        if handle is not None and handle.daemon is not None:
            os.close(handle.daemon[1])
            handle.daemon = None

    def verified_daemons(self) -> dict[str, int]:
        return {h.service: h.daemon[0] for h in self.handles.values() if h.daemon is not None}

    def watcher_pids(self) -> dict[str, int]:
        return {h.service: h.pid for h in self.handles.values() if h.pid is not None}

    def greeted(self, service: str) -> bool:
        handle = self.handles.get(service)
        return handle is not None and handle.greeted

    def _forget(self, handle: Handle) -> None:
        del self.handles[handle.service]
        if handle.daemon is not None and handle.retiring:
            os.close(handle.daemon[1])
            handle.daemon = None
        if handle.next_spawn is not None:
            self._fork(handle.service, handle.next_spawn)

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
        handle.connected = handle.greeted = True
        outbox, handle.outbox = handle.outbox, []
        for frame in outbox:
            try:
                self.sock.send_multipart([service.encode(), frame], zmq.NOBLOCK)
            except zmq.ZMQError:
                handle.outbox.append(frame)
        return handle

    def on_retired(self, service: str, output: bytes) -> None:
        self.last_output[service] = output
        self.departed.discard(service)
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
                if handle.retiring:
                    # Its `retired` (with its output) may still be on its way: the zygote's
                    # word that it ended can overtake the watcher's last message.
                    self.departed.add(handle.service)
                self._forget(handle)
                return None if handle.retiring else handle
        return None

    def expects_retired(self, service: str) -> bool:
        """Whether a `retired` report from `service` is believed: from its watcher, or from
        one that retired and ended before its last words arrived."""
        handle = self.handles.get(service)
        return (handle is not None and handle.greeted) or service in self.departed

    def retiring(self, service: str) -> bool:
        handle = self.handles.get(service)
        return handle is not None and handle.retiring

    def is_watcher(self, pid: int) -> bool:
        return any(handle.pid == pid for handle in self.handles.values())

    def output_of(self, service: str) -> bytes:
        return self.last_output.get(service, b"")

    def clear_output(self, service: str) -> None:
        self.last_output[service] = b""

    def __contains__(self, service: str) -> bool:
        return service in self.handles

    def __len__(self) -> int:
        """Watchers still alive: serving, retiring, or retired and not reaped yet."""
        return len(self.handles) + len(self.exiting)


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return None
