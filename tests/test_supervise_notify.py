"""The watcher's sd_notify end (actors/supervise/notify_socket.py): parsing datagrams, the
sender check against the service's process tree (a fake /proc, then real processes), what the
believed datagrams turn into, and the watchdog's deadline on an injected clock.
"""

from __future__ import annotations

import array
import os
import socket
import subprocess
import sys

import pytest

from actors.supervise.notify_socket import NotifySocket, in_service_tree, parse_datagram


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fake_proc(tmp_path, table: dict[int, tuple[int, int]]) -> str:
    """A /proc with `pid -> (ppid, session)` in each stat file (a space in the comm, too)."""
    for pid, (ppid, session) in table.items():
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(
            f"{pid} (my prog) S {ppid} {pid} {session} 0 -1 4194560\n")
    return str(tmp_path)


def send(address: str, data: bytes) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(data, "\0" + address[1:] if address.startswith("@") else address)


@pytest.fixture
def notify():
    sock = NotifySocket(Clock())
    try:
        yield sock
    finally:
        sock.close()


# --- parsing -----------------------------------------------------------------------------------


def test_parse_datagram_lines_last_wins_and_junk_skipped():
    # NAME=VALUE lines; a later line wins; lines without '=' and empty names are skipped; a
    # value may hold '=' and spaces; bad UTF-8 does not raise.
    assert parse_datagram(b"READY=1\nSTATUS=a = b\n\nnoise\n=x\nSTATUS=c d\n\xff=1") == {
        "READY": "1", "STATUS": "c d", "\ufffd": "1"}
    assert parse_datagram(b"") == {}


# --- the sender check --------------------------------------------------------------------------


def test_sender_check_walks_the_parent_chain(tmp_path):
    # daemon 50 (its own session) -> 60 -> 70; 80 is elsewhere under 1; 90 was re-parented to
    # the watcher (40) but is still in the daemon's session.
    proc = fake_proc(tmp_path, {50: (40, 50), 60: (50, 50), 70: (60, 60), 80: (1, 80),
                                90: (40, 50), 40: (1, 30)})
    assert in_service_tree(50, 50, proc)
    assert in_service_tree(70, 50, proc)       # a grandchild in a session of its own
    assert in_service_tree(90, 50, proc)       # an orphan still in the daemon's session
    assert not in_service_tree(80, 50, proc)   # a stranger
    assert not in_service_tree(40, 50, proc)   # the watcher itself is not the service
    assert not in_service_tree(12345, 50, proc)  # gone: cannot be checked
    assert not in_service_tree(70, None, proc)   # no daemon runs


def test_sender_check_with_real_processes():
    # This process is not below a sleep it started; the sleep's own child is.
    daemon = subprocess.Popen(["sleep", "30"], start_new_session=True)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert in_service_tree(daemon.pid, daemon.pid)
        assert not in_service_tree(os.getpid(), daemon.pid)
        assert not in_service_tree(child.pid, daemon.pid)
        assert in_service_tree(child.pid, os.getpid())
    finally:
        for p in (daemon, child):
            p.kill()
            p.wait()


# --- datagrams ---------------------------------------------------------------------------------


def test_launch_environment(notify):
    # NOTIFY_SOCKET is the abstract address; a watchdog adds WATCHDOG_USEC.
    env = notify.launching({"watchdog": 2.5, "stop_timeout": 3})
    assert env == {"NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "2500000"}
    assert notify.address == f"@zeroinit-notify-{os.getpid()}"
    assert notify.launching({"watchdog": 0.0}) == {"NOTIFY_SOCKET": notify.address}


def test_believed_datagrams_become_reports(notify):
    # From a process that counts (here: this process as its own "daemon"): STATUS, READY,
    # EXTEND_TIMEOUT_USEC, RELOADING then READY=1 again; unknown names ignored.
    notify.launching({})
    me = os.getpid()
    send(notify.address, b"STATUS=warming\nEXTEND_TIMEOUT_USEC=2500000\nFOO=bar")
    send(notify.address, b"READY=1\nSTATUS=up")
    assert notify.receive(me, False) == [
        ("notify_state", {"status": "warming", "stopping": False, "reloading": False}),
        ("extend_timeout", {"seconds": 2.5}),
        ("notify_state", {"status": "up", "stopping": False, "reloading": False}),
        ("ready", {}),
    ]
    send(notify.address, b"RELOADING=1")
    send(notify.address, b"READY=1")
    send(notify.address, b"READY=1\nSTOPPING=1")
    assert notify.receive(me, True) == [
        ("notify_state", {"status": "up", "stopping": False, "reloading": True}),
        ("notify_state", {"status": "up", "stopping": False, "reloading": False}),
        ("notify_state", {"status": "up", "stopping": True, "reloading": False}),
    ]
    assert notify.receive(me, True) == []


def test_a_stranger_is_ignored_and_said_once(notify, capfd):
    # Datagrams from outside the service's tree change nothing; the log line is rate-limited.
    notify.launching({})
    daemon = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        for _ in range(3):
            send(notify.address, b"READY=1\nSTATUS=forged")
        assert notify.receive(daemon.pid, False) == []
    finally:
        daemon.kill()
        daemon.wait()
    assert notify.status_text is None
    err = capfd.readouterr().err
    assert err.count("ignored an sd_notify datagram") == 1
    assert f"from pid {os.getpid()}, which is not the service's process" in err


def test_passed_file_descriptors_are_closed(notify):
    # A datagram carrying an fd (sd_notify_barrier's BARRIER=1): the fd is closed at once, so
    # the sender's end sees EOF.
    notify.launching({})
    r, w = os.pipe()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendmsg([b"BARRIER=1"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                    array.array("i", [w]).tobytes())], 0,
                   "\0" + notify.address[1:])
    os.close(w)
    assert notify.receive(os.getpid(), True) == []
    assert os.read(r, 1) == b""  # every write end is closed
    os.close(r)


# --- the watchdog ------------------------------------------------------------------------------


def test_watchdog_armed_at_ready_moved_by_pings_and_triggered(notify):
    clock = notify.clock
    notify.launching({"watchdog": 2.0, "stop_timeout": 5})
    me = os.getpid()
    send(notify.address, b"WATCHDOG=1")
    notify.receive(me, False)
    assert notify.watchdog_at is None  # not before readiness
    send(notify.address, b"READY=1")
    notify.receive(me, False)
    assert notify.watchdog_at == 102.0
    clock.now = 101.5
    send(notify.address, b"WATCHDOG=1")
    notify.receive(me, True)
    assert not notify.watchdog_due(103.0) and notify.watchdog_due(103.5)
    send(notify.address, b"WATCHDOG_USEC=500000")
    notify.receive(me, True)
    assert notify.watchdog_at == 102.0 and notify.watchdog == 0.5
    send(notify.address, b"WATCHDOG=trigger")
    assert notify.receive(me, True) == [("watchdog", {"reason": "it sent WATCHDOG=trigger"})]
    assert notify.watchdog_at is None


def test_watchdog_stops_with_a_stop_and_with_the_process(notify):
    notify.launching({"watchdog": 1.0})
    send(notify.address, b"READY=1")
    notify.receive(os.getpid(), False)
    notify.stop_watchdog()
    assert notify.watchdog_at is None
    send(notify.address, b"WATCHDOG=1")
    notify.receive(os.getpid(), True)
    assert notify.watchdog_at is None  # a ping after a stop does not re-arm it
    notify.launching({"watchdog": 1.0})
    send(notify.address, b"READY=1")
    notify.receive(os.getpid(), False)
    notify.process_ended()
    assert notify.watchdog_at is None
