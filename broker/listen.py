"""The root's listening sockets: a ZeroMQ ROUTER bound on an endpoint, and for `ipc://` the
rules around its file — a private directory, a dead supervisor's socket removed, a live one's
refused, the socket's mode, and the file removed again on a clean exit. Every failure is an `EndpointError` saying what and where.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import zmq

from broker import endpoints
from broker.endpoints import EndpointError


def bind_router(ctx: zmq.Context, endpoint: str, mode: int,
                configure: Callable[[zmq.Socket], None] | None = None) -> zmq.Socket:
    """A ROUTER bound on `endpoint`; `configure` sets options that must precede the bind
    (security ones: libzmq copies them into the listener)."""
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
    sock.setsockopt(zmq.LINGER, 1000)
    if configure is not None:
        configure(sock)
    path = endpoints.ipc_path(endpoint)
    try:
        if path is not None:
            endpoints.prepare_ipc_dir(path)
            _clear_stale_socket(path)
        sock.bind(endpoint)
        if path is not None:
            endpoints.secure_socket(path, mode)
    except SocketInUse:
        sock.close(0)
        raise
    except (EndpointError, zmq.ZMQError) as exc:
        sock.close(0)
        raise EndpointError(f"cannot listen on {endpoint}: {exc}") from None
    except BaseException:
        sock.close(0)  # an open socket would keep the context from terminating
        raise
    return sock


def close_router(sock: zmq.Socket, endpoint: str, linger: int) -> None:
    """Close a socket `bind_router` made, and remove its ipc file, so that no stale socket
    outlives the supervisor (a client would meet "connection refused" there)."""
    sock.close(linger=linger)
    path = endpoints.ipc_path(endpoint)
    if path is not None:
        try:
            os.unlink(path)
        except OSError:
            pass  # gone already


class SocketInUse(EndpointError):
    """Another supervisor answers on the socket."""


def _clear_stale_socket(path: str) -> None:
    """Refuse to take over a live supervisor's socket; remove a dead one's."""
    if not os.path.exists(path):
        return
    from broker.zmtp import ZmtpDealer, ZmtpError
    try:
        ZmtpDealer(path, 0.5).close()
    except ZmtpError:
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    raise SocketInUse(f"another supervisor is already listening on ipc://{path}")
