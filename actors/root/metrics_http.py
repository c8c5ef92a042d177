"""`zeroinit --metrics HOST:PORT`: GET /metrics over HTTP, inside the root's loop.

Nothing else is served: any other path is 404, any other method 405. The root must never
block, so every socket here is non-blocking and polled by the root's own `zmq.Poller`:
`MetricsHttp` registers the listening socket and each connection there itself, the loop hands
it the fds that became ready (`on_fd`) and takes its earliest `deadline()` into the poll
timeout, and `expire(now)` drops the connections past theirs.

Each connection lives at most `TIMEOUT` seconds from its accept, whatever it does: a client
that sends nothing, or never reads its answer, is dropped then. A request head (request line
and headers) longer than `MAX_HEAD` bytes is refused; at most `MAX_CONNECTIONS` are open at
once (the listening socket is not polled meanwhile, and the kernel's backlog holds the
rest). The answer always closes the connection (`Connection: close`): the write side is shut
and whatever the client still sends (a body) is read and dropped until it closes too, so it
gets the whole answer rather than a reset.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import zmq

from actors.root.exposition import CONTENT_TYPE
from actors.root.startup import StartupError
from broker.endpoints import parse_http_address

TIMEOUT = 5.0            # seconds a connection may live, from its accept
MAX_HEAD = 8192          # bytes of request line and headers
MAX_CONNECTIONS = 16
MAX_DISCARD = 65536      # bytes read and dropped after the answer, at most
PATH = "/metrics"


def listen(text: str) -> socket.socket:
    """The listening socket for a --metrics address (checked by zeroinit already, with
    endpoints.parse_http_address). Raises StartupError: port in use, address not here."""
    host, port = parse_http_address(text)
    family, kind, proto, _, where = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(where)
        sock.listen(64)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot serve metrics on {text}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


@dataclass
class _Connection:
    sock: socket.socket
    deadline: float
    head: bytearray = field(default_factory=bytearray)
    answer: memoryview | None = None   # what is left to write; None: still reading
    discarded: int = 0                 # after the answer: bytes read and dropped


class MetricsHttp:
    """The metrics endpoint (or, without --metrics, nothing: no fds, no deadline)."""

    def __init__(self, listener: socket.socket | None, body: Callable[[], str],
                 poller: zmq.Poller):
        self.listener = listener
        self.body = body                     # the exposition text, made when asked
        self.poller = poller
        self.connections: dict[int, _Connection] = {}
        self.listening = False               # the listener is registered with the poller
        self._listen(True)

    @classmethod
    def open(cls, address: str | None, body: Callable[[], str],
             poller: zmq.Poller) -> MetricsHttp:
        return cls(listen(address) if address else None, body, poller)

    def __contains__(self, fd: object) -> bool:
        return fd in self.connections or (self.listener is not None
                                          and fd == self.listener.fileno())

    def deadline(self) -> float | None:
        return min((c.deadline for c in self.connections.values()), default=None)

    def on_fd(self, fd: int, events: int, now: float) -> None:
        if self.listener is not None and fd == self.listener.fileno():
            self._accept(now)
            return
        conn = self.connections[fd]
        try:
            if conn.answer is not None and events & zmq.POLLOUT:
                self._write(conn)
            elif events & zmq.POLLIN:
                self._read(conn)
        except OSError:
            self._drop(conn)

    def expire(self, now: float) -> None:
        for conn in [c for c in self.connections.values() if c.deadline <= now]:
            self._drop(conn)

    def close(self) -> None:
        for conn in list(self.connections.values()):
            self._drop(conn)
        if self.listener is not None:
            self._listen(False)
            self.listener.close()
            self.listener = None

    # --- connections --------------------------------------------------------------------------

    def _listen(self, on: bool) -> None:
        if self.listener is None or on == self.listening:
            return
        if on:
            self.poller.register(self.listener.fileno(), zmq.POLLIN)
        else:
            self.poller.unregister(self.listener.fileno())
        self.listening = on

    def _accept(self, now: float) -> None:
        while len(self.connections) < MAX_CONNECTIONS:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # the client gave up already (ECONNABORTED) or no fds: try later
            sock.setblocking(False)
            self.connections[sock.fileno()] = _Connection(sock, now + TIMEOUT)
            self.poller.register(sock.fileno(), zmq.POLLIN)
        self._listen(False)

    def _read(self, conn: _Connection) -> None:
        data = conn.sock.recv(4096)
        if not data:
            self._drop(conn)
            return
        if conn.answer is not None:  # answered already: drop what it still sends
            conn.discarded += len(data)
            if conn.discarded > MAX_DISCARD:
                self._drop(conn)
            return
        conn.head += data
        end = _end_of_head(conn.head)
        if end is None and len(conn.head) <= MAX_HEAD:
            return
        if end is None or end > MAX_HEAD:
            status = "414 URI Too Long" if b"\n" not in conn.head else \
                "431 Request Header Fields Too Large"
            self._answer(conn, b"HTTP/1.0", status)
        else:
            self._answer(conn, *self._respond(bytes(conn.head[:end])))

    def _respond(self, head: bytes) -> tuple[bytes, str, str]:
        """(version, status, body) for one request head."""
        words = head.split(b"\n", 1)[0].strip().split(b" ")
        if len(words) != 3 or words[2] not in (b"HTTP/1.0", b"HTTP/1.1"):
            return b"HTTP/1.0", "400 Bad Request", ""
        method, target, version = words
        if method != b"GET":
            return version, "405 Method Not Allowed", ""
        if target.split(b"?", 1)[0] != PATH.encode():
            return version, "404 Not Found", ""
        try:
            return version, "200 OK", self.body()
        except Exception:  # noqa: BLE001 - a scrape must not take the root's loop down
            return version, "500 Internal Server Error", ""

    def _answer(self, conn: _Connection, version: bytes, status: str, body: str = "") -> None:
        payload = (body or status.split(" ", 1)[1] + "\n").encode()
        headers = [f"{version.decode()} {status}",
                   f"Content-Type: {CONTENT_TYPE if body else 'text/plain; charset=utf-8'}",
                   f"Content-Length: {len(payload)}", "Connection: close"]
        if status.startswith("405"):
            headers.append("Allow: GET")
        conn.answer = memoryview(("\r\n".join(headers) + "\r\n\r\n").encode() + payload)
        self.poller.modify(conn.sock.fileno(), zmq.POLLOUT)

    def _write(self, conn: _Connection) -> None:
        try:
            sent = conn.sock.send(conn.answer)
        except BlockingIOError:
            return
        conn.answer = conn.answer[sent:]
        if not conn.answer:
            conn.sock.shutdown(socket.SHUT_WR)
            self.poller.modify(conn.sock.fileno(), zmq.POLLIN)

    def _drop(self, conn: _Connection) -> None:
        fd = conn.sock.fileno()
        self.poller.unregister(fd)
        del self.connections[fd]
        conn.sock.close()
        self._listen(True)


def _end_of_head(head: bytearray) -> int | None:
    """Where the request head ends (after its blank line), or None if it has not yet."""
    ends = [at + len(mark) for mark in (b"\r\n\r\n", b"\n\n") if (at := head.find(mark)) >= 0]
    return min(ends, default=None)
