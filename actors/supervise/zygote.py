"""The zygote: a small process that forks watchers, so a watcher costs a fork, not a start-up.

The root forks the zygote before it creates any ZeroMQ context (a process holding one must
never fork), and asks it over a SOCK_SEQPACKET socket pair to fork a watcher for a service. The
zygote has already imported everything a watcher needs and frozen its objects out of the
garbage collector's reach (`gc.freeze`), so the pages it shares with its watchers stay shared.
It reaps its watchers and tells the root when one has ended. When the root's end of the pair
closes, the zygote exits; its watchers live on (they outlive roots by design).

If the zygote itself dies, the root starts a new one by exec (`python -m actors.supervise.zygote FD`):
by then the root holds a ZeroMQ context and may not fork.
"""

from __future__ import annotations

import gc
import os
import select
import signal
import socket
import sys
from collections import deque
from typing import Any

import msgpack

MAX_REQUEST = 1 << 20


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
        import subprocess  # only here: the zygote module is imported at every start-up
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        proc = subprocess.Popen([sys.executable, "-m", "actors.supervise.zygote", str(theirs.fileno())],
                                pass_fds=[theirs.fileno()], close_fds=True)
        theirs.close()
        proc.returncode = 0  # the root reaps its children itself; Popen must not
        return cls(ours, proc.pid)

    def fork_watcher(self, service: str, endpoint: str, log: dict[str, Any], seed: bytes,
                     first: tuple[str, dict[str, Any]] | None) -> None:
        self.outbox.append(msgpack.packb({"service": service, "endpoint": endpoint, "log": log,
                                          "seed": seed, "first": first}, use_bin_type=True))
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


def serve(sock: socket.socket) -> int:
    """The zygote's loop: fork a watcher per request, report watchers that end."""
    os.setsid()  # away from the terminal: Ctrl-C is for the root to handle, in order
    signal.signal(signal.SIGINT, lambda *_: None)  # not SIG_IGN: that would outlive exec
    import actors.supervise.watcher  # noqa: F401 - imported here once, shared by every watcher
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    gc.collect()
    gc.freeze()
    while True:
        try:
            readable, _, _ = select.select([sock, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in readable:
            try:
                wake_r.recv(4096)
            except BlockingIOError:
                pass
            for pid in _reap():
                sock.send(msgpack.packb({"reaped": pid}))
        if sock in readable:
            # Every request waiting, in one go: a boot asks for hundreds at once.
            while True:
                try:
                    data = sock.recv(MAX_REQUEST, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                if not data:
                    return 0
                request = msgpack.unpackb(data, raw=False)
                pid = os.fork()
                if pid == 0:
                    _become_watcher(sock, wake_r, wake_w, request)
                sock.send(msgpack.packb({"forked": request["service"], "pid": pid}))


def _reap() -> list[int]:
    pids = []
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return pids
        if pid == 0:
            return pids
        pids.append(pid)


def _become_watcher(sock: socket.socket, wake_r: socket.socket, wake_w: socket.socket,
                    request: dict[str, Any]) -> None:
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for s in (sock, wake_r, wake_w):
            s.close()
        from actors.supervise import watcher
        first = tuple(request["first"]) if request["first"] else None
        code = watcher.main(request["service"], request["endpoint"], request["log"],
                            request["seed"], first)
    except BaseException as exc:  # a watcher must never fall back into the zygote's loop
        print(f"zeroinit watcher {request.get('service')}: {exc}", file=sys.stderr)
    finally:
        os._exit(code)


if __name__ == "__main__":
    sys.exit(serve(socket.socket(fileno=int(sys.argv[1]))))
