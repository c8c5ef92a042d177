"""Who may speak as a watcher: the ZAP handler of the actor socket.

The actor socket is a PLAIN server in the ZAP domain `watchers`: a peer must present a user
name (the service it watches) and a password, and libzmq asks this handler (ZAP, RFC 27,
over `inproc://zeromq.zap.01` in the root's own context) before the connection exists. The
password is `HMAC(key, service)`: the root hands it to each watcher it forks, through the
zygote's private socket pair; a new root taking watchers back derives the same passwords from
the key its predecessor left in the state file. A process without the key cannot connect,
so it can neither claim a service nor take a live watcher's routing id; libzmq keeps a second
connection under a routing id in use inert (ROUTER_HANDOVER stays off), so even a
duplicate of a real watcher cannot cut the first one off.

The handler also requires the peer to run as our own user (the ipc peer credentials libzmq
puts in the ZAP address, `host:uid:gid:pid`) and remembers the peer's pid per service, so a
hello whose `watcher_pid` is not the pid that connected is not believed.

It runs in the root's loop (the root polls `sock`): there are no threads in the root.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable

import zmq

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
WATCHERS_DOMAIN = b"watchers"


def password_for(key: bytes, service: str) -> bytes:
    """A watcher's password: printable, so that it fits PLAIN's 255-byte field as it is."""
    return hmac.new(key, b"watcher:" + service.encode(), hashlib.sha256).hexdigest().encode()


def secure_actor_socket(sock: zmq.Socket) -> None:
    """Make `sock` a PLAIN server that only this module's handler lets peers into."""
    sock.setsockopt(zmq.PLAIN_SERVER, 1)
    sock.setsockopt(zmq.ZAP_DOMAIN, WATCHERS_DOMAIN)
    # A peer that connects and never completes its handshake is dropped after this long.
    sock.setsockopt(zmq.HANDSHAKE_IVL, 5000)
    # Every watcher reconnects at once to a new root: let them all queue.
    sock.setsockopt(zmq.BACKLOG, 4096)


class WatcherGate:
    """The ZAP handler: lets in only watchers that know their service's password."""

    def __init__(self, ctx: zmq.Context, key: bytes, refused: Callable[[str], None]):
        # Any service name: a watcher of a service that no longer exists must still get in,
        # to be told to stop.
        self.key = key
        self.refused = refused  # told one line for each refusal (the caller rate-limits it)
        self.uid = os.geteuid()
        self.peer_pids: dict[str, int] = {}
        self.sock = ctx.socket(zmq.REP)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(ZAP_ENDPOINT)

    def password(self, service: str) -> bytes:
        return password_for(self.key, service)

    def on_readable(self) -> None:
        for _ in range(1000):
            try:
                request = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self.sock.send_multipart(self.answer(request))

    def answer(self, request: list[bytes]) -> list[bytes]:
        """The ZAP reply to one request: 200 with the service as user id, or 400."""
        if len(request) < 6:
            return [b"1.0", request[1] if len(request) > 1 else b"", b"500",
                    b"malformed ZAP request", b"", b""]
        version, request_id, domain, address, _identity, mechanism = request[:6]
        credentials = request[6:]

        def refuse(why: str) -> list[bytes]:
            self.refused(why)
            return [version, request_id, b"400", why.encode()[:255], b"", b""]

        if domain != WATCHERS_DOMAIN or mechanism != b"PLAIN" or len(credentials) != 2:
            return refuse(f"refused a connection to the actor socket without a watcher's "
                          f"credentials (domain {domain!r}, mechanism {mechanism!r})")
        user, password = credentials
        service = user.decode(errors="replace")
        uid, pid = _peer(address)
        if uid is not None and uid != self.uid:
            return refuse(f"refused a watcher connection for {service!r} from uid {uid}")
        if not hmac.compare_digest(password, self.password(service)):
            return refuse(f"refused a watcher connection for {service!r}"
                          f"{f' from pid {pid}' if pid else ''}: wrong or unknown credentials")
        if pid is not None:
            self.peer_pids[service] = pid
        return [version, request_id, b"200", b"OK", user, b""]

    def close(self) -> None:
        self.sock.close(0)


def _peer(address: bytes) -> tuple[int | None, int | None]:
    """The uid and pid in libzmq's ipc ZAP address (`host:uid:gid:pid`), where present."""
    parts = address.decode(errors="replace").split(":")
    if len(parts) == 4 and parts[1].isdigit() and parts[3].isdigit():
        return int(parts[1]), int(parts[3])
    return None, None
