"""The zygote: a small process that forks watchers, so a watcher costs a fork, not a start-up.

The root forks the zygote before it creates any ZeroMQ context (a process holding one must
never fork), and asks it over a SOCK_SEQPACKET socket pair to fork a watcher for a service
(the root's side is `actors/root/zygote_client.py`). The
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
from typing import Any

import msgpack

MAX_REQUEST = 1 << 20  # a fork request (service, endpoint, log settings, seed output)


def serve(sock: socket.socket) -> int:
    """The zygote's loop: fork a watcher per request, report watchers that end."""
    os.setsid()  # away from the terminal: Ctrl-C is for the root to handle, in order
    signal.signal(signal.SIGINT, lambda *_: None)  # not SIG_IGN: that would outlive exec
    import actors.supervise.watcher  # noqa: F401 - imported here once, shared by every watcher
    from actors.supervise.title import set_title
    set_title("zeroinit: zygote")
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
        from actors.supervise.title import set_title
        set_title(f"zeroinit: watch {request['service']}")
        first = tuple(request["first"]) if request["first"] else None
        code = watcher.main(request["service"], request["endpoint"], request["password"],
                            request["log"], request["seed"], first)
    except BaseException as exc:  # a watcher must never fall back into the zygote's loop
        print(f"zeroinit watcher {request.get('service')}: {exc}", file=sys.stderr)
    finally:
        os._exit(code)


if __name__ == "__main__":
    sys.exit(serve(socket.socket(fileno=int(sys.argv[1]))))
