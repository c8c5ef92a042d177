"""Where zeroinit listens: endpoint syntax, the default paths, and ipc socket permissions.

A plain path means `ipc://PATH`. The control endpoint's default depends on who runs zeroinit
(see `default_control_endpoint`); the actor endpoint, where watchers connect, is always a local
ipc socket beside it. An ipc socket lives in a directory of mode 0700 and is itself 0600 unless
`--socket-mode` says otherwise, so only its owner can drive the supervisor. `--metrics`
takes a HOST:PORT of its own (`parse_http_address`).
"""

from __future__ import annotations

import os
import socket
import stat

IPC = "ipc://"
TCP = "tcp://"
MAX_IPC_PATH = 107  # sockaddr_un.sun_path is 108 bytes with its terminating NUL (unix(7))


class EndpointError(ValueError):
    """An endpoint that can't be used, with the reason in words."""


def normalise(endpoint: str) -> str:
    """`/run/x` -> `ipc:///run/x`; `ipc://` and `tcp://` endpoints are kept once checked.

    Every endpoint that can't work is refused here with a sentence saying what is wrong, so
    that no caller meets ZeroMQ's "Invalid argument" for it.
    """
    if not endpoint.strip():
        raise EndpointError("the endpoint is empty: give a path, ipc://PATH or tcp://HOST:PORT")
    if endpoint.startswith(TCP):
        _check_tcp(endpoint)
        return endpoint
    if endpoint.startswith(IPC):
        path = endpoint[len(IPC):]
        if not path:
            raise EndpointError(f"endpoint {endpoint!r} has no socket path after ipc://")
    elif "://" in endpoint:
        scheme = endpoint.split("://", 1)[0]
        raise EndpointError(f"unsupported endpoint {endpoint!r}: {scheme}:// is not a "
                            f"transport of zeroinit; use a path, ipc://PATH or tcp://HOST:PORT")
    else:
        path = os.path.abspath(endpoint)
    if len(path.encode()) > MAX_IPC_PATH:
        raise EndpointError(f"socket path {path} is longer than the {MAX_IPC_PATH} bytes a "
                            f"Unix socket allows")
    return IPC + path


def _check_tcp(endpoint: str) -> None:
    address = endpoint[len(TCP):]
    host, colon, port = address.rpartition(":")
    if not colon or not host:
        raise EndpointError(f"endpoint {endpoint!r} has no port: write tcp://HOST:PORT, "
                            f"for example tcp://{address or 'localhost'}:5555")
    if "/" in port or "/" in host:
        raise EndpointError(f"endpoint {endpoint!r} has a path: write tcp://HOST:PORT")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise EndpointError(f"endpoint {endpoint!r} has port {port!r}: a port is a number "
                            f"from 1 to 65535")


def parse_http_address(text: str) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets, [::1]:9100; an empty HOST is every interface)
    -> (host, port). Raises EndpointError."""
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or not 0 < int(port) < 65536:
        raise EndpointError(f"--metrics {text!r} is not HOST:PORT with a port from 1 to 65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise EndpointError(f"--metrics {text!r}: write an IPv6 address in brackets, "
                            f"[{host}]:{port}")
    try:
        socket.getaddrinfo(host or None, int(port), type=socket.SOCK_STREAM,
                           flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise EndpointError(f"--metrics {text!r}: cannot resolve {host!r} "
                            f"({exc.strerror or exc})") from None
    return host, int(port)


def ipc_path(endpoint: str) -> str | None:
    """The socket file of an ipc endpoint, else None."""
    return endpoint[len(IPC):] if endpoint.startswith(IPC) else None


def runtime_dir() -> str:
    """The directory for zeroinit's sockets: /run/zeroinit for root, else per user."""
    if os.geteuid() == 0:
        return "/run/zeroinit"
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return os.path.join(xdg, "zeroinit")
    return f"/tmp/zeroinit-{os.geteuid()}"


def default_control_endpoint() -> str:
    env = os.environ.get("ZEROINIT_SOCKET")
    if env:
        return normalise(env)
    return IPC + os.path.join(runtime_dir(), "control")


def default_services_dirs() -> list[str]:
    if os.geteuid() == 0:
        return ["/etc/zeroinit.d"]
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return [os.path.join(config, "zeroinit.d")]


def actor_endpoint(control: str) -> str:
    """The watchers' endpoint: beside an ipc control socket, else in the runtime dir."""
    path = ipc_path(control)
    if path is not None:
        return IPC + path + ".actors"
    port = control.rsplit(":", 1)[-1]
    return IPC + os.path.join(runtime_dir(), f"actors-{port}")


def prepare_ipc_dir(path: str) -> None:
    """Create the socket's directory (mode 0700) if missing; refuse a directory that others
    could write to, since they could then replace the socket."""
    directory = os.path.dirname(path) or "."
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        info = os.stat(directory)
    except OSError as exc:
        raise EndpointError(f"cannot create socket directory {directory}: {exc.strerror}") from None
    if info.st_uid not in (os.geteuid(), 0):
        raise EndpointError(f"socket directory {directory} belongs to uid {info.st_uid}, not "
                            f"to us; use a directory of our own")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise EndpointError(f"socket directory {directory} is writable by others; "
                            f"use a private directory")
    if len(path.encode()) > MAX_IPC_PATH:
        raise EndpointError(f"socket path {path} is longer than the {MAX_IPC_PATH} bytes a "
                            f"Unix socket allows")


def secure_socket(path: str, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except OSError as exc:
        raise EndpointError(f"cannot set mode of {path}: {exc.strerror}") from None
