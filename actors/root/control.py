"""The control protocol's server side: one handler per request kind, in the root.

Each handler checks its request, drives the engine, and answers with one reply, now or (for a
waiting start/stop/restart, a log follower, an events stream) later. A refusal or a failure is
a `CommandError` with a reply code and one sentence; it never escapes as an exception.
docs/protocol.md is the reference for clients.

The handlers see the supervisor only through `Ports`: the engine, the loaded services, the
orders to watchers, the clock, and the way to reply; never the root itself. Which handler
answers which kind is a table, checked against the protocol's request kinds.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from actors.engine import Engine, Event, Notify, State
from actors.engine.status import status_object
from actors.loader.spec import LogType, is_valid_service_name
from actors.root.console import Console
from actors.root.logfile import LogfileError, tail_of_logfile
from actors.root.services import Services
from actors.root.waiting import Envelope, Stream, Streams, Waiter
from actors.signames import normalise as normalise_signal
from broker import protocol


class Orders(Protocol):
    """The watchers, as the control side may use them."""

    def send(self, service: str, kind: str, **fields: Any) -> bool: ...
    def __contains__(self, service: object) -> bool: ...
    def retiring(self, service: str) -> bool: ...
    def output_of(self, service: str) -> bytes: ...
    def clear_output(self, service: str) -> None: ...


@dataclass(frozen=True)
class Ports:
    """Everything a handler may touch."""

    engine: Engine
    services: Services
    orders: Orders
    clock: Callable[[], float]
    reply: Callable[[Envelope, bytes], bool]   # send one frame to a client; False if gone
    settle: Callable[[], None]                 # carry out the engine's effects now
    shutdown: Callable[[str], None]            # begin an orderly shutdown, saying why
    console: Console
    reexec: Callable[[], None] = lambda: None  # re-execute the root once this step is done
    metrics: Callable[[], str] = lambda: ""    # the metrics' text (metrics.py)


class CommandError(Exception):
    def __init__(self, code: str, message: str, **details: Any):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


Handler = Callable[[Envelope, dict[str, Any]], Any]


class ControlServer:
    def __init__(self, ports: Ports):
        self.ports = ports
        self.engine = ports.engine
        self.services = ports.services
        self.orders = ports.orders
        self.waiters: list[Waiter] = []
        self.streams = Streams()
        self.log_requests: dict[int, tuple[Envelope, int, str]] = {}
        self._next_log_request = 0
        self.shutdown_waiters: list[tuple[Envelope, int]] = []
        self.started = time.time()  # tells this root from the one it re-executed from
        self.handlers: dict[str, Handler] = {
            "hello": self.hello, "list": self.list_all, "status": self.status,
            "start": self.start, "stop": self.stop, "restart": self.restart,
            "release": self.release, "wake": self.wake, "signal": self.signal,
            "logs": self.logs, "tree": self.tree, "reload": self.reload, "events": self.events,
            "cancel": self.cancel, "shutdown": self.shutdown, "reexec": self.reexec,
            "scale": self.scale,
            "metrics": self.metrics,
        }
        assert set(self.handlers) == set(protocol.REQUESTS), "a request kind without a handler"

    # --- dispatch -----------------------------------------------------------------------------

    def on_frames(self, frames: list[bytes], role: str | None = protocol.ROLE_ADMIN) -> None:
        """One message from a client: [identity, payload], or REQ-style [identity, b"", payload],
        from a client of `role` (its key's, on CURVE; see `protocol.forbidden`)."""
        if len(frames) == 3 and frames[1] == b"":
            envelope, payload = tuple(frames[:2]), frames[2]
        elif len(frames) == 2:
            envelope, payload = (frames[0],), frames[1]
        else:
            self._bad_request(tuple(frames[:1]), "a request is exactly one frame")
            return
        try:
            request = protocol.decode_request(payload)
        except protocol.ProtocolError as exc:
            self._bad_request(envelope, str(exc), protocol.readable_id(payload))
            return
        request_id = request["id"]
        handler = self.handlers[request["kind"]]
        try:
            if why := protocol.forbidden(role, request):
                raise CommandError(protocol.E_UNAUTHORISED, why)
            result = handler(envelope, request)
        except CommandError as exc:
            self._send(envelope, protocol.reply_error(request_id, exc.code, exc.message,
                                                      **exc.details))
            return
        if result is not _LATER:
            self._send(envelope, protocol.reply_ok(request_id, result))

    def _bad_request(self, envelope: Envelope, problem: str, request_id: int = 0) -> None:
        """Answer a malformed request (with its id, where that much was readable); log it,
        rate-limited (a flood of garbage must not flood the log)."""
        self._send(envelope, protocol.reply_error(request_id, protocol.E_BAD_REQUEST, problem))
        self.ports.console.log_limited("control-socket", f"bad request: {problem}")

    def _send(self, envelope: Envelope, frame: bytes) -> bool:
        if self.ports.reply(envelope, frame):
            return True
        for stream in self.streams.drop_client(envelope):
            if stream.service and not self.streams.followed(stream.service):
                self.orders.send(stream.service, "follow", on=False)
        return False

    # --- helpers ------------------------------------------------------------------------------

    def _names(self, names: list[str]) -> list[str]:
        if not names:
            raise CommandError(protocol.E_BAD_REQUEST, "no service named")
        return [self._service(name) for name in names]

    def _service(self, name: str) -> str:
        if not is_valid_service_name(name):
            raise CommandError(protocol.E_UNKNOWN_SERVICE, f"{name!r} is not a valid service name")
        error = self.services.ensure_loaded(name)
        if error:
            raise CommandError(protocol.E_UNKNOWN_SERVICE, error)
        return name

    def _statuses(self, names: list[str]) -> list[dict[str, Any]]:
        return [self.services.status(name) for name in names]

    def _refuse_while_shutting_down(self, verb: str) -> None:
        if self.engine.shutting_down:
            raise CommandError(protocol.E_SHUTTING_DOWN, f"cannot {verb}: shutting down")

    # --- requests -----------------------------------------------------------------------------

    def hello(self, envelope: Envelope, request: dict) -> Any:
        return {"server": "zeroinit", "version": protocol.PROTOCOL_VERSION,
                "pid": os.getpid(), "node": socket.gethostname(), "started": self.started}

    def list_all(self, envelope: Envelope, request: dict) -> Any:
        return [self.services.status(name) for name in self.engine.names()]

    def status(self, envelope: Envelope, request: dict) -> Any:
        return self._statuses(self._names(request["names"]))

    def start(self, envelope: Envelope, request: dict) -> Any:
        self._refuse_while_shutting_down("start services")
        names = self._names(request["names"])
        return self._command(envelope, request, names, State.STARTED,
                             lambda name, now: self.engine.start(name, now))

    def stop(self, envelope: Envelope, request: dict) -> Any:
        names = self._names(request["names"])
        force = request["force"]
        return self._command(envelope, request, names, State.STOPPED,
                             lambda name, now: self.engine.stop(name, now, force))

    def restart(self, envelope: Envelope, request: dict) -> Any:
        self._refuse_while_shutting_down("restart services")
        names = self._names(request["names"])
        force = request["force"]
        return self._command(envelope, request, names, State.STARTED,
                             lambda name, now: self.engine.restart(name, now, force))

    def release(self, envelope: Envelope, request: dict) -> Any:
        names = self._names(request["names"])
        return self._command(envelope, {**request, "wait": False}, names, State.STOPPED,
                             lambda name, now: self.engine.release(name, now))

    def wake(self, envelope: Envelope, request: dict) -> Any:
        self._refuse_while_shutting_down("wake services")
        names = self._names(request["names"])
        return self._command(envelope, {**request, "wait": False}, names, State.STARTED,
                             lambda name, now: self.engine.wake(name, now))

    def _command(self, envelope: Envelope, request: dict, names: list[str], goal: State,
                 action) -> Any:
        """Apply `action` to each name; refusals answer at once, in one sentence."""
        refusals = []
        for name in names:
            outcome = action(name, self.ports.clock())
            if not outcome.ok:
                refusals.append((outcome.message, outcome.dependents))
            self.ports.settle()
        if refusals:
            message = "; ".join(message for message, _ in refusals)
            dependents = [d for _, deps in refusals for d in deps]
            raise CommandError(protocol.E_REFUSED, message, dependents=dependents,
                               statuses=self._statuses(names))
        if not request.get("wait"):
            return self._statuses(names)
        waiter = Waiter(envelope, request["id"], goal, names, set(names))
        waiter.settle(self.engine.snapshot)
        if waiter.done:
            return self._finish(waiter)
        self.waiters.append(waiter)
        return _LATER

    def _finish(self, waiter: Waiter) -> Any:
        statuses = self._statuses(waiter.names)
        if waiter.failures:
            message = "; ".join(f"{name} failed to start: {reason}"
                                for name, reason in waiter.failures.items())
            raise CommandError(protocol.E_FAILED, message, statuses=statuses)
        return statuses

    def signal(self, envelope: Envelope, request: dict) -> Any:
        name = self._service(request["name"])
        try:
            sig = normalise_signal(request["signal"])
        except ValueError as exc:
            raise CommandError(protocol.E_BAD_REQUEST, str(exc)) from None
        pid = self.engine.pid(name)
        if pid is None:
            raise CommandError(protocol.E_REFUSED, f"{name} has no running process to signal")
        self.orders.send(name, "signal", signal=sig, group=False)
        return {"pid": pid, "signal": sig}

    def logs(self, envelope: Envelope, request: dict) -> Any:
        name = self._service(request["name"])
        spec = self.engine.spec(name)
        if spec.log_type is LogType.FILE:
            try:
                keep = spec.logfile_keep if spec.logfile_max_size else 0
                return {"type": "file", "path": spec.logfile,
                        **tail_of_logfile(spec.logfile, keep)}
            except LogfileError as exc:
                raise CommandError(protocol.E_REFUSED, str(exc)) from None
        if spec.log_type is not LogType.BUFFER:
            raise CommandError(protocol.E_REFUSED,
                               f"{name} does not keep its output (log-type = "
                               f"{spec.log_type.value}); set log-type = buffer or a logfile")
        if request["follow"]:
            self.streams.followers.append(Stream(envelope, request["id"], name))
            self.orders.send(name, "follow", on=True)
        if name not in self.orders:
            data = self.orders.output_of(name)
            if request["clear"]:
                self.orders.clear_output(name)
            return self._logs_answer(envelope, request, name, data, False)
        self._next_log_request += 1
        self.log_requests[self._next_log_request] = (envelope, request["id"], name)
        if not self.orders.retiring(name):
            # (A retiring watcher may be gone before it reads the order: its last output,
            # handed back as it retires, answers instead: answer_orphaned_log_requests.)
            self.orders.send(name, "logs", request=self._next_log_request,
                                    clear=request["clear"])
        return _LATER

    def _logs_answer(self, envelope: Envelope, request: dict, name: str, data: bytes,
                     truncated: bool) -> Any:
        if request["follow"]:
            # A follower gets the buffer as its first output; the stream goes on.
            self._send(envelope, protocol.encode("output", id=request["id"], service=name,
                                                 data=data))
            return _LATER
        return {"type": "buffer", "data": data, "truncated": truncated}

    def on_logs_report(self, request: int, data: bytes, truncated: bool) -> None:
        pending = self.log_requests.pop(request, None)
        if pending is None:
            return
        envelope, request_id, name = pending
        follow = any(s.envelope == envelope and s.request_id == request_id
                     for s in self.streams.followers)
        answer = self._logs_answer(envelope, {"follow": follow, "id": request_id}, name,
                                   data, truncated)
        if answer is not _LATER:
            self._send(envelope, protocol.reply_ok(request_id, answer))

    def answer_orphaned_log_requests(self) -> None:
        """Watchers retired or died: answer the log requests they will never answer, from the
        output they handed back (or nothing, if they could not)."""
        for request, (_, _, name) in list(self.log_requests.items()):
            if name not in self.orders:
                self.on_logs_report(request, self.orders.output_of(name), False)

    def tree(self, envelope: Envelope, request: dict) -> Any:
        name = request["name"]
        return self.services.tree(None if name is None else self._service(name))

    def reload(self, envelope: Envelope, request: dict) -> Any:
        name = request["name"]
        if not is_valid_service_name(name):
            raise CommandError(protocol.E_UNKNOWN_SERVICE, f"{name!r} is not a valid service name")
        error = self.services.reload(name, self.ports.clock())
        self.ports.settle()
        if error:
            raise CommandError(protocol.E_REFUSED, error)
        return self.services.status(name)

    def scale(self, envelope: Envelope, request: dict) -> Any:
        self._refuse_while_shutting_down("scale pools")
        name = self._service(request["name"])
        error = self.services.scale(name, request["count"], self.ports.clock())
        self.ports.settle()
        if error:
            raise CommandError(protocol.E_REFUSED, error)
        return self.services.status(name)

    def events(self, envelope: Envelope, request: dict) -> Any:
        self.streams.events.append(Stream(envelope, request["id"]))
        return _LATER

    def cancel(self, envelope: Envelope, request: dict) -> Any:
        for stream in self.streams.drop_client(envelope):
            self._send(envelope, protocol.reply_ok(stream.request_id, None))
            if stream.service and not self.streams.followed(stream.service):
                self.orders.send(stream.service, "follow", on=False)
        return None

    def shutdown(self, envelope: Envelope, request: dict) -> Any:
        self.shutdown_waiters.append((envelope, request["id"]))
        self.ports.shutdown("shutdown requested")
        return _LATER

    def metrics(self, envelope: Envelope, request: dict) -> Any:
        return self.ports.metrics()

    def reexec(self, envelope: Envelope, request: dict) -> Any:
        self._refuse_while_shutting_down("re-execute")
        self.ports.reexec()  # after this reply has gone out; the client waits for the new root
        return {"pid": os.getpid(), "started": self.started}

    # --- what happens meanwhile ---------------------------------------------------------------

    def on_notify(self, effect: Notify) -> None:
        for waiter in self.waiters:
            waiter.on_notify(effect)
        if effect.event is Event.STARTED and self.streams.followed(effect.service):
            # `logs -f` marks each (re)start of the process in the output it follows.
            pid = f" (pid {effect.status.pid})" if effect.status.pid else ""
            self.on_output(effect.service, f"--- {effect.service} started{pid} ---\n".encode())
        if self.streams.events:
            frame_fields = {"status": status_object(effect.status), "event": effect.event.value,
                            "time": time.time()}
            for stream in list(self.streams.events):
                self._send(stream.envelope, protocol.encode("event", id=stream.request_id,
                                                            **frame_fields))

    def on_output(self, service: str, data: bytes) -> None:
        for stream in self.streams.followers_of(service):
            self._send(stream.envelope, protocol.encode("output", id=stream.request_id,
                                                        service=service, data=data))

    def after_effects(self) -> None:
        """Answer the waiters whose services got where they wait for (and forget the pools'
        instances that stopped for good)."""
        self.services.pools.forget_stopped()
        still = []
        for waiter in self.waiters:
            waiter.settle(self.engine.snapshot)
            if not waiter.done:
                still.append(waiter)
                continue
            try:
                self._send(waiter.envelope, protocol.reply_ok(waiter.request_id,
                                                              self._finish(waiter)))
            except CommandError as exc:
                self._send(waiter.envelope, protocol.reply_error(
                    waiter.request_id, exc.code, exc.message, **exc.details))
        self.waiters = still

    def on_exit(self) -> None:
        """The root is about to exit: answer everyone still waiting."""
        for envelope, request_id in self.shutdown_waiters:
            self._send(envelope, protocol.reply_ok(request_id, None))
        for waiter in self.waiters:
            self._send(waiter.envelope, protocol.reply_error(
                waiter.request_id, protocol.E_SHUTTING_DOWN, "the supervisor is shutting down",
                statuses=self._statuses(waiter.names)))
        for stream in self.streams.events + self.streams.followers:
            self._send(stream.envelope, protocol.reply_ok(stream.request_id, None))
        self.waiters, self.shutdown_waiters = [], []


_LATER = object()  # a handler's "the reply comes later"
