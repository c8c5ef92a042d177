"""What watchers tell the root (actors/root/reports.py): each report kind's handler, reports
from watchers the root does not know, bad frames and their rate-limited log lines, and the
death of a watcher. A real engine and watcher table, with a fake zygote, a fake actor socket
and a fake clock; no watcher processes (where a daemon must really be a watcher's child, the
test process plays the watcher). Every frame is delivered with the name its sender
authenticated as, as the actor socket's ZAP handler (watcher_gate.py) would.
"""

from __future__ import annotations

import io
import os
import select
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
        self.forks: list[tuple[str, bytes]] = []

    def fork_watcher(self, service, endpoint, password, log, seed, first) -> None:
        self.forks.append((service, password))


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


SAME = "the routing id"  # Harness.report's default `user`


class Harness:
    def __init__(self, *specs):
        self.now = 10.0
        self.engine = Engine()
        self.engine.add(specs or [proc("p")])
        self.sock = FakeSock()
        self.zygote = FakeZygote()
        self.table = WatcherTable(self.zygote, self.sock, "ipc:///nowhere",
                                  lambda service: b"pw-" + service.encode())
        self.listener = Listener()
        self.err = io.StringIO()
        self.console = Console(out=io.StringIO(), err=self.err, clock=lambda: self.now)
        # The pid that authenticated as each service's watcher (the gate's peer_pids).
        self.peer_pids: dict[str, int] = {}
        self.reports = Reports(self.table, self.engine, self.listener, self.console,
                               lambda: self.now, peer_pid=self.peer_pids.get)

    def start(self, name: str = "p") -> None:
        """Start `name`; its Spawn goes to the table, which forks a watcher for it."""
        self.engine.start(name, self.now)
        self.engine.take_effects()
        self.table.spawn(name, "start", launch_for(self.engine.spec(name), Role.START))

    def report(self, identity: str, kind: str, user: str | None = SAME, **fields) -> None:
        """A report under routing id `identity`, from a peer authenticated as `user` (by
        default the same name, as for every honest watcher; None: not authenticated)."""
        self.reports.on_frames([identity.encode(), protocol.encode(kind, **fields)],
                               identity if user is SAME else user)

    def hello(self, service: str = "p", watcher_pid: int = 4000, user: str | None = SAME,
              **fields) -> None:
        """A hello from the process that authenticated as `service`'s watcher (its pid is
        `watcher_pid`, unless `peer_pids` was set otherwise); `fields` override the report's."""
        self.peer_pids.setdefault(service, watcher_pid)
        defaults = {"service": service, "watcher_pid": watcher_pid, "pid": None, "role": None,
                    "ready": False, "exit": None}
        self.report(service, "hello", user, **{**defaults, **fields})

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
    # The watcher is forked with its own password; orders given before its hello go out once
    # it says hello, in order.
    h.start()
    assert h.zygote.forks == [("p", b"pw-p")]
    h.table.send("p", "follow", on=True)
    assert h.sock.sent == []
    h.hello(watcher_pid=4001)
    assert [(i, o["kind"]) for i, o in h.sock.sent] == [(b"p", "follow")]
    handle = h.table.handles["p"]
    assert handle.connected and handle.greeted and handle.pid == 4001


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


# ---------------------------------------------------------------------------------------------
# Reports that are not believed
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, fields", [
    ("spawned", {"role": "start", "pid": 321}),
    ("exited", {"role": "start", "pid": 321, "code": 0, "signal": None}),
    ("ready", {}),
    ("output", {"data": b"x"}),
])
def test_reports_from_a_watcher_that_has_not_said_hello_are_dropped_and_logged(h, kind, fields):
    # A report from a service the root has no watcher for (or does not know), or from its
    # watcher before its hello, changes nothing.
    h.report("p", kind, **fields)         # p is loaded, but has no watcher
    h.now += 1
    h.report("ghost", kind, **fields)     # not even loaded
    h.now += 1
    h.start()                             # a watcher is forked, but has not said hello yet
    h.report("p", kind, **fields)
    assert h.engine.state("p").value == "starting" and h.engine.pid("p") is None
    assert h.listener.calls == []
    assert h.lines == [f"zeroinit: dropped a {kind} report from {name!r}, which has not said "
                       f"hello" for name in ("p", "ghost", "p")]


def test_reports_from_the_watcher_of_a_service_that_is_not_loaded_are_dropped(h):
    # A watcher the root knows, of a service the engine does not (anymore): its reports go
    # nowhere.
    h.table.spawn("ghost", "start", launch_for(h.engine.spec("p"), Role.START))
    h.hello("ghost")
    h.report("ghost", "spawned", role="start", pid=321)
    assert h.lines == ["zeroinit: dropped a spawned report from a watcher of an unknown "
                       "service 'ghost'"]
    assert h.engine.pid("p") is None


@pytest.mark.parametrize("user", ["q", None])
def test_reports_under_a_name_other_than_the_one_authenticated_are_dropped(user):
    # q's watcher (or a peer that did not authenticate) sends frames under p's routing id:
    # neither p's hello nor p's reports are believed.
    h = Harness(proc("p"), proc("q"))
    h.start("p")
    h.hello("p", user=user)
    assert not h.table.greeted("p") and not h.table.handles["p"].connected
    h.hello("p")                          # p's own watcher says hello
    h.now += 1
    h.report("p", "spawned", user=user, role="start", pid=321)
    assert h.engine.pid("p") is None and h.engine.state("p").value == "starting"
    assert h.lines == [f"zeroinit: dropped a report under the name 'p' from a watcher "
                       f"authenticated as {user!r}"] * 2
    h.report("p", "spawned", role="start", pid=321)  # from p's watcher itself: believed
    assert h.engine.pid("p") == 321


@pytest.mark.parametrize("fields, peer", [
    ({"service": "q"}, 4000),                       # claims another service's name
    ({"watcher_pid": 1}, 1),                        # claims to be init
    ({"watcher_pid": 0}, None),
    ({"pid": 1, "role": "start"}, 4000),            # claims its daemon is init
    ({"pid": 0, "role": "start"}, 4000),
    ({"watcher_pid": 4000}, 4999),                  # another pid than the one that connected
])
def test_reports_hello_that_does_not_add_up_is_dropped(h, fields, peer):
    # A hello is believed only if it names the service its sender authenticated as, pids
    # above 1, and the pid that connected as its own: otherwise nothing is sent, the watcher
    # stays unconnected, and its later reports are dropped as before any hello.
    h.start()
    h.table.send("p", "follow", on=True)
    if peer is not None:
        h.peer_pids["p"] = peer
    h.report("p", "hello", **{"service": "p", "watcher_pid": 4000, "pid": None, "role": None,
                              "ready": False, "exit": None, **fields})
    assert h.sock.sent == []
    handle = h.table.handles["p"]
    assert not handle.greeted and not handle.connected and handle.daemon is None
    assert len(handle.outbox) == 1
    [line] = h.lines
    assert line.startswith("zeroinit: dropped a hello from 'p' that does not add up")
    h.now += 1
    h.report("p", "spawned", role="start", pid=321)
    assert h.engine.pid("p") is None
    assert h.lines[1] == "zeroinit: dropped a spawned report from 'p', which has not said hello"


@pytest.mark.parametrize("pid", [1, 0, -5])
def test_reports_spawned_naming_pid_1_or_less_is_dropped(h, pid):
    # No watcher may make the root believe (and later signal) init or a process group.
    h.start()
    h.hello()
    h.report("p", "spawned", role="start", pid=pid)
    assert h.engine.pid("p") is None and h.engine.state("p").value == "starting"
    assert h.table.handles["p"].daemon is None
    assert h.lines == [f"zeroinit: dropped a spawned report from 'p' naming pid {pid}"]


def test_reports_hello_from_an_unknown_watcher_kills_and_retires_it(h):
    # A watcher the root did not fork (and is not taking back) is told to kill what it runs
    # and to go.
    h.hello("ghost", watcher_pid=9)
    assert h.sock.sent == [(b"ghost", {"kind": "kill"}), (b"ghost", {"kind": "retire"})]
    assert h.lines == ["zeroinit: ghost: a watcher (pid 9) connected that this root did not "
                       "start and is not taking back; stopping it"]
    assert "ghost" not in h.table


def test_reports_hello_from_an_unknown_watcher_survives_an_unreachable_socket(h):
    # Telling a stray watcher to go is best effort: a send error is not the root's problem.
    def unreachable(frames, flags=0):
        raise zmq.ZMQError(zmq.EHOSTUNREACH)
    h.sock.send_multipart = unreachable
    h.hello("ghost")
    assert "did not start and is not taking back; stopping it" in h.err.getvalue()


@pytest.mark.parametrize("frames", [
    [b"p"], [b"", protocol.encode("ready")], [b"p", b"x", b"y"]])
def test_reports_of_the_wrong_shape_are_ignored(h, frames):
    # Not [identity, payload]: nothing to answer and nothing to say.
    h.start()
    h.hello()
    h.reports.on_frames(frames, "p")
    assert h.lines == [] and h.engine.pid("p") is None


def test_reports_bad_frames_are_logged_at_most_once_a_second(h):
    # A flood of garbage on the actor socket: one line per second per topic, then how many
    # were held back.
    for _ in range(30):
        h.reports.on_frames([b"p", b"\xc1junk"], "p")
    h.report("ghost", "ready")  # same topic: held back too
    [first] = h.lines
    assert first.startswith("zeroinit: dropped a bad report: message: not a msgpack message")
    h.now += 0.999
    h.reports.on_frames([b"p", protocol.encode("ready", extra=1)[:-1]], "p")
    assert len(h.lines) == 1
    h.now += 0.001
    h.report("p", "spawned", role="start")  # missing pid
    assert len(h.lines) == 2
    assert h.lines[1] == ("zeroinit: dropped a bad report: spawned.pid: missing field "
                          "(and 31 more since)")


# ---------------------------------------------------------------------------------------------
# A watcher's death
# ---------------------------------------------------------------------------------------------

def test_reports_watcher_gone_after_retiring_is_expected(h):
    # The watcher retired and was reaped: nothing to handle.
    h.start()
    h.hello()
    h.table.retire("p")
    h.report("p", "retired", log=b"")
    h.reports.on_watcher_gone(4000)
    assert h.lines == [] and len(h.table) == 0


def test_reports_last_words_of_a_watcher_reaped_before_they_arrived_are_kept(h):
    # The zygote's word that a retiring watcher ended can overtake the watcher's `retired`
    # (with its output) on the actor socket: the output is still kept, once, and only a
    # `retired` is let through that way.
    h.start()
    h.hello()
    h.table.retire("p")
    h.reports.on_watcher_gone(4000)
    h.report("p", "spawned", role="start", pid=4321)
    assert any("has not said hello" in line for line in h.lines)
    h.report("p", "retired", log=b"last words\n")
    assert h.table.output_of("p") == b"last words\n"
    h.report("p", "retired", log=b"again\n")  # only once
    assert h.table.output_of("p") == b"last words\n"


def _group_daemon() -> tuple[subprocess.Popen, int]:
    """A daemon leading its own process group, with a child in that group: (the daemon, a
    pidfd on its child). The test process is its parent, so it plays the daemon's watcher."""
    daemon = subprocess.Popen(["sh", "-c", "sleep 1000 & echo $!; wait"],
                              start_new_session=True, stdout=subprocess.PIPE)
    child = int(daemon.stdout.readline())
    return daemon, os.pidfd_open(child)


def _ended(pidfd: int) -> bool:
    """Whether the process of `pidfd` ended within 20 s (a pidfd is readable once it has)."""
    return select.select([pidfd], [], [], 20)[0] == [pidfd]


def _lost_as_killed(h: Harness, watcher_pid: int) -> None:
    status = h.engine.status("p")
    assert status["state"] == "stopped" and status["exit"] == {"code": None, "signal": "SIGKILL"}
    assert h.lines == [f"zeroinit: p: its watcher (pid {watcher_pid}) died; its processes are "
                       f"stopped and it is handled as exited"]
    assert ("orphans",) in h.listener.calls


@pytest.mark.parametrize("named_by", ["spawned", "hello"])
def test_reports_watcher_death_kills_its_process_group_and_counts_as_an_exit(named_by):
    # A watcher dies while its daemon runs: the daemon's group is killed (nobody supervises it
    # any more), and the service is handled as killed. The daemon is believed because it is
    # the watcher's own child (here the test process is the watcher), whether its watcher
    # reported it as spawned or named it in a (re)connecting hello.
    h = Harness(proc("p", restart=NO))
    watcher = os.getpid()
    daemon, child = _group_daemon()
    try:
        h.start()
        if named_by == "spawned":
            h.hello(watcher_pid=watcher)
            h.report("p", "spawned", role="start", pid=daemon.pid)
            assert h.engine.state("p").value == "started"
        else:
            h.hello(watcher_pid=watcher, pid=daemon.pid, role="start")
        assert h.table.verified_daemons() == {"p": daemon.pid}
        h.reports.on_watcher_gone(watcher)
        assert daemon.wait(timeout=20) == -signal.SIGKILL
        assert _ended(child)
    finally:
        daemon.kill()
        daemon.wait()
        daemon.stdout.close()
        os.close(child)
    if named_by == "spawned":
        _lost_as_killed(h, watcher)
    assert h.table.verified_daemons() == {}


def test_reports_watcher_death_does_not_kill_a_pid_it_merely_reported():
    # A watcher (pid 4000) reports a pid that is not its child: the root believes the engine
    # event, but never signals that process when the watcher dies.
    h = Harness(proc("p", restart=NO))
    bystander = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    try:
        h.start()
        h.hello()
        h.report("p", "spawned", role="start", pid=bystander.pid)
        assert h.engine.pid("p") == bystander.pid and h.table.verified_daemons() == {}
        h.reports.on_watcher_gone(4000)
        # Had it been sent SIGKILL, that would be how it died; it dies of this SIGTERM.
        bystander.terminate()
        assert bystander.wait(timeout=20) == -signal.SIGTERM
    finally:
        bystander.kill()
        bystander.wait()
    _lost_as_killed(h, 4000)


def test_reports_exited_daemon_is_no_longer_killed_with_its_watcher():
    # Once the watcher reports its daemon's exit, the root lets go of it: the watcher's death
    # later signals nothing (the pid may belong to someone else by then).
    h = Harness(proc("p"))
    watcher = os.getpid()
    daemon = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    try:
        h.start()
        h.hello(watcher_pid=watcher)
        h.report("p", "spawned", role="start", pid=daemon.pid)
        assert h.table.verified_daemons() == {"p": daemon.pid}
        h.report("p", "exited", role="start", pid=daemon.pid, code=0, signal=None)
        assert h.table.verified_daemons() == {} and h.table.handles["p"].daemon is None
        h.reports.on_watcher_gone(watcher)
        daemon.terminate()
        assert daemon.wait(timeout=20) == -signal.SIGTERM
    finally:
        daemon.kill()
        daemon.wait()


def test_reports_death_of_a_watcher_the_table_does_not_know_changes_nothing(h):
    h.start()
    h.hello()
    h.reports.on_watcher_gone(31337)
    assert "p" in h.table and h.lines == []
