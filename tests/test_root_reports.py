"""What watchers tell the root (actors/root/reports.py): each report kind's handler, reports
from watchers the root does not know, bad frames and their rate-limited log lines, and the
death of a watcher. A real engine and watcher table, with a fake zygote, a fake actor socket
and a fake clock; no watcher processes.
"""

from __future__ import annotations

import io
import signal
import subprocess

import pytest
import zmq

from actors.engine import Engine, Role
from actors.root.console import Console
from actors.root.launch import launch_for
from actors.root.reports import Reports
from actors.root.watcher_table import WatcherTable
from broker import protocol
from tests.engine_sim import NO, READY_FD, proc


class FakeZygote:
    def __init__(self) -> None:
        self.forks: list[str] = []

    def fork_watcher(self, service, endpoint, log, seed, order) -> None:
        self.forks.append(service)


class FakeSock:
    """The actor ROUTER: what was sent, as (identity, decoded order)."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, dict]] = []

    def send_multipart(self, frames, flags=0) -> None:
        identity, frame = frames
        self.sent.append((identity, protocol.decode_order(frame)))


class Listener:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def on_logs_report(self, request, data, truncated):
        self.calls.append(("logs", request, data, truncated))

    def on_output(self, service, data):
        self.calls.append(("output", service, data))

    def answer_orphaned_log_requests(self):
        self.calls.append(("orphans",))


class Harness:
    def __init__(self, *specs):
        self.now = 10.0
        self.engine = Engine()
        self.engine.add(specs or [proc("p")])
        self.sock = FakeSock()
        self.table = WatcherTable(FakeZygote(), self.sock, "ipc:///nowhere")
        self.listener = Listener()
        self.err = io.StringIO()
        self.console = Console(out=io.StringIO(), err=self.err, clock=lambda: self.now)
        self.reports = Reports(self.table, self.engine, self.listener, self.console,
                               lambda: self.now)

    def start(self, name: str = "p") -> None:
        """Start `name`; its Spawn goes to the table, which forks a watcher for it."""
        self.engine.start(name, self.now)
        self.engine.take_effects()
        self.table.spawn(name, "start", launch_for(self.engine.spec(name), Role.START))

    def report(self, identity: str, kind: str, **fields) -> None:
        self.reports.on_frames([identity.encode(), protocol.encode(kind, **fields)])

    def hello(self, service: str = "p", watcher_pid: int = 4000, **fields) -> None:
        defaults = {"service": service, "watcher_pid": watcher_pid, "pid": None, "role": None,
                    "ready": False, "exit": None}
        self.report(service, "hello", **{**defaults, **fields})

    @property
    def lines(self) -> list[str]:
        return self.err.getvalue().splitlines()


@pytest.fixture
def h():
    return Harness()


def test_reports_handler_table_matches_the_protocol_report_kinds(h):
    # One handler per report kind the protocol declares; a kind without one is caught early.
    assert set(h.reports._handlers) == set(protocol.REPORTS)


def test_reports_refuse_to_exist_with_a_report_kind_unhandled(h, monkeypatch):
    monkeypatch.setitem(protocol.REPORTS, "gossip", {})
    with pytest.raises(AssertionError, match="without a handler"):
        Reports(h.table, h.engine, h.listener, h.console, lambda: h.now)


def test_reports_hello_connects_the_watcher_and_sends_what_waited_for_it(h):
    # Orders given before the watcher's hello go out once it says hello, in order.
    h.start()
    h.table.send("p", "follow", on=True)
    assert h.sock.sent == []
    h.hello(watcher_pid=4001)
    assert [(i, o["kind"]) for i, o in h.sock.sent] == [(b"p", "follow")]
    assert h.table.handles["p"].connected and h.table.handles["p"].pid == 4001


def test_reports_spawned_ready_and_exited_drive_the_engine():
    # The reports of a readiness-notifying process, in order: executing, ready, exited.
    h = Harness(proc("p", ready_notification=READY_FD, restart=NO))
    h.start()
    h.hello()
    h.report("p", "spawned", role="start", pid=321)
    assert h.engine.state("p").value == "starting" and h.engine.pid("p") == 321
    h.report("p", "ready")
    assert h.engine.state("p").value == "started"
    h.now += 1
    h.report("p", "exited", role="start", pid=321, code=None, signal="SIGSEGV")
    status = h.engine.status("p")
    assert status["state"] == "stopped" and status["exit"] == {"code": None, "signal": "SIGSEGV"}


def test_reports_spawn_failed_and_ready_failed_fail_the_start():
    # An exec failure fails the start with the watcher's reason; so does a readiness failure.
    h = Harness(proc("p", restart=NO), proc("q", ready_notification=READY_FD, restart=NO))
    for name in ("p", "q"):
        h.start(name)
        h.hello(name)
    h.report("p", "spawn_failed", role="start", reason="/bin/p: No such file or directory")
    assert h.engine.status("p")["stop_reason"] == "exec-failed"
    assert "No such file" in h.engine.snapshot("p").reason
    h.report("q", "spawned", role="start", pid=55)
    h.report("q", "ready_failed")
    assert h.engine.status("q")["stop_reason"] == "failed"
    assert h.engine.state("q").value == "stopping"  # its process is being stopped


def test_reports_logs_output_and_retired_go_to_the_control_side(h):
    # What concerns clients goes to the listener; a retired watcher's output is kept.
    h.start()
    h.hello()
    h.report("p", "logs", request=3, data=b"abc", truncated=True)
    h.report("p", "output", data=b"line\n")
    h.table.retire("p")
    h.report("p", "retired", log=b"last words\n")
    assert h.listener.calls == [("logs", 3, b"abc", True), ("output", "p", b"line\n"),
                                ("orphans",)]
    assert "p" not in h.table and h.table.output_of("p") == b"last words\n"
    assert h.table.exiting == {4000}  # until the zygote says it is reaped


@pytest.mark.parametrize("kind, fields", [
    ("spawned", {"role": "start", "pid": 1}),
    ("exited", {"role": "start", "pid": 1, "code": 0, "signal": None}),
    ("ready", {}),
    ("output", {"data": b"x"}),
])
def test_reports_from_an_unknown_watcher_are_dropped_and_logged(h, kind, fields):
    # A report from a service the root has no watcher for (or does not know) changes nothing.
    h.report("p", kind, **fields)         # p is loaded, but has no watcher
    h.report("ghost", kind, **fields)     # not even loaded
    assert h.engine.state("p").value == "stopped" and h.engine.pid("p") is None
    assert h.listener.calls == []
    assert h.lines == [f"zeroinit: dropped a {kind} report from an unknown watcher 'p'"]


@pytest.mark.parametrize("service, claimed", [("ghost", "ghost"), ("p", "q")])
def test_reports_hello_from_an_unknown_watcher_kills_and_retires_it(h, service, claimed):
    # A watcher the root did not fork (or one claiming another's name) is told to kill what it
    # runs and to go.
    h.report(service, "hello", service=claimed, watcher_pid=9, pid=None, role=None,
             ready=False, exit=None)
    assert h.sock.sent == [(service.encode(), {"kind": "kill"}),
                           (service.encode(), {"kind": "retire"})]
    assert h.lines == [f"zeroinit: an unknown watcher for {service!r} connected; retiring it"]


def test_reports_hello_from_an_unknown_watcher_survives_an_unreachable_socket(h):
    # Telling a stray watcher to go is best effort: a send error is not the root's problem.
    def unreachable(frames, flags=0):
        raise zmq.ZMQError(zmq.EHOSTUNREACH)
    h.sock.send_multipart = unreachable
    h.hello("ghost")
    assert "unknown watcher" in h.err.getvalue()


@pytest.mark.parametrize("frames", [
    [b"p"], [b"", protocol.encode("ready")], [b"p", b"x", b"y"]])
def test_reports_of_the_wrong_shape_are_ignored(h, frames):
    # Not [identity, payload]: nothing to answer and nothing to say.
    h.start()
    h.hello()
    h.reports.on_frames(frames)
    assert h.lines == [] and h.engine.pid("p") is None


def test_reports_bad_frames_are_logged_at_most_once_a_second(h):
    # A flood of garbage on the actor socket: one line per second per topic, then how many
    # were held back.
    for _ in range(30):
        h.reports.on_frames([b"p", b"\xc1junk"])
    h.report("ghost", "ready")  # same topic: held back too
    [first] = h.lines
    assert first.startswith("zeroinit: dropped a bad report: message: not a msgpack message")
    h.now += 0.999
    h.reports.on_frames([b"p", protocol.encode("ready", extra=1)[:-1]])
    assert len(h.lines) == 1
    h.now += 0.001
    h.report("p", "spawned", role="start")  # missing pid
    assert len(h.lines) == 2
    assert h.lines[1] == ("zeroinit: dropped a bad report: spawned.pid: missing field "
                          "(and 31 more since)")


def test_reports_watcher_gone_after_retiring_is_expected(h):
    # The watcher retired and was reaped: nothing to handle.
    h.start()
    h.hello()
    h.table.retire("p")
    h.report("p", "retired", log=b"")
    h.reports.on_watcher_gone(4000)
    assert h.lines == [] and len(h.table) == 0


def test_reports_watcher_death_kills_its_process_group_and_counts_as_an_exit():
    # A watcher dies while its daemon runs: the daemon's group is killed (nobody supervises it
    # any more), and the service is handled as killed.
    h = Harness(proc("p", restart=NO))
    daemon = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    try:
        h.start()
        h.hello()
        h.report("p", "spawned", role="start", pid=daemon.pid)
        assert h.engine.state("p").value == "started"
        h.reports.on_watcher_gone(4000)
        assert daemon.wait(timeout=20) == -signal.SIGKILL
    finally:
        daemon.kill()
        daemon.wait()
    status = h.engine.status("p")
    assert status["state"] == "stopped" and status["exit"] == {"code": None, "signal": "SIGKILL"}
    assert h.lines == ["zeroinit: p: its watcher (pid 4000) died; its processes are stopped "
                       "and it is handled as exited"]
    assert ("orphans",) in h.listener.calls


def test_reports_death_of_a_watcher_the_table_does_not_know_changes_nothing(h):
    h.start()
    h.hello()
    h.reports.on_watcher_gone(31337)
    assert "p" in h.table and h.lines == []
