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

import os
import signal
import socket
import time
import traceback
from dataclasses import dataclass, field

import zmq

from actors.root import container
from actors.root.console import Console
from actors.root.control import ControlServer
from actors.engine import (Chain, Engine, ExitStatus, Idle, Kill, Log, Notify, Retire, Signal,
                           Spawn, State)
from actors.root.launch import launch_for
from actors.loader.walk import ServiceLoader
from actors.root.services import Services
from actors.supervise.subreaper import become_subreaper
from actors.root.watcher_table import Reports, WatcherTable
from actors.supervise.zygote import ZygoteClient
from broker import endpoints
from broker.listen import bind_router

EXIT_GRACE = 5.0  # once idle, how long to wait for watchers to leave before exiting anyway
SWEEP_TIMEOUT = 10.0  # leftovers get SIGTERM, then SIGKILL after this (dinit's stop-timeout)
SWEEP_POLL = 0.05  # while sweeping, re-check this often: a grandchild's death wakes nobody
SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)
FINAL_SERVICE = "shutdown"  # a cinit tree's service that runs once, after everything else


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
    services_given: bool = False       # SERVICE... named on the command line
    endpoint_given: bool = False       # -s given (else a fallback may be used)
    main_command: list[str] | None = None  # container mode: `-- CMD [ARG...]`
    zygote: ZygoteClient | None = None    # forked already (early, from a small process)


class Root:
    def __init__(self, options: RootOptions):
        self.options = options
        self.console = Console(options.quiet)
        self.engine = Engine()
        self.loader = ServiceLoader(options.dirs, dict(os.environ), options.profile)
        self.services = Services(self.engine, self.loader)
        self.finished = False
        self.exit_status = 0
        self.idle = False
        self.exit_deadline: float | None = None
        self.sweep: container.Sweep | None = None
        self.final_started = False
        self.main_status: dict | None = None   # container mode: main's status once it ended

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
        self._check_exit()  # nothing to run at all: done without waiting for an event
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
        self.zygote = self.options.zygote or ZygoteClient.fork()
        become_subreaper()
        self._install_signals()
        self.ctx = zmq.Context(io_threads=1)
        self.control_endpoint = endpoints.normalise(self.options.endpoint)
        try:
            self.control_sock = self._bind(self.control_endpoint, self.options.socket_mode)
        except StartupError as exc:
            if self.options.endpoint_given:
                raise
            # A container may have no writable /run: fall back to a private directory in /tmp.
            fallback = endpoints.IPC + f"/tmp/zeroinit-{os.geteuid()}/control"
            self.console.log(f"{exc}; using {fallback}")
            self.control_endpoint = fallback
            self.control_sock = self._bind(fallback, self.options.socket_mode)
        self.actor_endpoint = endpoints.actor_endpoint(self.control_endpoint)
        self.actor_sock = self._bind(self.actor_endpoint, 0o600)
        self.actor_sock.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self.watchers = WatcherTable(self.zygote, self.actor_sock, self.actor_endpoint)
        self.control = ControlServer(self)
        self.reports = Reports(self.watchers, self.engine, self.control, self.console)
        self.poller = zmq.Poller()
        for item in (self.control_sock, self.actor_sock, self.zygote.fileno(),
                     self._wake_r.fileno()):
            self.poller.register(item, zmq.POLLIN)
        if self.options.ready_fd is not None:
            _signal_ready(self.options.ready_fd, self.console)
        if self.options.main_command is not None:
            self._start_main()
        else:
            self._start_services()
        self.apply_effects()
        self.idle = self.engine.active_count == 0

    def _initial_services(self) -> list[str]:
        named = self.options.services if self.options.services_given else None
        return self.services.initial(named, self.options.main_command is not None)

    def _start_services(self) -> None:
        started = 0
        for name in self._initial_services():
            error = self.services.ensure_loaded(name)
            if error:
                self.console.log(error)
                continue
            self.engine.start(name, self.now())
            started += 1
        if not started:
            self.exit_status = 1
            self.console.log("no service could be started; exiting")

    def _start_main(self) -> None:
        dependencies = self._initial_services()
        for name in dependencies:
            error = self.services.ensure_loaded(name)
            if error:
                self.console.log(f"main will not run: {error}")
                self.exit_status = 1
                return
        spec = container.main_spec(self.options.main_command, dependencies)
        self.engine.add([spec])
        self.engine.start(container.MAIN, self.now())

    def _bind(self, endpoint: str, mode: int) -> zmq.Socket:
        try:
            return bind_router(self.ctx, endpoint, mode)
        except endpoints.EndpointError as exc:
            raise StartupError(str(exc)) from None

    def _install_signals(self) -> None:
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        for signum in SHUTDOWN_SIGNALS + (signal.SIGCHLD, signal.SIGHUP, signal.SIGUSR1,
                                          signal.SIGUSR2, signal.SIGWINCH, signal.SIGQUIT):
            signal.signal(signum, _note_signal)

    def _step(self) -> None:
        deadlines = [d for d in (self.engine.next_deadline(), self.exit_deadline) if d]
        if self.sweep is not None:
            deadlines.append(self.now() + SWEEP_POLL)
        deadline = min(deadlines) if deadlines else None
        timeout = None if deadline is None else max(0, (deadline - self.now()) * 1000)
        self.poller.modify(self.zygote.fileno(),
                           zmq.POLLIN | (zmq.POLLOUT if self.zygote.outbox else 0))
        for item, events in self.poller.poll(timeout):
            if item is self.control_sock:
                self._drain(self.control_sock, self.control.on_frames)
            elif item is self.actor_sock:
                self._drain(self.actor_sock, lambda f: self.reports.on_frames(f, self.now()))
            elif item == self.zygote.fileno():
                if events & zmq.POLLOUT:
                    self.zygote.flush()
                if events & zmq.POLLIN:
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
            if effect.service == container.MAIN and self.options.main_command is not None:
                self._on_main(effect)
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
            error = self.services.ensure_loaded(effect.target)
            if error:
                self.console.log(f"{effect.service}: cannot chain to {effect.target}: {error}")
            elif not self.engine.shutting_down:
                self.engine.start(effect.target, self.now())
        elif isinstance(effect, Idle):
            self.idle = True

    # -----------------------------------------------------------------------------------------
    # Watchers and the zygote
    # -----------------------------------------------------------------------------------------

    def _on_zygote(self) -> None:
        messages = self.zygote.receive()
        for message in messages or ():
            if "forked" in message:
                self.watchers.on_forked(message["forked"], message["pid"])
            elif "reaped" in message:
                self.reports.on_watcher_gone(message["reaped"], self.now())
        if messages is None and not self.finished:
            self.console.info("the zygote ended; starting a new one")
            self.poller.unregister(self.zygote.fileno())
            self.zygote.close()
            self.zygote = ZygoteClient.exec()
            self.watchers.zygote = self.zygote
            self.poller.register(self.zygote.fileno(), zmq.POLLIN)

    def _on_signals(self) -> None:
        try:
            data = self._wake_r.recv(4096)
        except BlockingIOError:
            return
        for signum in data:
            name = signal.Signals(signum).name
            if signum == signal.SIGCHLD:
                self._reap()
            elif signum == signal.SIGQUIT or (signum == signal.SIGINT and
                                              self.engine.shutting_down):
                self.console.log(f"received {name} during shutdown; killing what is left")
                self._kill_everything()
            elif signum in SHUTDOWN_SIGNALS:
                self.begin_shutdown(f"received {name}; stopping services")
            elif signum in container.FORWARDED_SIGNALS and container.MAIN in self.engine \
                    and self.engine.pid(container.MAIN) is not None:
                self.watchers.send(container.MAIN, "signal", signal=name, group=False)

    def _kill_everything(self) -> None:
        """Escalation: SIGKILL to every process below the supervisor but its zygote."""
        if not self.engine.shutting_down:
            self.begin_shutdown("stopping services")
        for pid in container.descendants(os.getpid()):
            if pid != self.zygote.pid and not self.watchers.is_watcher(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

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
                self.reports.on_watcher_gone(pid, self.now())

    def _on_main(self, effect: Notify) -> None:
        """Container mode: when `main` ends (or can't run), everything else stops."""
        status = effect.status
        if effect.event == "stopped" and self.main_status is None:
            self.main_status = status
            self.exit_status = container.exit_status(status)
            if status["exit"] is None:
                failed = [dep for dep in self.engine.spec(container.MAIN).depends_on
                          if self.engine.status(dep)["failed"]]
                why = "; ".join(f"{dep}: {self.engine.status(dep)['reason'] or 'failed'}"
                                for dep in failed) or status["reason"] or "it could not start"
                self.console.log(f"main did not run: {why}")
                self.begin_shutdown("stopping the other services")
            else:
                how = ExitStatus(status["exit"]["code"], status["exit"]["signal"]).describe()
                self.begin_shutdown(f"main {how}; stopping the other services")

    def begin_shutdown(self, reason: str) -> None:
        if not self.engine.shutting_down:
            self.console.info(reason)
        self.engine.shutdown(self.now())
        self.apply_effects()

    def send_client(self, envelope: tuple[bytes, ...], frame: bytes) -> bool:
        try:
            self.control_sock.send_multipart([*envelope, frame], zmq.NOBLOCK)
            return True
        except zmq.ZMQError:
            return False

    def _check_exit(self) -> None:
        """Once nothing is active: let the watchers retire, run a cinit tree's `shutdown`
        service, terminate what is left of the process tree, then finish."""
        now = self.now()
        if self.engine.active_count > 0:
            if self.final_started and self.engine.state(FINAL_SERVICE) is State.STARTED:
                self.engine.shutdown(now)  # the final one-shot did its job
                self.apply_effects()
            elif self.sweep is None:
                self.idle = False
                self.exit_deadline = None
            return
        if not self.idle:
            return
        if self.exit_deadline is None:
            self.exit_deadline = now + EXIT_GRACE
        if len(self.watchers) and now < self.exit_deadline:
            return
        if self._run_final_service():
            return
        if self.sweep is None:
            self.sweep = container.Sweep({self.zygote.pid}, now + SWEEP_TIMEOUT)
            self.sweep.start()
        if self.sweep.step(now):
            self.finished = True

    def _run_final_service(self) -> bool:
        """Start a cinit tree's `shutdown` (a directory service), once, after the others."""
        if self.final_started or self.loader.find(FINAL_SERVICE) is None:
            return False
        self.final_started = True
        if self.services.ensure_loaded(FINAL_SERVICE) is not None:
            return False
        source = self.engine.spec(FINAL_SERVICE).source
        if source is None or not os.path.isdir(source.path):
            return False
        self.engine.reopen()
        self.engine.start(FINAL_SERVICE, self.now())
        self.idle = False
        self.exit_deadline = None
        self.apply_effects()
        return True

    def _close(self) -> None:
        control = getattr(self, "control", None)
        if control is not None:
            control.on_exit()
        # Final replies to clients may take a moment to go out; the watchers are gone, and
        # what was queued for them can go with them.
        for name, linger in (("control_sock", 1000), ("actor_sock", 0)):
            sock = getattr(self, name, None)
            if sock is not None:
                sock.close(linger=linger)
        ctx = getattr(self, "ctx", None)
        if ctx is not None:
            ctx.term()
        zygote = getattr(self, "zygote", None)
        if zygote is not None:
            zygote.close()
            _wait_for(zygote.pid, 2.0)


def _note_signal(signum: int, frame: object) -> None:
    """Python-level handler: the wake-up fd carries the signal to the loop."""


def _signal_ready(fd: int, console: Console) -> None:
    try:
        os.write(fd, b"\n")
    except OSError as exc:
        # Whoever waited is gone: nothing to tell, and no reason not to run.
        console.log(f"cannot write to --ready-fd {fd}: {exc.strerror}")
    try:
        os.close(fd)
    except OSError:
        pass


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
