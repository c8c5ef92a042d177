"""The actor socket believes only the watchers the root forked, and each only about what it
owns (issue 10). Hostile peers, against a real zeroinit with a real watcher:

* no credentials (pyzmq's own DEALER) or a wrong password, under a live service's name;
* the right password (read, as root may, from the state file) but a second connection under
  a live watcher's name: libzmq leaves it inert, the first one keeps working;
* the right password for a service with no watcher: reports before hello are dropped, and
  its hello, naming pid 1 or a foreign process, is not believed.

After each: the service's status is unchanged, the real watcher still obeys, and a foreign
process named by the impostor is alive.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess

import zmq

from actors.root.state_file import load, path_for
from actors.root.watcher_gate import password_for
from broker import protocol
from broker.zmtp import ZmtpError, ZmtpStream


def _actor_path(sup) -> str:
    return sup.socket + ".actors"


def _exchange(stream: ZmtpStream, frames: list[bytes], wait: float = 0.5) -> list[list[bytes]]:
    """Send `frames` on a raw connection; what comes back within `wait` seconds."""
    for frame in frames:
        stream.send(frame)
    got: list[list[bytes]] = []
    poller = select.poll()
    poller.register(stream.fileno(), select.POLLIN)
    deadline_ms = int(wait * 1000)
    while True:
        if stream.wants_write:
            stream.on_writable()
        if not poller.poll(deadline_ms if not stream.wants_write else 10):
            if not stream.wants_write:
                return got
            continue
        try:
            got.extend(stream.on_readable())
        except ZmtpError:
            return got


def _foreign() -> subprocess.Popen:
    return subprocess.Popen(["sleep", "1000"], start_new_session=True)


def _web(sup) -> dict:
    sup.write("web", "type = process\ncommand = sleep 1000\nrestart = no\n")
    sup.start("web")
    return sup.wait_state("web", "started")


def _still_ours(sup, before: dict) -> None:
    after = sup.status("web")
    assert (after["state"], after["pid"], after["restarts"]) == \
        (before["state"], before["pid"], before["restarts"])
    assert "Traceback" not in sup.stderr
    # The real watcher still takes orders: a stop ends the one real process.
    assert sup.ctl("stop", "web").code == 0
    sup.poll(lambda: not os.path.exists(f"/proc/{before['pid']}"), "web's process to end")


def test_peers_without_the_password_get_nowhere(sup):
    before = _web(sup)
    foreign = _foreign()
    ctx = zmq.Context()
    try:
        dealer = ctx.socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.setsockopt(zmq.IDENTITY, b"web")
        dealer.connect("ipc://" + _actor_path(sup))
        for kind, fields in (("hello", dict(service="web", watcher_pid=1, pid=1, role="start",
                                            ready=True, exit=None)),
                             ("spawned", dict(role="start", pid=foreign.pid))):
            try:
                dealer.send(protocol.encode(kind, **fields), zmq.NOBLOCK)
            except zmq.Again:
                pass  # no handshake, so nowhere to queue it: exactly the point
        wrong = ZmtpStream(_actor_path(sup), b"web", credentials=(b"web", b"guess"))
        assert _exchange(wrong, [protocol.encode("spawned", role="start", pid=1)]) == []
        wrong.close()
        sup.poll(lambda: "wrong or unknown credentials" in sup.stderr, "the refusal's line")
        _still_ours(sup, before)
        assert foreign.poll() is None
    finally:
        ctx.destroy(linger=0)
        foreign.kill()
        foreign.wait()


def test_a_second_connection_under_a_live_name_is_inert(sup):
    before = _web(sup)
    key = load(path_for(_actor_path(sup))).key
    foreign = _foreign()
    try:
        twin = ZmtpStream(_actor_path(sup), b"web", credentials=(b"web", password_for(key, "web")))
        replies = _exchange(twin, [
            protocol.encode("hello", service="web", watcher_pid=os.getpid(), pid=foreign.pid,
                            role="start", ready=True, exit=None),
            protocol.encode("exited", role="start", pid=before["pid"], code=0, signal=None),
        ])
        assert replies == []  # no order reaches it: it is not the watcher
        twin.close()
        _still_ours(sup, before)
        assert foreign.poll() is None
    finally:
        foreign.kill()
        foreign.wait()


def test_reports_before_hello_and_unbelievable_hellos_are_dropped(sup):
    before = _web(sup)
    sup.write("idle", "type = process\ncommand = sleep 1000\n")
    key = load(path_for(_actor_path(sup))).key
    foreign = _foreign()
    try:
        ghost = ZmtpStream(_actor_path(sup), b"idle",
                           credentials=(b"idle", password_for(key, "idle")))
        _exchange(ghost, [protocol.encode("spawned", role="start", pid=foreign.pid)])
        sup.poll(lambda: "which has not said hello" in sup.stderr, "the dropped report's line")
        # A hello naming pid 1 is not believed at all. (The log allows a line a second per
        # socket: the hello is sent again until its line is out.)
        pid1 = protocol.encode("hello", service="idle", watcher_pid=os.getpid(), pid=1,
                               role="start", ready=True, exit=None)
        sup.poll(lambda: _exchange(ghost, [pid1], wait=0.05) == [] and
                 "does not add up" in sup.stderr, "the refused hello's line")
        # One naming a foreign process under a service this root runs no watcher for is told
        # to stop: the orders go to the impostor, and the foreign process is not touched.
        orders = _exchange(ghost, [protocol.encode(
            "hello", service="idle", watcher_pid=os.getpid(), pid=foreign.pid, role="start",
            ready=True, exit=None)], wait=2.0)
        kinds = [protocol.decode_order(frames[-1])["kind"] for frames in orders]
        assert kinds == ["kill", "retire"]
        ghost.close()
        assert sup.status("idle")["state"] == "stopped"
        assert foreign.poll() is None
        _still_ours(sup, before)
    finally:
        foreign.send_signal(signal.SIGKILL)
        foreign.wait()
