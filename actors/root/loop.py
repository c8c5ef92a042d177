"""The root actor: the supervisor's one event loop.

It owns the engine and decides; it never forks a daemon and never blocks. One `zmq.Poller`
watches the control and actor sockets, the ZAP handler, the zygote, the signal wake-up fd,
the taken-back watchers' pidfds and the sockets of `--metrics` (metrics_http.py); the earliest
deadline is the poll timeout, so an idle root never wakes. Every input becomes an engine
event, and the engine's effects become orders, console lines and replies (`apply_effects`).
How it ends is `exit_phases.py`.

An unexpected error while handling one message is logged and the loop goes on. One that
escapes a whole step re-executes the root (`reexec.py`), which takes its watchers back
(`takeback.py`): as PID 1 the root must not die, and a fresh one is safer than a confused one.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback

import zmq

from actors.engine import (Chain, Engine, Event, Idle, Kill, Log, Notify, Rejected, Retire,
                           Signal, Spawn)
from actors.loader.walk import ServiceLoader
from actors.root import container, metrics_http, reexec, startup
from actors.root.console import Console
from actors.root.control import ControlServer, Ports
from actors.root.exit_phases import ExitPhases
from actors.root.launch import launch_for
from actors.root.metrics import Metrics
from actors.root.options import RootOptions
from actors.root.reports import Reports
from actors.root.services import Services
from actors.root.succession import Succession
from actors.root.watcher_gate import WATCHERS_DOMAIN, WatcherGate, secure_actor_socket
from actors.root.watcher_table import WatcherTable
from actors.root.zygote_client import ZygoteClient
from actors.supervise.subreaper import become_subreaper
from broker import endpoints, protocol
from broker.listen import close_router
from broker.zap import ZapHandler

SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Root:
    def __init__(self, options: RootOptions):
        self.options = options
        self.console = Console(options.quiet)
        self.engine = Engine()
        self.loader = ServiceLoader(options.dirs, dict(os.environ), options.profile)
        self.services = Services(self.engine, self.loader, self.console.log)
        self.metrics = Metrics(self.engine, lambda: len(self.watchers))
        self.finished = False
        self.exit_status = 0
        self.main_ended = False   # container mode: main's end was handled
        self.reexec_requested = False
        self.owns_files = False   # its sockets and state file: removed on a clean exit
        self._effect_handlers = {
            Notify: self._on_notify, Spawn: self._on_spawn, Signal: self._on_signal,
            Kill: self._on_kill, Retire: self._on_retire, Log: self.console.on_log,
            Rejected: self.console.on_rejected, Chain: self._on_chain, Idle: self._on_idle,
        }

    @staticmethod
    def now() -> float:
        return time.monotonic()

    # -----------------------------------------------------------------------------------------
    # Start-up and the loop
    # -----------------------------------------------------------------------------------------

    def run(self) -> int:
        try:
            self._start()
        except startup.StartupError as exc:
            self.console.log(str(exc))
            self._close()
            return 1
        self.finished = self.ending.check(self.now())  # nothing to run at all: done at once
        while not self.finished:
            try:
                self._step()
            except Exception:  # noqa: BLE001 - the loop must outlive any one mistake
                self._on_internal_error(traceback.format_exc().rstrip())
            if self.reexec_requested:
                self._reexec(crashed=False)
        self._close()
        return self.exit_status

    def _on_internal_error(self, where: str) -> None:
        if self.engine.shutting_down or not reexec.may_reexec_after_crash():
            self.console.log(f"internal error:\n{where}")
            self.begin_shutdown(f"too many internal errors (over {reexec.MAX_CRASHES} in "
                                f"{reexec.WINDOW:.0f} s); stopping services")
            return
        self.console.log(f"internal error (re-executing; no service is restarted):\n{where}")
        self._reexec(crashed=True)

    def _reexec(self, crashed: bool) -> None:
        """Exec a new root that takes everything back. Returns only if that is impossible."""
        self.reexec_requested = False
        if not os.access(sys.executable, os.X_OK):
            self.console.log(f"cannot re-execute: {sys.executable} is not executable")
            return
        self.console.info("re-executing the supervisor")
        self.succession.save(self.engine, self.watchers)
        self._close(clean=False)
        reexec.exec_root(crashed)

    def _start(self) -> None:
        # The zygote first: a process holding a ZeroMQ context must never fork.
        self.zygote = self.options.zygote or ZygoteClient.fork()
        become_subreaper()
        self._wake_r, self._wake_w = startup.signal_wakeup(
            SHUTDOWN_SIGNALS + container.FORWARDED_SIGNALS + (signal.SIGCHLD, signal.SIGQUIT))
        reexec.unblock_signals()  # blocked by a root that re-executed into this one
        self.ctx = zmq.Context(io_threads=1)
        # The context's one ZAP handler, before any secured socket is bound; each domain is
        # refused until its authority is served.
        self.zap = ZapHandler(self.ctx, refused=lambda domain, why: self.console.log_limited(
            domain.decode(errors="replace"), why))
        curve = startup.curve_roles(self.options, self.zap, self.console)
        self.control_sock, self.control_endpoint = startup.bind_control(
            self.ctx, self.options.endpoint, self.options.endpoint_given,
            self.options.socket_mode, self.console, curve)
        self.control_secured = self.control_endpoint.startswith(endpoints.TCP)
        self.actor_endpoint = endpoints.actor_endpoint(self.control_endpoint)
        self.succession = Succession(endpoints.ipc_path(self.actor_endpoint) or "", self.console,
                                     self.services.pools.sizes)
        saved = self.succession.load()
        self.gate = WatcherGate(saved.key)
        self.zap.serve(WATCHERS_DOMAIN, self.gate.verdict)
        self.actor_sock = startup.bind(self.ctx, self.actor_endpoint, 0o600, secure_actor_socket)
        self.owns_files = True
        self.watchers = WatcherTable(self.zygote, self.actor_sock, self.actor_endpoint,
                                     self.gate.password)
        self.control = ControlServer(Ports(
            engine=self.engine, services=self.services, orders=self.watchers, clock=self.now,
            reply=self._reply, settle=self.apply_effects, shutdown=self.begin_shutdown,
            console=self.console, reexec=self._request_reexec, metrics=self.metrics.text))
        self.reports = Reports(self.watchers, self.engine, self.control, self.console, self.now,
                               peer_pid=self.gate.peer_pids.get)
        self.ending = ExitPhases(self.engine, self.services, self.watchers, self.console,
                                 keep=lambda: {self.zygote.pid}, settle=self.apply_effects)
        self.poller = zmq.Poller()
        for item in (self.zap.sock, self.actor_sock, self.zygote.fileno(),
                     self._wake_r.fileno()):
            self.poller.register(item, zmq.POLLIN)
        self.http = metrics_http.MetricsHttp.open(self.options.metrics, self.metrics.text,
                                                  self.poller)
        # Nothing starts until a previous root's watchers are back (or the wait is over).
        self.reports.takeback = self.succession.begin(saved, self.engine, self.watchers,
                                                      self.now())
        if self.reports.takeback is None:
            self._begin_serving(None)

    def _begin_serving(self, explicit: list[str] | None) -> None:
        """Start the services (those explicitly active before, when taking back) and answer
        clients from now on."""
        self.poller.register(self.control_sock, zmq.POLLIN)
        if self.options.ready_fd is not None:
            startup.signal_ready(self.options.ready_fd, self.console)
        if self.options.main_command is not None:
            error = container.start_main(self.options.main_command, self._initial_services(),
                                         self.services.ensure_loaded, self.engine, self.now())
            if error:
                self.console.log(error)
                self.exit_status = 1
        else:
            self._start_services(explicit)
        self.apply_effects()
        self.ending.idle = self.engine.active_count == 0

    def _request_reexec(self) -> None:
        self.reexec_requested = True

    def _initial_services(self) -> list[str]:
        named = self.options.services if self.options.services_given else None
        return self.services.initial(named, self.options.main_command is not None)

    def _start_services(self, explicit: list[str] | None = None) -> None:
        started = 0
        for name in self._initial_services() if explicit is None else explicit:
            error = self.services.ensure_loaded(name)
            if error:
                self.console.log(error)
                continue
            self.engine.start(name, self.now())
            started += 1
        if not started:
            self.exit_status = 1
            self.console.log("no service could be started; exiting")

    def _step(self) -> None:
        now = self.now()
        collecting = self.succession.collecting
        deadlines = [d for d in (self.engine.next_deadline(), self.ending.deadline(now),
                                 self.succession.deadline(), self.http.deadline())
                     if d is not None]
        timeout = max(0, (min(deadlines) - now) * 1000) if deadlines else None
        self.poller.modify(self.zygote.fileno(),
                           zmq.POLLIN | (zmq.POLLOUT if self.zygote.outbox else 0))
        for item, events in self.poller.poll(timeout):
            if item is self.control_sock:
                self._drain(self.control_sock, self._on_control)
            elif item is self.actor_sock:
                self._drain(self.actor_sock, self._on_report)
            elif item is self.zap.sock:
                self.zap.on_readable()
            elif item in self.http:
                self.http.on_fd(item, events, self.now())
            elif item in self.succession.pidfds:
                self.succession.on_pidfd(item, self.poller, self.reports.on_watcher_gone)
            elif item == self.zygote.fileno():
                if events & zmq.POLLOUT:
                    self.zygote.flush()
                if events & zmq.POLLIN:
                    self._on_zygote()
            elif item == self._wake_r.fileno():
                self._on_signals()
        self.http.expire(self.now())
        if self.succession.due(self.now()):
            self.succession.finish(self._begin_serving, self.engine, self.watchers)
        self.engine.advance(self.now())
        self.apply_effects()
        self.succession.watch_adopted(self.watchers, self.poller, self.reports.on_watcher_gone)
        self.succession.save(self.engine, self.watchers)
        if not collecting:
            self.finished = self.ending.check(self.now())

    def _on_control(self, frames: list[zmq.Frame]) -> None:
        # On CURVE each frame carries the role of its sender's key (broker/curve.py); an ipc
        # client is admin (the socket's permissions decided who may connect).
        role = frames[-1].get("User-Id") if self.control_secured else protocol.ROLE_ADMIN
        self.control.on_frames([f.bytes for f in frames], role)

    def _on_report(self, frames: list[zmq.Frame]) -> None:
        # Each frame says whom its sender authenticated as (see watcher_gate.py).
        self.reports.on_frames([f.bytes for f in frames], frames[-1].get("User-Id"))

    def _drain(self, sock: zmq.Socket, handle) -> None:
        # Bounded, so one chatty peer can't starve the others.
        for _ in range(1000):
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            try:
                handle(frames)
            except Exception:  # noqa: BLE001
                self.console.log("internal error handling a message:\n"
                                 + traceback.format_exc().rstrip())
            self.apply_effects()

    # -----------------------------------------------------------------------------------------
    # Effects: one handler per kind
    # -----------------------------------------------------------------------------------------

    def apply_effects(self) -> None:
        while effects := self.engine.take_effects():
            for effect in effects:
                self._effect_handlers[type(effect)](effect)
        self.control.after_effects()

    def _on_notify(self, effect: Notify) -> None:
        self.console.on_notify(effect)
        self.metrics.on_notify(effect)
        self.services.on_notify(effect)
        self.control.on_notify(effect)
        if effect.service == container.MAIN and self.options.main_command is not None:
            self._on_main(effect)

    def _on_spawn(self, effect: Spawn) -> None:
        if self.succession.claim(self.engine, effect.service, effect.role, self.now()):
            return  # a taken-back watcher runs it already
        launch = launch_for(self.engine.spec(effect.service), effect.role)
        self.watchers.spawn(effect.service, effect.role.value, launch, effect.kill_after)

    def _on_signal(self, effect: Signal) -> None:
        self.watchers.send(effect.service, "signal", signal=effect.signal, group=effect.group,
                           kill_after=effect.kill_after)

    def _on_kill(self, effect: Kill) -> None:
        self.watchers.send(effect.service, "kill")

    def _on_retire(self, effect: Retire) -> None:
        self.watchers.retire(effect.service)

    def _on_chain(self, effect: Chain) -> None:
        error = self.services.ensure_loaded(effect.target)
        if error:
            self.console.log(f"{effect.service}: cannot chain to {effect.target}: {error}")
        elif not self.engine.shutting_down:
            self.engine.start(effect.target, self.now())

    def _on_idle(self, effect: Idle) -> None:
        # Say why the supervisor is about to end, unless a shutdown or main's end said it.
        if not self.ending.idle and not self.engine.shutting_down and not self.main_ended:
            self.console.info("nothing is active any more: exiting")
        self.ending.idle = True

    def _on_main(self, effect: Notify) -> None:
        """Container mode: when `main` ends (or can't run), everything else stops."""
        if effect.event is not Event.STOPPED or self.main_ended:
            return
        self.main_ended = True
        self.exit_status = container.exit_status(effect.status)
        why = container.why_main_ended(effect.status, self.engine)
        if effect.status.last_exit is None:
            self.console.log(why)
            self.begin_shutdown("stopping the other services")
        else:
            self.begin_shutdown(f"{why}; stopping the other services")

    # -----------------------------------------------------------------------------------------
    # Watchers, the zygote, signals
    # -----------------------------------------------------------------------------------------

    def _on_zygote(self) -> None:
        messages = self.zygote.receive()
        for message in messages or ():
            if "forked" in message:
                self.watchers.on_forked(message["forked"], message["pid"])
            elif "reaped" in message:
                self.reports.on_watcher_gone(message["reaped"])
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
                startup.reap_children(self.zygote.pid, self.reports.on_watcher_gone)
            elif signum == signal.SIGQUIT or (signum == signal.SIGINT and
                                              self.engine.shutting_down):
                self.console.log(f"received {name} during shutdown; killing what is left")
                if not self.engine.shutting_down:
                    self.begin_shutdown("stopping services")
                self.ending.kill_everything()
            elif signum in SHUTDOWN_SIGNALS:
                self.begin_shutdown(f"received {name}; stopping services")
            elif signum in container.FORWARDED_SIGNALS and container.MAIN in self.engine \
                    and self.engine.pid(container.MAIN) is not None:
                self.watchers.send(container.MAIN, "signal", signal=name, group=False)

    def begin_shutdown(self, reason: str) -> None:
        if not self.engine.shutting_down:
            self.console.info(reason)
        self.engine.shutdown(self.now())
        self.apply_effects()

    def _reply(self, envelope: tuple[bytes, ...], frame: bytes) -> bool:
        try:
            self.control_sock.send_multipart([*envelope, frame], zmq.NOBLOCK)
            return True
        except zmq.ZMQError:
            return False

    def _close(self, clean: bool = True) -> None:
        """Let go of everything. A clean exit also removes the sockets' files and the state
        file; a re-exec keeps the state file for the root that follows."""
        control = getattr(self, "control", None)
        if control is not None:
            control.on_exit()
        zap = getattr(self, "zap", None)
        if zap is not None:
            zap.close()
        if getattr(self, "http", None) is not None:
            self.http.close()
        succession = getattr(self, "succession", None)
        if succession is not None:
            succession.close(clean and self.owns_files)
        # Final replies to clients may take a moment to go out; the watchers are gone, and
        # what was queued for them can go with them.
        for name, where, linger in (("control_sock", "control_endpoint", 1000),
                                    ("actor_sock", "actor_endpoint", 0)):
            if getattr(self, name, None) is not None:
                close_router(getattr(self, name), getattr(self, where), linger)
        ctx = getattr(self, "ctx", None)
        if ctx is not None:
            ctx.term()
        zygote = getattr(self, "zygote", None)
        if zygote is not None:
            zygote.close()
            startup.wait_for(zygote.pid, 2.0)
