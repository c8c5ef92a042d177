"""The root's start-up chores, kept out of its loop: the CURVE keys of a tcp:// control
endpoint, binding the control and actor sockets (with the fallback to a private /tmp
directory when the default one cannot be used), the signal wake-up fd, telling `--ready-fd`,
reaping children, and waiting for a child at the end.
"""

from __future__ import annotations

import os
import select
import signal
import socket
from collections.abc import Callable

import zmq

from actors.root.console import Console
from broker import endpoints
from actors.root.options import RootOptions
from broker.curve import CONTROL_DOMAIN, CurveError, Roles
from broker.listen import bind_router
from broker.zap import ZapHandler


class StartupError(Exception):
    """The supervisor cannot start; the message says why, in one sentence."""


def bind(ctx: zmq.Context, endpoint: str, mode: int,
         configure: Callable[[zmq.Socket], None] | None = None) -> zmq.Socket:
    try:
        return bind_router(ctx, endpoint, mode, configure)
    except endpoints.EndpointError as exc:
        raise StartupError(str(exc)) from None


def curve_roles(options: RootOptions, zap: ZapHandler, console: Console) -> Roles | None:
    """For a tcp:// control endpoint, the keys of `--curve-dir`, answering the `control` ZAP
    domain from now on; None for ipc:// (its file's permissions decide)."""
    if not endpoints.normalise(options.endpoint).startswith(endpoints.TCP):
        return None
    if not options.curve_dir:
        raise StartupError(f"{options.endpoint}: a tcp:// endpoint needs CURVE keys: give "
                           f"--curve-dir DIR (see zeroctl keygen), or use an ipc endpoint")
    try:
        roles = Roles(options.curve_dir)
    except CurveError as exc:
        raise StartupError(f"--curve-dir: {exc}") from None
    if not roles.known:
        console.log(f"no client key in {options.curve_dir}/admin or "
                    f"{options.curve_dir}/read-only yet: every client is refused until one "
                    f"is put there")
    zap.serve(CONTROL_DOMAIN, roles.verdict)
    return roles


def bind_control(ctx: zmq.Context, endpoint: str, given: bool, mode: int,
                 console: Console, curve: Roles | None = None) -> tuple[zmq.Socket, str]:
    """The control socket and its endpoint. A default endpoint that cannot be used (a
    container may have no writable /run) falls back to a private directory in /tmp; one the
    user gave does not. A tcp:// one is a CURVE server of `curve`'s keys (cli/zeroinit.py
    refuses tcp:// without them); an ipc:// one relies on the file's permissions."""
    endpoint = endpoints.normalise(endpoint)
    if endpoint.startswith(endpoints.TCP):
        if curve is None:
            raise StartupError(f"{endpoint}: a tcp:// endpoint needs CURVE keys (--curve-dir)")
        return bind(ctx, endpoint, mode, curve.configure), endpoint
    try:
        return bind(ctx, endpoint, mode), endpoint
    except StartupError as exc:
        if given:
            raise
        fallback = endpoints.IPC + f"/tmp/zeroinit-{os.geteuid()}/control"
        console.log(f"{exc}; using {fallback}")
        return bind(ctx, fallback, mode), fallback


def signal_wakeup(signals: tuple[int, ...]) -> tuple[socket.socket, socket.socket]:
    """A socket pair on which each of `signals` arrives as a byte, for the loop to poll."""
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)
    for signum in signals:
        signal.signal(signum, _note_signal)
    return wake_r, wake_w


def _note_signal(signum: int, frame: object) -> None:
    """Python-level handler: the wake-up fd carries the signal to the loop."""


def signal_ready(fd: int, console: Console) -> None:
    try:
        os.write(fd, b"\n")
    except OSError as exc:
        # Whoever waited is gone: nothing to tell, and no reason not to run.
        console.log(f"cannot write to --ready-fd {fd}: {exc.strerror}")
    try:
        os.close(fd)
    except OSError:
        pass


def wait_for(pid: int, timeout: float) -> None:
    """Reap child `pid`, killing it if it has not ended within `timeout` seconds."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        if not select.select([fd], [], [], timeout)[0]:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass
    finally:
        os.close(fd)


def reap_children(zygote_pid: int, on_gone: Callable[[int], None]) -> None:
    """Reap whatever ended among the root's children: orphans re-parented to it (it is a
    child subreaper, or PID 1), watchers whose zygote is gone, the zygote itself; `on_gone`
    hears of each but the zygote (whose end its socket tells)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid != zygote_pid:
            on_gone(pid)
