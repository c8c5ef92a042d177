"""The root actor: the supervisor's one event loop.

It owns the engine and makes the decisions; it never forks a daemon and never blocks. One
`zmq.Poller` watches the control socket (clients), the actor socket (watchers), the zygote's
socket pair, and a signal wake-up fd; the engine's next deadline is the poll timeout, so an
idle supervisor wakes up zero times. Every input becomes an engine event, and the engine's
effects become orders to watchers, console lines and replies (`apply_effects`).

An unexpected error while handling one input is logged and the loop goes on: as PID 1 the
root must not die.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import time
import traceback
from dataclasses import dataclass, field

import zmq

from actors.console import Console
from actors.control import ControlServer
from actors.engine import (Chain, Engine, ExitStatus, Idle, Kill, Log, Notify, Retire, Role,
                           Signal, Spawn)
from actors.errors import LoadFailure
from actors.launch import launch_for
from actors.loader import ServiceLoader
from actors.watchers import WatcherTable
from actors.zygote import ZygoteClient
from broker import endpoints, protocol

PR_SET_CHILD_SUBREAPER = 36
EXIT_GRACE = 5.0  # once idle, how long to wait for watchers to leave before exiting anyway
SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StartupError(Exception):
    """The supervisor cannot start; the message says why, in one sentence."""


@dataclass
class RootOptions:
    services: list[str] = field(default_factory=lambda: ["boot"])
    dirs: list[str] = field(default_factory=endpoints.default_services_dirs)
    endpoint: str = field(default_factory=endpoints.default_control_endpoint)
    socket_mode: int = 0o600
    ready_fd: int | None = None
    quiet: bool = False
    profile: str | None = None


class Root:
    def __init__(self, options: RootOptions):
        self.options = options
        self.console = Console(options.quiet)
        self.engine = Engine()
        self.loader = ServiceLoader(options.dirs, dict(os.environ), options.profile)
        self.finished = False
        self.exit_status = 0
        self.idle = False
        self.exit_deadline: float | None = None

    @staticmethod
    def now() -> float:
        return time.monotonic()

    # -----------------------------------------------------------------------------------------
    # Start-up and the loop
    # -----------------------------------------------------------------------------------------

    def run(self) -> int:
        try:
            self._start()
        except StartupError as exc:
            self.console.log(str(exc))
            self._close()
            return 1
        while not self.finished:
            try:
                self._step()
            except Exception:  # noqa: BLE001 - the loop must outlive any one mistake
                self.console.log("internal error (the supervisor carries on):\n"
                                 + traceback.format_exc().rstrip())
        self._close()
        return self.exit_status

    def _start(self) -> None:
        # The zygote first: a process holding a ZeroMQ context must never fork.
        self.zygote = ZygoteClient.fork()
        _become_subreaper()
        self._install_signals()
        self.ctx = zmq.Context(io_threads=1)
        self.control_endpoint = endpoints.normalise(self.options.endpoint)
        self.control_sock = self._bind(self.control_endpoint, self.options.socket_mode)
        self.actor_endpoint = endpoints.actor_endpoint(self.control_endpoint)
        self.actor_sock = self._bind(self.actor_endpoint, 0o600)
        self.actor_sock.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self.watchers = WatcherTable(self.zygote, self.actor_sock, self.actor_endpoint)
        self.control = ControlServer(self)
        self.poller = zmq.Poller()
        for item in (self.control_sock, self.actor_sock, self.zygote.fileno(),
                     self._wake_r.fileno()):
            self.poller.register(item, zmq.POLLIN)
        if self.options.ready_fd is not None:
            _signal_ready(self.options.ready_fd)
        started = 0
        for name in self.options.services:
            error = self.ensure_loaded(name)
            if error:
                self.console.log(error)
                continue
            self.engine.start(name, self.now())
            started += 1
        if not started:
            self.exit_status = 1
            self.console.log("no service could be started; exiting")
        self.apply_effects()
        self.idle = self.engine.active_count == 0

    def _bind(self, endpoint: str, mode: int) -> zmq.Socket:
        sock = self.ctx.socket(zmq.ROUTER)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        sock.setsockopt(zmq.LINGER, 1000)
        path = endpoints.ipc_path(endpoint)
        try:
            if path is not None:
                endpoints.prepare_ipc_dir(path)
                _clear_stale_socket(path)
            sock.bind(endpoint)
            if path is not None:
                endpoints.secure_socket(path, mode)
        except (endpoints.EndpointError, zmq.ZMQError) as exc:
            sock.close(0)
            raise StartupError(f"cannot listen on {endpoint}: {exc}") from None
        return sock

    def _install_signals(self) -> None:
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        for signum in SHUTDOWN_SIGNALS + (signal.SIGCHLD, signal.SIGHUP, signal.SIGUSR1,
                                          signal.SIGUSR2, signal.SIGWINCH, signal.SIGQUIT):
            signal.signal(signum, _note_signal)

    def _step(self) -> None:
        deadline = self.engine.next_deadline()
        if self.exit_deadline is not None:
            deadline = min(deadline or self.exit_deadline, self.exit_deadline)
        timeout = None if deadline is None else max(0, (deadline - self.now()) * 1000)
        for item, _ in self.poller.poll(timeout):
            if item is self.control_sock:
                self._drain(self.control_sock, self.control.on_frames)
            elif item is self.actor_sock:
                self._drain(self.actor_sock, self._on_actor_frames)
            elif item == self.zygote.fileno():
                self._on_zygote()
            elif item == self._wake_r.fileno():
                self._on_signals()
        self.engine.advance(self.now())
        self.apply_effects()
        self._check_exit()

    def _drain(self, sock: zmq.Socket, handle) -> None:
        # Bounded, so one chatty peer can't starve the others.
        for _ in range(1000):
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                handle(frames)
            except Exception:  # noqa: BLE001
                self.console.log("internal error handling a message:\n"
                                 + traceback.format_exc().rstrip())
            self.apply_effects()

    # -----------------------------------------------------------------------------------------
    # Effects
    # -----------------------------------------------------------------------------------------

    def apply_effects(self) -> None:
        while effects := self.engine.take_effects():
            for effect in effects:
                self._apply(effect)
        self.control.after_effects()

    def _apply(self, effect) -> None:
        if isinstance(effect, Notify):
            self.console.on_notify(effect)
            self.control.on_notify(effect)
        elif isinstance(effect, Spawn):
            launch = launch_for(self.engine.spec(effect.service), effect.role)
            self.watchers.spawn(effect.service, effect.role.value, launch)
        elif isinstance(effect, Signal):
            self.watchers.send(effect.service, "signal", signal=effect.signal,
                               group=effect.group)
        elif isinstance(effect, Kill):
            self.watchers.send(effect.service, "kill")
        elif isinstance(effect, Retire):
            self.watchers.retire(effect.service)
        elif isinstance(effect, Log):
            self.console.on_log(effect)
        elif isinstance(effect, Chain):
            error = self.ensure_loaded(effect.target)
            if error:
                self.console.log(f"{effect.service}: cannot chain to {effect.target}: {error}")
            elif not self.engine.shutting_down:
                self.engine.start(effect.target, self.now())
        elif isinstance(effect, Idle):
            self.idle = True

    # -----------------------------------------------------------------------------------------
    # Watchers and the zygote
    # -----------------------------------------------------------------------------------------

    def _on_actor_frames(self, frames: list[bytes]) -> None:
        if len(frames) != 2 or not frames[0]:
            return
        identity, payload = frames
        try:
            report = protocol.decode_report(payload)
        except protocol.ProtocolError:
            return  # only watchers talk here (the socket is private); garbage is dropped
        service = identity.decode(errors="replace")
        kind = report["kind"]
        if kind == "hello":
            if report["service"] != service or self.watchers.on_hello(
                    service, report["watcher_pid"]) is None:
                self.console.log(f"an unknown watcher for {service!r} connected; retiring it")
                for order in ("kill", "retire"):
                    self._send_unknown(identity, order)
            return
        if service not in self.engine or service not in self.watchers:
            return  # a stray report from a watcher the root no longer knows
        now = self.now()
        if kind == "spawned":
            self.engine.on_spawned(service, report["pid"], now, Role(report["role"]))
        elif kind == "spawn_failed":
            self.engine.on_spawn_failed(service, report["reason"], now, Role(report["role"]))
        elif kind == "ready":
            self.engine.on_ready(service, now)
        elif kind == "ready_failed":
            self.engine.on_ready_failed(service, now)
        elif kind == "exited":
            self.engine.on_exited(service, ExitStatus(report["code"], report["signal"]), now,
                                  Role(report["role"]))
        elif kind == "logs":
            self.control.on_logs_report(report["request"], report["data"], report["truncated"])
        elif kind == "output":
            self.control.on_output(service, report["data"])
        elif kind == "retired":
            self.watchers.on_retired(service, report["log"])

    def _send_unknown(self, identity: bytes, kind: str) -> None:
        try:
            self.actor_sock.send_multipart([identity, protocol.encode(kind)], zmq.NOBLOCK)
        except zmq.ZMQError:
            pass

    def _on_zygote(self) -> None:
        messages = self.zygote.receive()
        for message in messages or ():
            if "forked" in message:
                self.watchers.on_forked(message["forked"], message["pid"])
            elif "reaped" in message:
                self._watcher_gone(message["reaped"])
        if messages is None and not self.finished:
            self.console.log("the zygote ended; starting a new one")
            self.poller.unregister(self.zygote.fileno())
            self.zygote.close()
            self.zygote = ZygoteClient.exec()
            self.watchers.zygote = self.zygote
            self.poller.register(self.zygote.fileno(), zmq.POLLIN)

    def _watcher_gone(self, pid: int) -> None:
        handle = self.watchers.on_gone(pid)
        if handle is None:
            return
        service = handle.service
        self.console.log(f"{service}: its watcher (pid {pid}) died; "
                         f"its processes are stopped and it is handled as exited")
        daemon = self.engine.pid(service) if service in self.engine else None
        if daemon is not None:
            try:
                os.killpg(daemon, signal.SIGKILL)
            except OSError:
                pass
        if service in self.engine:
            self.engine.on_lost(service, self.now())

    def _on_signals(self) -> None:
        try:
            data = self._wake_r.recv(4096)
        except BlockingIOError:
            return
        for signum in data:
            if signum == signal.SIGCHLD:
                self._reap()
            elif signum in SHUTDOWN_SIGNALS:
                self.begin_shutdown(f"received {signal.Signals(signum).name}; stopping services")

    def _reap(self) -> None:
        """Reap whatever ended among our children: orphans re-parented to us (we are a child
        subreaper, or PID 1), watchers whose zygote is gone, the zygote itself."""
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid != self.zygote.pid:
                self._watcher_gone(pid)

    # -----------------------------------------------------------------------------------------
    # Services
    # -----------------------------------------------------------------------------------------

    def ensure_loaded(self, name: str) -> str | None:
        """Load `name` (and what it needs) if it isn't yet; an error sentence, or None."""
        if name in self.engine:
            return None
        try:
            specs = self.loader.load(name, self.engine.specs())
        except LoadFailure as failure:
            return _one_sentence(failure)
        self.engine.add(specs)
        return None

    def reload(self, name: str) -> str | None:
        if name not in self.engine:
            return self.ensure_loaded(name)
        try:
            specs = self.loader.reload(name, self.engine.specs())
        except LoadFailure as failure:
            return f"cannot reload {name}: {_one_sentence(failure)}"
        self.engine.add(spec for spec in specs if spec.name != name)
        new = next(spec for spec in specs if spec.name == name)
        outcome = self.engine.reload(new, self.now())
        self.apply_effects()
        return None if outcome.ok else outcome.message

    def status(self, name: str) -> dict:
        status = self.engine.status(name)
        spec = self.engine.spec(name)
        if spec.instances:
            states = [self.engine.state(dep).value for dep in spec.depends_on]
            status["instances"] = {"total": len(states), "started": states.count("started")}
        return status

    def begin_shutdown(self, reason: str) -> None:
        if not self.engine.shutting_down:
            self.console.log(reason)
        self.engine.shutdown(self.now())
        self.apply_effects()

    def send_client(self, envelope: tuple[bytes, ...], frame: bytes) -> bool:
        try:
            self.control_sock.send_multipart([*envelope, frame], zmq.NOBLOCK)
            return True
        except zmq.ZMQError:
            return False

    def _check_exit(self) -> None:
        if self.engine.active_count > 0:
            self.idle = False
            self.exit_deadline = None
            return
        if not self.idle:
            return
        if self.exit_deadline is None:
            self.exit_deadline = self.now() + EXIT_GRACE
        if not len(self.watchers) or self.now() >= self.exit_deadline:
            self.finished = True

    def _close(self) -> None:
        control = getattr(self, "control", None)
        if control is not None:
            control.on_exit()
        for name in ("control_sock", "actor_sock"):
            sock = getattr(self, name, None)
            if sock is not None:
                sock.close(linger=1000)
        ctx = getattr(self, "ctx", None)
        if ctx is not None:
            ctx.term()
        zygote = getattr(self, "zygote", None)
        if zygote is not None:
            zygote.close()
            _wait_for(zygote.pid, 2.0)


def _note_signal(signum: int, frame: object) -> None:
    """Python-level handler: the wake-up fd carries the signal to the loop."""


def _become_subreaper() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _signal_ready(fd: int) -> None:
    try:
        os.write(fd, b"\n")
        os.close(fd)
    except OSError as exc:
        raise StartupError(f"cannot write to --ready-fd {fd}: {exc.strerror}") from None


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
    raise StartupError(f"another supervisor is already listening on ipc://{path}")


def _wait_for(pid: int, timeout: float) -> None:
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        import select
        if not select.select([fd], [], [], timeout)[0]:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass
    finally:
        os.close(fd)


def _one_sentence(failure: LoadFailure) -> str:
    errors = [e for e in failure.errors if getattr(e, "severity", "error") == "error"]
    if not errors:
        return str(failure)
    first = str(errors[0])
    more = len(errors) - 1
    return first + (f" (and {more} more error{'s' if more > 1 else ''}; run zeroctl check)"
                    if more else "")
