"""The Python client of the control protocol; `zeroctl` is built on it.

    client = Client("ipc:///run/zeroinit/control", timeout=5)
    statuses = client.call("status", names=["web"])

`call` sends one request and returns the `result` of its reply, or raises `RemoteError` with
the reply's error code. `stream` yields the `event`/`output` messages of a streaming request.
Not reaching the supervisor within the timeout raises `Unreachable`.

For a local ipc endpoint without CURVE, the client speaks ZMTP itself (broker/zmtp.py) and never
imports pyzmq, which keeps `zeroctl status` fast; otherwise it uses a pyzmq DEALER, a CURVE
client when given `curve` (`{"public", "secret", "server"}`, Z85; see broker/curve.py
`client_keys`). A handshake the server refuses (a key it does not know) is `Unreachable`
at once, saying so.
"""

from __future__ import annotations

import errno
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from broker import protocol
from broker.endpoints import ipc_path, normalise


class Unreachable(Exception):
    """The supervisor could not be reached (or the connection was lost)."""


class TimedOut(Unreachable):
    """No answer came within the time asked for; the connection may still be fine."""


def _connect_problem(path: str, exc: OSError) -> str:
    """Why connecting to an ipc socket failed, in words a user can act on."""
    where = f"ipc://{path}"
    if exc.errno == errno.ECONNREFUSED:
        return f"no supervisor is running at {where} (the socket is left from one that ended)"
    if exc.errno == errno.ENOENT:
        return f"cannot reach the supervisor at {where}: no socket there (is zeroinit running?)"
    if exc.errno == errno.EACCES:
        return f"cannot reach the supervisor at {where}: permission denied (another user's?)"
    if exc.errno in (errno.ENOTDIR, errno.ENOTSOCK):
        return f"cannot reach the supervisor at {where}: that is not a socket"
    return f"cannot reach the supervisor at {where}: {exc}"


class RemoteError(Exception):
    """The supervisor answered with an error."""

    def __init__(self, code: str, message: str, details: dict[str, Any]):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


class _ZmtpTransport:
    def __init__(self, path: str, timeout: float):
        from broker.zmtp import ZmtpDealer, ZmtpError, ZmtpTimeout
        self._error, self._timeout = ZmtpError, ZmtpTimeout
        try:
            self._dealer = ZmtpDealer(path, timeout)
        except ZmtpError as exc:
            raise Unreachable(_connect_problem(path, exc)) from None

    def send(self, frame: bytes) -> None:
        try:
            self._dealer.send(frame)
        except self._error as exc:
            raise Unreachable(f"lost the connection to the supervisor: {exc}") from None

    def recv(self, timeout: float | None) -> bytes:
        try:
            return self._dealer.recv(timeout)[-1]
        except self._timeout as exc:
            raise TimedOut(str(exc)) from None
        except self._error as exc:
            raise Unreachable(str(exc)) from None

    def close(self) -> None:
        self._dealer.close()


class _ZmqTransport:
    def __init__(self, endpoint: str, curve: dict[str, bytes] | None):
        import zmq
        self._zmq = zmq
        self._ctx = zmq.Context(io_threads=1)
        self._sock = self._ctx.socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        if curve:
            self._sock.curve_secretkey = curve["secret"]
            self._sock.curve_publickey = curve["public"]
            self._sock.curve_serverkey = curve["server"]
        self._monitor = self._sock.get_monitor_socket(
            zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_FAILED_AUTH
            | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        self._sock.connect(endpoint)
        self._poller = zmq.Poller()
        self._poller.register(self._sock, zmq.POLLIN)
        self._poller.register(self._monitor, zmq.POLLIN)
        self._endpoint = endpoint

    def send(self, frame: bytes) -> None:
        self._sock.send(frame)

    def recv(self, timeout: float | None) -> bytes:
        ms = None if timeout is None else max(0, int(timeout * 1000))
        while True:
            ready = dict(self._poller.poll(ms))
            if not ready:
                raise TimedOut(f"no answer from the supervisor at {self._endpoint}")
            if self._sock in ready:
                return self._sock.recv_multipart()[-1]
            raise Unreachable(self._why(self._monitor.recv_multipart()))

    def _why(self, event: list[bytes]) -> str:
        from zmq.utils.monitor import parse_monitor_message
        what = parse_monitor_message(event)["event"]
        if what == self._zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            return (f"the supervisor at {self._endpoint} refused our CURVE key (is our *.pub "
                    f"in its admin or read-only folder?)")
        if what == self._zmq.EVENT_DISCONNECTED:
            return f"lost the connection to the supervisor at {self._endpoint}"
        return (f"the CURVE handshake with {self._endpoint} failed (is the key in our "
                f"broker folder the supervisor's?)")

    def close(self) -> None:
        self._sock.disable_monitor()
        self._monitor.close(0)
        self._sock.close(0)
        self._ctx.term()


class Client:
    """A connection to one supervisor (or broker). Not thread-safe; one request at a time."""

    def __init__(self, endpoint: str, timeout: float = 5.0,
                 curve: dict[str, bytes] | None = None):
        self.endpoint = normalise(endpoint)
        self.timeout = timeout
        path = ipc_path(self.endpoint)
        if path is not None and curve is None:
            self._transport = _ZmtpTransport(path, timeout)
        else:
            self._transport = _ZmqTransport(self.endpoint, curve)
        self._ids = itertools.count(1)
        self._greeted = False

    def _send(self, kind: str, fields: dict[str, Any]) -> int:
        request_id = next(self._ids)
        self._transport.send(protocol.encode(kind, id=request_id, **fields))
        return request_id

    def _greet(self) -> None:
        """Check, within the timeout, that a supervisor of our protocol answers."""
        if self._greeted:
            return
        request_id = self._send("hello", {})
        reply = self._next(request_id, self.timeout)
        if not reply["ok"]:
            raise RemoteError(**_error_fields(reply))
        self._greeted = True

    def _next(self, request_id: int, timeout: float | None) -> dict[str, Any]:
        while True:
            try:
                message = protocol.decode_response(self._transport.recv(timeout))
            except protocol.ProtocolError as exc:
                raise Unreachable(f"the peer at {self.endpoint} is not a zeroinit "
                                  f"supervisor ({exc})") from None
            if message["id"] == request_id:
                return message

    def call(self, kind: str, *, until_done: bool = False,
             on_wait: Callable[[], None] | None = None, wait_tick: float = 0.5,
             **fields: Any) -> Any:
        """Send `kind` and return its result. With `until_done` the reply may take as long as
        the command does (a start waiting for readiness); otherwise the timeout applies.
        `on_wait` (with `until_done`) is called every `wait_tick` seconds while no reply has
        come, to show progress."""
        self._greet()
        request_id = self._send(kind, fields)
        if until_done and on_wait is not None:
            reply = self._next_waiting(request_id, on_wait, wait_tick)
        else:
            reply = self._next(request_id, None if until_done else self.timeout)
        if not reply["ok"]:
            raise RemoteError(**_error_fields(reply))
        return reply["result"]

    def _next_waiting(self, request_id: int, on_wait: Callable[[], None],
                      tick: float) -> dict[str, Any]:
        while True:
            try:
                return self._next(request_id, tick)
            except TimedOut:
                on_wait()

    def stream(self, kind: str, *, idle_timeout: float | None = None,
               **fields: Any) -> Iterator[dict[str, Any]]:
        """Yield the stream messages of `kind` until the supervisor ends it with a reply.
        With `idle_timeout`, `Unreachable` is raised when nothing comes for that long."""
        self._greet()
        request_id = self._send(kind, fields)  # sent now, before the first message is asked for
        return self._messages(request_id, idle_timeout)

    def _messages(self, request_id: int, idle_timeout: float | None) -> Iterator[dict[str, Any]]:
        while True:
            message = self._next(request_id, idle_timeout)
            if message["kind"] == "reply":
                if not message["ok"]:
                    raise RemoteError(**_error_fields(message))
                return
            yield message

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _error_fields(reply: dict[str, Any]) -> dict[str, Any]:
    error = dict(reply.get("error") or {})
    code = str(error.pop("code", "error"))
    message = str(error.pop("message", "the supervisor reported an error"))
    return {"code": code, "message": message, "details": error}
