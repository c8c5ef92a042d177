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

The gate is the authority of the `watchers` domain of the root's one ZAP handler
(broker/zap.py), which runs in the root's loop: there are no threads in the root.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import zmq

from broker.zap import Verdict

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
    """The `watchers` domain's authority: lets in only watchers that know their password."""

    def __init__(self, key: bytes):
        # Any service name: a watcher of a service that no longer exists must still get in,
        # to be told to stop.
        self.key = key
        self.uid = os.geteuid()
        self.peer_pids: dict[str, int] = {}

    def password(self, service: str) -> bytes:
        return password_for(self.key, service)

    def verdict(self, address: bytes, mechanism: bytes, credentials: list[bytes]) -> Verdict:
        """Let a watcher in under its service's name, or say why not."""
        if mechanism != b"PLAIN" or len(credentials) != 2:
            return Verdict.refuse(f"refused a connection to the actor socket without a "
                                  f"watcher's credentials (mechanism {mechanism!r})")
        user, password = credentials
        service = user.decode(errors="replace")
        uid, pid = _peer(address)
        if uid is not None and uid != self.uid:
            return Verdict.refuse(f"refused a watcher connection for {service!r} from uid {uid}")
        if not hmac.compare_digest(password, self.password(service)):
            return Verdict.refuse(f"refused a watcher connection for {service!r}"
                                  f"{f' from pid {pid}' if pid else ''}: wrong or unknown "
                                  f"credentials")
        if pid is not None:
            self.peer_pids[service] = pid
        return Verdict(user)


def _peer(address: bytes) -> tuple[int | None, int | None]:
    """The uid and pid in libzmq's ipc ZAP address (`host:uid:gid:pid`), where present."""
    parts = address.decode(errors="replace").split(":")
    if len(parts) == 4 and parts[1].isdigit() and parts[3].isdigit():
        return int(parts[1]), int(parts[3])
    return None, None
