"""The root's handle on its zygote (actors/supervise/zygote.py): fork it, ask it for watchers,
hear which it forked and which ended, and start a new one by exec if it dies.

The root never blocks on its zygote: requests the socket does not take at once wait in an
outbox, flushed when the socket is writable (the zygote may itself be blocked telling the
root what it forked).
"""

from __future__ import annotations

import os
import socket
import sys
from collections import deque
from typing import Any

import msgpack

from actors.supervise.zygote import MAX_REQUEST, serve


class ZygoteClient:
    """The root's handle on its zygote."""

    def __init__(self, sock: socket.socket, pid: int):
        self.sock = sock
        self.pid = pid
        # Requests not yet taken by the socket: the root never blocks on its zygote (which may
        # itself be blocked telling the root what it forked).
        self.outbox: deque[bytes] = deque()

    @classmethod
    def fork(cls) -> ZygoteClient:
        """Fork the zygote from this process (only before any ZeroMQ context exists)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            ours.close()
            code = 1
            try:
                code = serve(theirs)
            finally:
                os._exit(code)
        theirs.close()
        return cls(ours, pid)

    @classmethod
    def exec(cls) -> ZygoteClient:
        """Start a zygote as a new program (safe from a process that holds threads)."""
        import subprocess  # only here: this module is imported at every start-up
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        proc = subprocess.Popen([sys.executable, "-m", "actors.supervise.zygote", str(theirs.fileno())],
                                pass_fds=[theirs.fileno()], close_fds=True)
        theirs.close()
        proc.returncode = 0  # the root reaps its children itself; Popen must not
        return cls(ours, proc.pid)

    def fork_watcher(self, service: str, endpoint: str, password: bytes, log: dict[str, Any],
                     seed: bytes, first: tuple[str, dict[str, Any], float] | None) -> None:
        """Ask for a watcher of `service`; `password` is what it proves itself with to the
        actor socket; `first` is the spawn order (role, launch, kill_after) it carries out at
        once."""
        self.outbox.append(msgpack.packb({"service": service, "endpoint": endpoint,
                                          "password": password, "log": log, "seed": seed,
                                          "first": first}, use_bin_type=True))
        self.flush()

    def flush(self) -> None:
        """Send what the socket takes now; the rest waits for it to be writable."""
        while self.outbox:
            try:
                self.sock.send(self.outbox[0], socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                self.outbox.clear()  # the zygote is gone; a new one is on its way
                return
            self.outbox.popleft()

    def fileno(self) -> int:
        return self.sock.fileno()

    def receive(self) -> list[dict[str, Any]] | None:
        """Every message waiting: {"forked": service, "pid"} or {"reaped": pid}. None when
        the zygote is gone."""
        messages = []
        while True:
            try:
                data = self.sock.recv(MAX_REQUEST, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return messages
            except OSError:
                return None
            if not data:
                return None if not messages else messages
            messages.append(msgpack.unpackb(data, raw=False))

    def close(self) -> None:
        self.sock.close()
