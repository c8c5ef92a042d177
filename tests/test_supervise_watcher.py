"""The watcher actor (actors/supervise/watcher.py) driven by hand, on a fake clock: the stop
escalation (SIGKILL once kill_after and ESCALATION_LAG have passed, so that a root still there
goes first; once, and not after the process is gone), a second spawn of a running role, the
reconnection deadlines and their back-off, the connection to a root that checks the watcher's
PLAIN credentials, and the readiness race: a readiness pipe that reaches EOF because the
process is exiting must be reported as the exit, not `ready_failed`.

The loop's steps (`on_order`, `on_fd`, `on_deadlines`) are called directly: time moves only
when a test moves it, and a real event (a pipe's EOF, a process's exit) is waited for on its
file descriptor, with a deadline. What the watcher reports is read from the queue it keeps
until its first connection to a root.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from types import SimpleNamespace

import pytest
import zmq

from actors.root.watcher_gate import (WATCHERS_DOMAIN, WatcherGate, password_for,
                                      secure_actor_socket)
from actors.supervise.children import Exit
from actors.supervise.watcher import (ESCALATION_LAG, READY_EOF_GRACE, RECONNECT_FIRST,
                                      RECONNECT_MAX, Watcher)
from broker import protocol
from broker.zap import ZapHandler

WAIT = 10.0  # the deadline for a real event (a pipe's EOF, a process's exit)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeProcs:
    """ServiceProcesses without processes: it records what it is asked to do."""

    def __init__(self) -> None:
        self.children: dict[str, SimpleNamespace] = {}
        self.kills = 0
        self.signals: list[str] = []
        self.last_exit = None
        self.ready_seen = False
        self.notify = None  # no sd_notify socket

    def spawn(self, role, launch):
        child = SimpleNamespace(role=role, pid=7000 + len(self.children), pidfd=-1)
        self.children[role] = child
        return child

    def signal(self, sig, group):
        self.signals.append(sig)

    def kill(self):
        self.kills += 1

    def reap(self):
        return []

    def fds(self):
        return []


@pytest.fixture
def make():
    """Build watchers; put back the signal set-up they change, and end what they started."""
    old_chld = signal.getsignal(signal.SIGCHLD)
    old_wakeup = signal.set_wakeup_fd(-1)
    made: list[Watcher] = []

    def build(log=None, fake=True, password=b""):
        w = Watcher("svc", log or {"type": "none"}, clock=Clock(), password=password)
        if fake:
            w.procs = FakeProcs()
        made.append(w)
        return w

    yield build
    for w in made:
        if not isinstance(w.procs, FakeProcs):
            w.procs.kill()
            for child in list(w.procs.children.values()):
                _wait_readable(child.pidfd)
            w.procs.reap()
        if w.root is not None:
            w.root.close()
        w._wake_r.close()
        w._wake_w.close()
    signal.set_wakeup_fd(old_wakeup)
    signal.signal(signal.SIGCHLD, old_chld)


def reports(w: Watcher) -> list[tuple]:
    """What the watcher reported so far, as (kind, ...interesting fields)."""
    out = []
    for frame in w.pending:
        r = protocol.decode_report(frame)
        extra = {"spawned": ("role",), "exited": ("role", "code", "signal")}.get(r["kind"], ())
        out.append((r["kind"], *(r[f] for f in extra)))
    return out


def order(w: Watcher, kind: str, **fields) -> None:
    w.on_order(protocol.encode(kind, **fields))


def _wait_readable(fd: int, timeout: float = WAIT) -> int:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    events = poller.poll(timeout * 1000)
    assert events, f"fd {fd} did not become readable within {timeout} s"
    return events[0][1]


# ---------------------------------------------------------------------------------------------
# Stop escalation
# ---------------------------------------------------------------------------------------------


def test_watcher_kills_what_is_left_once_kill_after_passes_and_only_once(make):
    # A stop signal with kill_after 5: nothing more when 5 s have passed (the root's own stop
    # timer goes first, while there is a root), then, ESCALATION_LAG later, one SIGKILL.
    w = make()
    w.spawn("start", {}, None)
    order(w, "signal", signal="SIGTERM", group=True, kill_after=5.0)
    assert w.procs.signals == ["SIGTERM"]
    due = 1000.0 + 5.0 + ESCALATION_LAG
    assert w.next_deadline() == due
    w.clock.now = 1005.0
    w.on_deadlines()
    assert w.procs.kills == 0
    w.clock.now = due - 0.001
    w.on_deadlines()
    assert w.procs.kills == 0
    w.clock.now = due
    w.on_deadlines()
    assert w.procs.kills == 1 and w.next_deadline() is None
    w.clock.now = 1010.0
    w.on_deadlines()
    assert w.procs.kills == 1


def test_watcher_escalates_nothing_once_the_process_ended(make):
    # The process went on TERM: the escalation is called off, nothing is killed later.
    w = make()
    w.spawn("start", {}, None)
    order(w, "signal", signal="SIGTERM", group=True, kill_after=5.0)
    pid = w.procs.children.pop("start").pid
    w.on_exits([Exit("start", pid, None, "SIGTERM")])
    assert w.next_deadline() is None
    w.clock.now = 1006.0
    w.on_deadlines()
    assert w.procs.kills == 0
    assert reports(w)[-1] == ("exited", "start", None, "SIGTERM")


@pytest.mark.parametrize("kill_after", [None, 0.0])
def test_watcher_signal_without_kill_after_arms_nothing(make, kill_after):
    # `zeroctl signal HUP` is no stop: no escalation.
    w = make()
    w.spawn("start", {}, None)
    order(w, "signal", signal="SIGHUP", group=False, kill_after=kill_after)
    assert w.next_deadline() is None


def test_watcher_stop_command_carries_its_own_escalation(make):
    # A stop command ordered with kill_after 3: once 3 s (and the lag) have passed, whatever
    # of the service is left dies.
    w = make()
    w.spawn("start", {}, None)
    order(w, "spawn", role="stop", launch={}, kill_after=3.0)
    assert reports(w)[-1] == ("spawned", "stop")
    w.clock.now = 1003.0
    w.on_deadlines()
    assert w.procs.kills == 0
    w.clock.now = 1003.0 + ESCALATION_LAG
    w.on_deadlines()
    assert w.procs.kills == 1


def test_watcher_keeps_the_earliest_of_two_stop_deadlines(make):
    # A second stop does not put off the first one's SIGKILL; an earlier one brings it on.
    w = make()
    w.spawn("start", {}, None)
    order(w, "signal", signal="SIGTERM", group=True, kill_after=5.0)
    w.clock.now = 1001.0
    order(w, "signal", signal="SIGTERM", group=True, kill_after=10.0)
    assert w.next_deadline() == 1000.0 + 5.0 + ESCALATION_LAG
    order(w, "signal", signal="SIGINT", group=True, kill_after=2.0)
    assert w.next_deadline() == 1001.0 + 2.0 + ESCALATION_LAG


def test_watcher_new_start_calls_off_an_old_stops_escalation(make):
    # The stop finished, a new start came: the old deadline must not kill the new process.
    w = make()
    w.spawn("start", {}, None)
    order(w, "signal", signal="SIGTERM", group=True, kill_after=5.0)
    w.procs.children.clear()  # ended, its exit not yet seen
    w.spawn("start", {}, None)
    assert w.next_deadline() is None
    w.clock.now = 1005.0 + ESCALATION_LAG
    w.on_deadlines()
    assert w.procs.kills == 0


def test_watcher_kills_a_real_process_that_ignores_its_stop_signal(make):
    # sh ignoring TERM: the watcher's own SIGKILL ends it when kill_after passes.
    w = make({"type": "buffer", "size": 1024}, fake=False)
    w.spawn("start", {"argv": ["/bin/sh", "-c", "trap '' TERM; echo armed; exec sleep 1000"],
                      "log": {"type": "buffer"}}, None)
    while b"armed" not in w.procs.out.buffer.snapshot():
        _wait_readable(w.procs.out.fd)
        w.procs.out.read()
    order(w, "signal", signal="SIGTERM", group=True, kill_after=2.0)
    child = w.procs.children["start"]
    assert select.select([child.pidfd], [], [], 0)[0] == []  # TERM did not end it
    w.clock.now += 2.0 + ESCALATION_LAG
    w.on_deadlines()
    w.on_fd(child.pidfd, _wait_readable(child.pidfd))
    assert reports(w)[-1] == ("exited", "start", None, "SIGKILL")
    assert w.procs.children == {}


def test_watcher_spawn_of_a_role_that_runs_reports_the_running_process(make):
    # A root that asks again (one taking the watcher back, say) gets no second copy: the
    # process that runs is reported as spawned, and a stop's escalation is not called off.
    w = make()
    w.spawn("start", {}, None)
    order(w, "signal", signal="SIGTERM", group=True, kill_after=5.0)
    order(w, "spawn", role="start", launch={"argv": ["/bin/true"]}, kill_after=0.0)
    assert list(w.procs.children) == ["start"]
    spawned = [protocol.decode_report(frame) for frame in w.pending]
    assert [(r["kind"], r["role"], r["pid"]) for r in spawned] == [("spawned", "start", 7000)] * 2
    assert w.next_deadline() == 1000.0 + 5.0 + ESCALATION_LAG


def test_watcher_drops_a_bad_order(make):
    w = make()
    w.on_order(b"\xc1junk")
    w.on_order(protocol.encode("signal", signal="SIGTERM"))  # no group
    assert w.procs.signals == [] and w.pending == []


# ---------------------------------------------------------------------------------------------
# Reconnection
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def endpoint():
    directory = tempfile.mkdtemp(prefix="zw-", dir="/tmp")  # ipc paths are short
    yield os.path.join(directory, "actor")
    shutil.rmtree(directory, ignore_errors=True)


def test_watcher_retries_a_missing_root_with_backoff_up_to_the_maximum(make, endpoint):
    # No root listening: attempts at 0.1, 0.2, 0.4 ... s apart, never more than 2 s apart; no
    # attempt before its deadline.
    w = make()
    w.connect("ipc://" + endpoint)
    assert w.root is None
    start, gaps = w.clock.now, []
    for _ in range(7):
        due = w.next_deadline()
        w.clock.now = due - 0.001
        w.on_deadlines()
        assert w.next_deadline() == due  # not yet tried
        w.clock.now = due
        w.on_deadlines()
        assert w.root is None
        gaps.append(round(due - start, 6))
        start = due
    assert gaps == [RECONNECT_FIRST, 0.2, 0.4, 0.8, 1.6, RECONNECT_MAX, RECONNECT_MAX]


KEY = b"k" * 32  # the root's secret, from which each watcher's password is derived


@pytest.fixture
def root(endpoint):
    """The root's actor socket, as the root makes it: a ROUTER that is a PLAIN server whose
    peers the root's own ZAP handler lets in, or not (the `watchers` domain answered by
    WatcherGate, as in the root). Nothing is bound yet."""
    ctx = zmq.Context()
    refused: list[str] = []
    zap = ZapHandler(ctx, lambda domain, why: refused.append(why))
    gate = WatcherGate(KEY)
    zap.serve(WATCHERS_DOMAIN, gate.verdict)
    router = ctx.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    secure_actor_socket(router)
    yield SimpleNamespace(gate=gate, zap=zap, router=router, refused=refused,
                          bind=lambda: router.bind("ipc://" + endpoint))
    router.close(0)
    zap.close()
    ctx.term()


def _watcher_mask(zmq_mask: int) -> int:
    return ((select.POLLIN if zmq_mask & zmq.POLLIN else 0)
            | (select.POLLOUT if zmq_mask & zmq.POLLOUT else 0)
            | (select.POLLERR if zmq_mask & zmq.POLLERR else 0))


def exchange(w: Watcher, root: SimpleNamespace, count: int) -> list[list[zmq.Frame]]:
    """Run both ends, the watcher's connection and the root's socket with its ZAP handler,
    until the root has received `count` messages (within WAIT seconds)."""
    got: list[list[zmq.Frame]] = []
    deadline = time.monotonic() + WAIT
    while len(got) < count:
        remaining = deadline - time.monotonic()
        assert remaining > 0 and w.root is not None, f"the root received {len(got)} messages"
        poller = zmq.Poller()
        poller.register(root.zap.sock, zmq.POLLIN)
        poller.register(root.router, zmq.POLLIN)
        fd = w.root.fileno()
        poller.register(fd, zmq.POLLIN | (zmq.POLLOUT if w.root.wants_write else 0))
        events = dict(poller.poll(remaining * 1000))
        if root.zap.sock in events:
            root.zap.on_readable()
        if fd in events:
            w.on_root(_watcher_mask(events[fd]))
        while True:
            try:
                got.append(root.router.recv_multipart(zmq.NOBLOCK, copy=False))
            except zmq.Again:
                break
    return got


def _readable_tending_the_gate(fd: int, gate: ZapHandler) -> int:
    """Wait for `fd` as the root does, polling its ZAP handler meanwhile: libzmq tears down
    a closed connection's ZAP pipe only when the handler's socket is used."""
    deadline = time.monotonic() + WAIT
    while (remaining := deadline - time.monotonic()) > 0:
        poller = zmq.Poller()
        poller.register(gate.sock, zmq.POLLIN)
        poller.register(fd, zmq.POLLIN)
        events = dict(poller.poll(remaining * 1000))
        if gate.sock in events:
            gate.on_readable()
        if fd in events:
            return _watcher_mask(events[fd])
    raise AssertionError(f"fd {fd} did not become readable within {WAIT} s")


def test_watcher_connects_at_its_deadline_says_hello_then_what_happened(make, endpoint, root):
    # The root appears: at the next attempt the watcher connects with its credentials (its
    # service's name and password), says hello first, then the reports it made before its
    # first connection, in order; the back-off starts again from the start.
    w = make(password=password_for(KEY, "svc"))
    w.spawn("start", {}, None)
    w.connect("ipc://" + endpoint)
    w.clock.now = w.next_deadline()
    w.on_deadlines()  # fails: back-off grows
    assert w.reconnect_delay > RECONNECT_FIRST
    root.bind()
    w.clock.now = w.next_deadline()
    w.on_deadlines()
    assert w.root is not None and w.next_deadline() is None
    assert w.reconnect_delay == RECONNECT_FIRST and w.pending == []
    got = exchange(w, root, 2)
    assert [frames[0].bytes for frames in got] == [b"svc", b"svc"]  # its routing id
    assert {frames[0].get("User-Id") for frames in got} == {"svc"}  # what it authenticated as
    assert root.gate.peer_pids == {"svc": os.getpid()} and root.refused == []
    kinds = [protocol.decode_report(frames[-1].bytes)["kind"] for frames in got]
    assert kinds == ["hello", "spawned"]
    hello = protocol.decode_report(got[0][-1].bytes)
    assert hello["service"] == "svc" and hello["pid"] == 7000 and hello["role"] == "start"
    assert hello["watcher_pid"] == os.getpid()
    # The root goes away: the next attempt is RECONNECT_FIRST away, and what is reported
    # meanwhile is not queued (the next hello carries the state).
    root.router.close(0)
    w.on_root(_readable_tending_the_gate(w.root.fileno(), root.zap))
    assert w.root is None and w.next_deadline() == w.clock.now + RECONNECT_FIRST
    w.report("ready")
    assert w.pending == []


def test_watcher_with_the_wrong_password_gets_nothing_through(make, endpoint, root):
    # Another service's password: the root's ZAP handler refuses it, and not one report
    # arrives; the watcher sees the connection end and tries again later. (libzmq ends a
    # refused connection when its handshake interval passes: 5 s at the root, 0.5 s here.)
    w = make(password=password_for(KEY, "other"))
    w.spawn("start", {}, None)
    root.router.setsockopt(zmq.HANDSHAKE_IVL, 500)
    root.bind()
    w.connect("ipc://" + endpoint)
    assert w.root is not None
    with pytest.raises(AssertionError, match="received 0 messages"):
        exchange(w, root, 1)
    assert root.refused == [f"refused a watcher connection for 'svc' from pid {os.getpid()}: "
                            f"wrong or unknown credentials"]
    assert w.root is None and w.next_deadline() is not None


# ---------------------------------------------------------------------------------------------
# The readiness race
# ---------------------------------------------------------------------------------------------

READY_ON_20 = {"kind": "pipefd", "fd": 20, "var": None}  # not 3-9: those are pytest's here


def spawn_python(w: Watcher, code: str) -> SimpleNamespace:
    w.spawn("start", {"argv": [sys.executable, "-c", code], "ready": READY_ON_20}, None)
    assert reports(w) == [("spawned", "start")], reports(w)
    return w.procs.children["start"]


def test_watcher_reports_the_exit_not_ready_failed_when_the_pipe_closes_as_it_exits(make):
    # The pipe reaches EOF while the process is not yet reapable (held here until the watcher
    # has seen the EOF); it exits within the grace: one report, "exited". (Reporting
    # ready_failed at the EOF, as the watcher once did, fails this test every time.)
    w = make(fake=False)
    # SIGUSR1 blocked from the exec on (the mask is inherited), so however early it comes
    # it is waited for, never fatal.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    try:
        child = spawn_python(w, "import os, signal\n"
                                "os.close(20)\n"
                                "signal.sigwait({signal.SIGUSR1})\n"
                                "os._exit(3)\n")
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    w.on_fd(w.procs.ready_fd, _wait_readable(w.procs.ready_fd))
    assert w.procs.ready_fd is None  # the EOF was read
    assert reports(w) == [("spawned", "start")]  # nothing said yet: the exit may be coming
    assert w.next_deadline() == w.clock.now + READY_EOF_GRACE
    os.kill(child.pid, signal.SIGUSR1)
    w.clock.now += READY_EOF_GRACE / 2
    w.on_fd(child.pidfd, _wait_readable(child.pidfd))
    w.clock.now += READY_EOF_GRACE
    w.on_deadlines()
    assert reports(w) == [("spawned", "start"), ("exited", "start", 3, None)]
    assert w.next_deadline() is None


def test_watcher_reports_the_exit_not_ready_failed_when_exit_closes_the_pipe(make):
    # The process exits with the pipe open (the kernel closes it): however the EOF and the
    # exit are interleaved, the report is "exited", never ready_failed.
    w = make(fake=False)
    child = spawn_python(w, "import os; os._exit(4)")
    w.on_fd(w.procs.ready_fd, _wait_readable(w.procs.ready_fd))
    if "start" in w.procs.children:  # not reapable yet at the EOF
        w.on_fd(child.pidfd, _wait_readable(child.pidfd))
    w.clock.now += 2 * READY_EOF_GRACE
    w.on_deadlines()
    assert reports(w) == [("spawned", "start"), ("exited", "start", 4, None)]


def test_watcher_reports_ready_failed_once_the_grace_passes_with_the_process_alive(make):
    # The pipe closed without a word and the process goes on: ready_failed, at the end of the
    # grace and not before; once.
    w = make(fake=False)
    spawn_python(w, "import os, signal; os.close(20); signal.pause()")
    w.on_fd(w.procs.ready_fd, _wait_readable(w.procs.ready_fd))
    w.clock.now += READY_EOF_GRACE - 0.001
    w.on_deadlines()
    assert reports(w) == [("spawned", "start")]
    w.clock.now += 0.001
    w.on_deadlines()
    assert reports(w) == [("spawned", "start"), ("ready_failed",)]
    w.clock.now += 10
    w.on_deadlines()
    assert len(reports(w)) == 2


def test_watcher_reports_ready_on_the_first_line(make):
    w = make(fake=False)
    spawn_python(w, "import os, signal; os.write(20, b'ok\\n'); signal.pause()")
    w.on_fd(w.procs.ready_fd, _wait_readable(w.procs.ready_fd))
    assert reports(w) == [("spawned", "start"), ("ready",)]
    assert w.next_deadline() is None



def test_watcher_readiness_pipe_works_when_it_already_has_the_wanted_number(make):
    # The pipe's write end happens to get fd 20 itself (19 and below are taken): the child
    # still gets it open (dup2 onto itself would have left it close-on-exec).
    w = make(fake=False)
    held = []
    try:
        while True:
            fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            if fd >= 19:
                os.close(fd)
                break
            held.append(fd)
        if fd != 19:
            pytest.skip(f"fds up to {fd} are taken in this process")
        spawn_python(w, "import os, signal; os.write(20, b'ok\\n'); signal.pause()")
        assert w.procs.ready_fd == 19
        w.on_fd(w.procs.ready_fd, _wait_readable(w.procs.ready_fd))
        assert reports(w) == [("spawned", "start"), ("ready",)]
    finally:
        for fd in held:
            os.close(fd)
