"""ZAP (ZeroMQ RFC 27): the one handler of a context, answering each request by its domain.

libzmq asks `inproc://zeromq.zap.01` before a secured connection exists; only one socket can
bind there per context, so every secured socket of a process shares this handler and tells
its requests apart by ZAP domain (the socket's `ZAP_DOMAIN`). Each domain has an *authority*:
a function of the peer's address, the mechanism and the credentials frames, which returns a
`Verdict` — the user id to let the peer in as (libzmq then stamps it on every message from
that peer, `frame.get("User-Id")`), or the reason it is refused. A domain without an
authority refuses everything, so a socket configured before its authority exists lets no one
in by accident.

    zap = ZapHandler(ctx, refused=lambda domain, why: log(why))
    zap.serve(b"control", roles.verdict)
    poller.register(zap.sock, zmq.POLLIN)   # ... and call zap.on_readable() when it is ready

It runs in its owner's loop: no thread (pyzmq's ThreadAuthenticator would also bind this
endpoint, and there can be only one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import zmq

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
ZAP_VERSION = b"1.0"
MAX_REQUESTS_PER_WAKE = 1000  # bounded, so a flood of handshakes can't starve the loop


@dataclass(frozen=True)
class Verdict:
    """An authority's answer: `user` to let the peer in under that User-Id, else `why` not."""

    user: bytes | None
    why: str = ""

    @classmethod
    def refuse(cls, why: str) -> Verdict:
        return cls(None, why)


# (address, mechanism, credentials) -> Verdict. `address` is libzmq's: `host:uid:gid:pid`
# for an ipc peer, the peer's IP address for tcp.
Authority = Callable[[bytes, bytes, list[bytes]], Verdict]


class ZapHandler:
    """Binds the context's ZAP endpoint and answers each request with its domain's authority."""

    def __init__(self, ctx: zmq.Context, refused: Callable[[bytes, str], None]):
        self.refused = refused  # told (domain, one line) for each refusal; rate-limit there
        self.authorities: dict[bytes, Authority] = {}
        self.sock = ctx.socket(zmq.REP)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(ZAP_ENDPOINT)

    def serve(self, domain: bytes, authority: Authority) -> None:
        self.authorities[domain] = authority

    def on_readable(self) -> None:
        for _ in range(MAX_REQUESTS_PER_WAKE):
            try:
                request = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self.sock.send_multipart(self.answer(request))

    def answer(self, request: list[bytes]) -> list[bytes]:
        """The ZAP reply to one request: 200 with the authority's user id, 400, or 500."""
        if len(request) < 6 or request[0] != ZAP_VERSION:
            # RFC 27: a handler that cannot read the request answers 500 (internal error).
            return [ZAP_VERSION, request[1] if len(request) > 1 else b"", b"500",
                    b"malformed ZAP request", b"", b""]
        _version, request_id, domain, address, _identity, mechanism = request[:6]
        authority = self.authorities.get(domain)
        if authority is None:
            verdict = Verdict.refuse(f"refused a connection in ZAP domain {domain!r}, which "
                                     f"nothing here serves")
        else:
            verdict = authority(address, mechanism, request[6:])
        if verdict.user is None:
            self.refused(domain, verdict.why)
            return [ZAP_VERSION, request_id, b"400", verdict.why.encode()[:255], b"", b""]
        return [ZAP_VERSION, request_id, b"200", b"OK", verdict.user, b""]

    def close(self) -> None:
        self.sock.close(0)
