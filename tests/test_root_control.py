"""The root's control handlers (actors/root/control.py) behind fake ports: a real engine and
loader over a temporary services directory, but no sockets, no watchers and no processes.
Each request kind is sent as the frames a client's DEALER would deliver, and its reply (or the
lack of one, for what answers later) is checked; so are bad requests, unknown services, and
the handler table against broker/protocol.REQUESTS.
"""

from __future__ import annotations

import os

import io
import textwrap

import pytest

from actors.engine import Engine, ExitStatus, Notify, Role
from actors.loader.walk import ServiceLoader
from actors.root.console import Console
from actors.root.control import ControlServer, Ports
from actors.root.services import Services
from broker import protocol

CLIENT = (b"client-1",)
SERVICES = {
    "db": "type = process\ncommand = sleep 1000\n",
    "web": "type = process\ncommand = sleep 1000\ndepends-on = db\n",
    "job": "type = scripted\ncommand = false\n",
    "buf": "type = process\ncommand = sleep 1000\nlog-type = buffer\n",
    "broken": "type = process\ncommand = sleep 1000\nrestart-delay = soon\n",
}


class FakeOrders:
    """The watcher table as the control side sees it: orders are recorded; `watched` says
    which services have a watcher."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict]] = []
        self.watched: set[str] = set()
        self.output = {"buf": b"old output\n"}

    def send(self, service, kind, **fields):
        self.sent.append((service, kind, fields))
        return service in self.watched

    def __contains__(self, service):
        return service in self.watched

    def retiring(self, service):
        return False

    def output_of(self, service):
        return self.output.get(service, b"")

    def clear_output(self, service):
        self.output[service] = b""


class Harness:
    def __init__(self, tmp_path, extra: dict[str, str] | None = None):
        for name, text in {**SERVICES, **(extra or {})}.items():
            (tmp_path / name).write_text(textwrap.dedent(text))
        self.now = 50.0
        self.engine = Engine()
        self.services = Services(self.engine, ServiceLoader([str(tmp_path)], environ={}))
        self.orders = FakeOrders()
        self.frames: list[tuple[tuple[bytes, ...], bytes]] = []
        self.shutdowns: list[str] = []
        self.err = io.StringIO()
        self.console = Console(out=io.StringIO(), err=self.err, clock=lambda: self.now)
        self.server = ControlServer(Ports(
            engine=self.engine, services=self.services, orders=self.orders,
            clock=lambda: self.now, reply=self._reply, settle=self.settle,
            shutdown=self.shutdowns.append, console=self.console))
        self.client_gone = False

    def _reply(self, envelope, frame) -> bool:
        if self.client_gone:
            return False
        self.frames.append((envelope, frame))
        return True

    def settle(self) -> None:
        """What the root's apply_effects does for the control side."""
        while effects := self.engine.take_effects():
            for effect in effects:
                if isinstance(effect, Notify):
                    self.server.on_notify(effect)
        self.server.after_effects()

    def ask(self, kind: str, request_id: int = 1, envelope=CLIENT, **fields) -> list[dict]:
        """Send one request; the messages sent back meanwhile (to any client), decoded."""
        self.frames.clear()
        self.server.on_frames([*envelope, protocol.encode(kind, id=request_id, **fields)])
        return self.sent()

    def sent(self) -> list[dict]:
        out = [protocol.decode_response(frame) for _, frame in self.frames]
        self.frames.clear()
        return out


@pytest.fixture
def h(tmp_path):
    return Harness(tmp_path)


def ok(messages: list[dict], request_id: int = 1):
    assert len(messages) == 1, messages
    reply = messages[0]
    assert reply["kind"] == "reply" and reply["id"] == request_id, reply
    assert reply["ok"], reply["error"]
    return reply["result"]


def error(messages: list[dict], code: str, request_id: int = 1) -> dict:
    assert len(messages) == 1, messages
    reply = messages[0]
    assert reply["kind"] == "reply" and reply["id"] == request_id and not reply["ok"], reply
    assert reply["error"]["code"] == code, reply["error"]
    return reply["error"]


# ---------------------------------------------------------------------------------------------
# The table, and requests that are not requests
# ---------------------------------------------------------------------------------------------


def test_control_handler_table_matches_the_protocol_request_kinds(h):
    # One handler per request kind the protocol declares, each a method of the server.
    assert set(h.server.handlers) == set(protocol.REQUESTS)
    for kind, handler in h.server.handlers.items():
        assert getattr(handler, "__self__", None) is h.server, kind


def test_control_server_refuses_to_exist_with_a_request_kind_unhandled(h, monkeypatch):
    # A kind added to the protocol without a handler is caught when the server is built.
    monkeypatch.setitem(protocol.REQUESTS, "frobnicate", {})
    with pytest.raises(AssertionError, match="without a handler"):
        ControlServer(h.server.ports)


@pytest.mark.parametrize("frames", [
    [b"client-1"],                                   # no payload
    [b"client-1", b"x", b"y"],                       # three frames, but not REQ-style
    [b"client-1", b"", b"a", b"b"],                  # four
])
def test_control_request_of_the_wrong_shape_is_a_bad_request(h, frames):
    # A message that is not exactly one request frame is answered bad-request, id 0.
    h.server.on_frames(frames)
    error(h.sent(), protocol.E_BAD_REQUEST, request_id=0)


@pytest.mark.parametrize("payload, request_id, problem", [
    (b"\xc1garbage", 0, "not a msgpack message"),
    (protocol.encode("frobnicate", id=7), 7, "frobnicate: unknown kind"),
    (protocol.encode("status", id=8), 8, "status.names: missing field"),
    (protocol.encode("status", id=9, names="db"), 9, "status.names: expected a list"),
    (protocol.encode("start", names=["db"], wait=False), 0, "start.id: missing field"),
])
def test_control_malformed_request_names_the_problem_and_keeps_its_id(h, payload, request_id,
                                                                      problem):
    # The error reply says what is wrong, and reaches the caller with its id where readable.
    h.server.on_frames([*CLIENT, payload])
    assert problem in error(h.sent(), protocol.E_BAD_REQUEST, request_id)["message"]
    assert "db" not in h.engine  # nothing was done


def test_control_req_style_envelope_is_answered_on_the_same_envelope(h):
    # A REQ client's [identity, b"", payload] gets its reply on [identity, b""].
    h.server.on_frames([b"req", b"", protocol.encode("hello", id=3)])
    [(envelope, frame)] = h.frames
    assert envelope == (b"req", b"")
    assert protocol.decode_response(frame)["result"]["server"] == "zeroinit"


def test_control_flood_of_bad_requests_logs_one_line_a_second(h):
    # Garbage at will must not flood the log: one line per second, counting what it held back.
    for _ in range(50):
        h.server.on_frames([*CLIENT, b"junk"])
    assert len(h.sent()) == 50  # every one is answered
    assert h.err.getvalue().count("\n") == 1
    h.now += 1.0
    h.server.on_frames([*CLIENT, b"junk"])
    lines = h.err.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].endswith("(and 49 more since)")


# ---------------------------------------------------------------------------------------------
# Each kind
# ---------------------------------------------------------------------------------------------


def test_control_hello_says_who_answers(h):
    result = ok(h.ask("hello"))
    assert result["server"] == "zeroinit" and result["version"] == protocol.PROTOCOL_VERSION
    assert isinstance(result["pid"], int) and result["node"]


def test_control_status_and_list_load_what_they_name(h):
    # status NAME loads the service (and its dependencies); list shows the loaded, in order.
    assert ok(h.ask("list")) == []
    [web] = ok(h.ask("status", names=["web"]))
    assert web["name"] == "web" and web["state"] == "stopped"
    assert [s["name"] for s in ok(h.ask("list"))] == ["web", "db"]


@pytest.mark.parametrize("kind, fields, code, says", [
    ("status", {"names": []}, protocol.E_BAD_REQUEST, "no service named"),
    ("status", {"names": ["nosuch"]}, protocol.E_UNKNOWN_SERVICE, "nosuch"),
    ("status", {"names": ["../etc"]}, protocol.E_UNKNOWN_SERVICE, "not a valid service name"),
    ("start", {"names": ["broken"], "wait": False}, protocol.E_UNKNOWN_SERVICE, "restart-delay"),
    ("stop", {"names": ["nosuch"], "wait": False, "force": False},
     protocol.E_UNKNOWN_SERVICE, "nosuch"),
    ("signal", {"name": "nosuch", "signal": "HUP"}, protocol.E_UNKNOWN_SERVICE, "nosuch"),
    ("logs", {"name": "nosuch", "follow": False, "clear": False},
     protocol.E_UNKNOWN_SERVICE, "nosuch"),
    ("tree", {"name": "nosuch"}, protocol.E_UNKNOWN_SERVICE, "nosuch"),
    ("reload", {"name": "a b"}, protocol.E_UNKNOWN_SERVICE, "not a valid service name"),
])
def test_control_unknown_or_unloadable_service_is_refused_in_one_sentence(h, kind, fields,
                                                                          code, says):
    # A name that is invalid, missing or fails to load: an error naming it, nothing started.
    err = error(h.ask(kind, **fields), code)
    assert says in err["message"] and "\n" not in err["message"]
    assert h.orders.sent == []


def test_control_start_without_wait_answers_at_once_and_spawns(h):
    # start --no-wait: the statuses now (starting), the dependency's start on its way.
    [web] = ok(h.ask("start", names=["web"], wait=False))
    assert web["name"] == "web" and web["state"] == "starting" and web["explicit"] is True
    assert h.engine.state("db").value == "starting"


def test_control_start_with_wait_answers_once_started(h):
    # start (waiting): no reply until the watcher reports the exec; then the started status.
    assert h.ask("start", names=["db"], wait=True) == []
    h.engine.on_spawned("db", 4242, h.now, Role.START)
    h.settle()
    [db] = ok(h.sent())
    assert db["state"] == "started" and db["pid"] == 4242


def test_control_start_with_wait_reports_a_failed_start(h):
    # A start that fails while waited for: error "failed", with why and the statuses.
    assert h.ask("start", names=["job"], wait=True) == []
    h.engine.on_spawned("job", 4243, h.now, Role.START)
    h.engine.on_exited("job", ExitStatus(code=1), h.now, Role.START)
    h.settle()
    err = error(h.sent(), protocol.E_FAILED)
    assert err["message"] == "job failed to start: command exited with code 1"
    assert err["statuses"][0]["name"] == "job"


def test_control_stop_refused_while_dependents_run_names_them(h):
    # A gentle stop of what a started service needs: refused, naming the dependent.
    ok(h.ask("start", names=["web"], wait=False))
    for name, pid in (("db", 1), ("web", 2)):
        h.engine.on_spawned(name, pid, h.now, Role.START)
        h.settle()
    err = error(h.ask("stop", names=["db"], wait=False, force=False), protocol.E_REFUSED)
    assert err["dependents"] == ["web"] and "web" in err["message"]
    # --force stops it, and the signal goes out as an effect (the watcher's job).
    [db] = ok(h.ask("stop", 2, names=["db"], wait=False, force=True), 2)
    assert db["state"] == "stopping"


def test_control_restart_release_and_wake(h):
    # restart and release answer with the statuses of what they name; a wake of what nothing
    # needs is refused, saying what to do instead.
    ok(h.ask("start", names=["db"], wait=False))
    h.engine.on_spawned("db", 7, h.now, Role.START)
    h.settle()
    [db] = ok(h.ask("restart", 2, names=["db"], wait=False, force=False), 2)
    assert db["state"] == "stopping" and db["target"] == "started"
    [db] = ok(h.ask("release", 3, names=["db"]), 3)
    assert db["explicit"] is False
    err = error(h.ask("wake", 4, names=["db"]), protocol.E_REFUSED, 4)
    assert err["message"] == ("db has no active dependents; cannot wake it (use start to "
                              "activate it explicitly)")


@pytest.mark.parametrize("kind, fields", [
    ("start", {"names": ["db"], "wait": False}),
    ("restart", {"names": ["db"], "wait": False, "force": False}),
    ("wake", {"names": ["db"]}),
])
def test_control_no_start_while_shutting_down(h, kind, fields):
    # Once shutting down, what would start something is refused "shutting-down".
    h.engine.shutdown(h.now)
    assert "shutting down" in error(h.ask(kind, **fields), protocol.E_SHUTTING_DOWN)["message"]


def test_control_signal_goes_to_the_running_process_only(h):
    # signal: refused without a process, bad-request for a bad name; else one order to the
    # watcher, for the process alone, with the signal's canonical name.
    assert "no running process" in error(h.ask("signal", name="db", signal="HUP"),
                                         protocol.E_REFUSED)["message"]
    ok(h.ask("start", names=["db"], wait=False))
    h.engine.on_spawned("db", 99, h.now, Role.START)
    h.settle()
    error(h.ask("signal", name="db", signal="NOTASIGNAL"), protocol.E_BAD_REQUEST)
    assert ok(h.ask("signal", name="db", signal="hup")) == {"pid": 99, "signal": "SIGHUP"}
    assert h.orders.sent == [("db", "signal", {"signal": "SIGHUP", "group": False})]


def test_control_logs_of_a_service_that_keeps_no_output_is_refused(h):
    err = error(h.ask("logs", name="db", follow=False, clear=False), protocol.E_REFUSED)
    assert "log-type = none" in err["message"]


def test_control_logs_without_a_watcher_answers_from_the_last_output(h):
    # No watcher: the output its last watcher handed back; --clear empties it.
    result = ok(h.ask("logs", name="buf", follow=False, clear=True))
    assert result == {"type": "buffer", "data": b"old output\n", "truncated": False}
    assert h.orders.output["buf"] == b""


def test_control_logs_with_a_watcher_is_answered_by_its_report(h):
    # A watcher holds the buffer: it is asked, and its report answers the client.
    h.ask("status", names=["buf"])
    h.orders.watched.add("buf")
    assert h.ask("logs", 5, name="buf", follow=False, clear=False) == []
    [(service, kind, fields)] = h.orders.sent
    assert (service, kind, fields["clear"]) == ("buf", "logs", False)
    h.server.on_logs_report(fields["request"], b"fresh\n", True)
    assert ok(h.sent(), 5) == {"type": "buffer", "data": b"fresh\n", "truncated": True}
    h.server.on_logs_report(fields["request"], b"again\n", False)  # answered once only
    assert h.sent() == []


def test_control_logs_of_a_logfile_shows_its_tail(tmp_path):
    h = Harness(tmp_path, {"filed": f"type = process\ncommand = sleep 1000\nlog-type = file\n"
                                    f"logfile = {tmp_path}/filed.log\n"})
    (tmp_path / "filed.log").write_bytes(b"one\ntwo\n")
    info = os.stat(tmp_path / "filed.log")
    result = ok(h.ask("logs", name="filed", follow=False, clear=False))
    # `end` says where the tail stops (device, inode, offset), for a follower to go on from.
    assert result == {"type": "file", "path": f"{tmp_path}/filed.log", "data": b"one\ntwo\n",
                      "truncated": False, "end": [info.st_dev, info.st_ino, 8]}


def test_control_logs_follow_streams_output_until_cancel(h):
    # logs -f: the buffer first, then each chunk of output, until cancel ends the stream.
    h.ask("status", names=["buf"])
    assert [m["kind"] for m in h.ask("logs", 6, name="buf", follow=True, clear=False)] == \
        ["output"]
    assert h.orders.sent == [("buf", "follow", {"on": True})]
    h.server.on_output("buf", b"more\n")
    [chunk] = h.sent()
    assert (chunk["kind"], chunk["id"], chunk["data"]) == ("output", 6, b"more\n")
    messages = h.ask("cancel", 7)
    assert [(m["id"], m["ok"]) for m in messages] == [(6, True), (7, True)]
    assert h.orders.sent[-1] == ("buf", "follow", {"on": False})


def test_control_tree_lists_dependencies_below_their_dependents(h):
    rows = ok(h.ask("tree", name="web"))
    assert [(r["name"], r["depth"], r["link"]) for r in rows] == [
        ("web", 0, None), ("db", 1, "depends-on")]


def test_control_reload_answers_with_the_new_status(h):
    assert ok(h.ask("reload", name="db"))["name"] == "db"
    assert "restart-delay" in error(h.ask("reload", name="broken"), protocol.E_REFUSED)["message"]


def test_control_events_stream_each_state_change_until_the_client_goes(h):
    # events: nothing at once; one "event" per state change; a client gone stops the stream.
    assert h.ask("events", 11) == []
    messages = h.ask("start", 12, names=["db"], wait=False)
    assert [(m["kind"], m["id"], m.get("event")) for m in messages] == [
        ("event", 11, "starting"), ("reply", 12, None)]
    h.engine.on_spawned("db", 5, h.now, Role.START)
    h.settle()
    [event] = h.sent()
    assert (event["kind"], event["id"], event["event"]) == ("event", 11, "started")
    assert event["status"]["name"] == "db" and event["status"]["pid"] == 5
    h.client_gone = True
    h.engine.stop("db", h.now)
    h.settle()
    assert h.server.streams.events == []


def test_control_shutdown_begins_at_once_and_answers_on_exit(h):
    # shutdown: the supervisor is told why; the reply comes when the root exits, and so do
    # the answers of everyone still waiting.
    assert h.ask("shutdown", 20) == []
    assert h.shutdowns == ["shutdown requested"]
    h.ask("start", 21, envelope=(b"client-2",), names=["db"], wait=True)
    h.server.on_exit()
    by_id = {m["id"]: m for m in h.sent()}
    assert by_id[20]["ok"] is True
    assert by_id[21]["error"]["code"] == protocol.E_SHUTTING_DOWN


@pytest.mark.parametrize("role", [protocol.ROLE_READ_ONLY, None, "someone"])
def test_control_read_only_role_is_refused_a_start_and_nothing_happens(h, role):
    # A client whose key is read-only (or of a role the server does not know) asks to start
    # web: unauthorised, with the reason, and the engine is untouched; it may still look.
    h.frames.clear()
    h.server.on_frames([*CLIENT, protocol.encode("start", id=1, names=["web"], wait=False)],
                       role)
    assert "read-only" in error(h.sent(), protocol.E_UNAUTHORISED)["message"]
    assert "web" not in h.engine and "db" not in h.engine
    h.server.on_frames([*CLIENT, protocol.encode("list", id=2)], role)
    ok(h.sent(), request_id=2)
