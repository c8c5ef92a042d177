"""A single supervisor on tcp://127.0.0.1 with CURVE keys, driven by the real zeroctl: an admin
key may do everything, a read-only key may only look (every changing command refused, exit 1,
nothing changed), an unknown key gets nothing and the supervisor keeps serving the others,
garbage on the port changes nothing; tcp:// without keys is refused at start (zeroinit and
zeroctl, with -s and with ZEROINIT_SOCKET). Each test has its own keys, socket and port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest

from broker.client import Client
from broker.curve import client_keys
from tests.supervisor import ZEROCTL, ZEROINIT, Result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _keygen(directory, name: str) -> None:
    subprocess.run([*ZEROCTL, "keygen", str(directory), "--name", name], check=True,
                   capture_output=True, timeout=30)


class Keys:
    """A server's key directory and three clients': admin, read-only, and a stranger."""

    def __init__(self, base):
        self.server = base / "server"
        _keygen(self.server, "server")
        for role in ("admin", "read-only", "stranger"):
            folder = base / role
            _keygen(folder, role)
            (folder / "broker").mkdir()
            shutil.copy(self.server / "server.pub", folder / "broker")
            if role != "stranger":
                (self.server / role).mkdir()
                shutil.copy(folder / f"{role}.pub", self.server / role)
        self.base = base

    def dir(self, role: str) -> str:
        return str(self.base / role)


@pytest.fixture
def tcp(sup, tmp_path):
    """`sup` listening on a tcp port of its own with CURVE keys; web and log are loaded."""
    keys = Keys(tmp_path / "keys")
    sup.socket = f"tcp://127.0.0.1:{_free_port()}"
    sup.write("web", "type = process\ncommand = sleep 1000\nrestart = no\n")
    sup.write("log", "type = process\ncommand = sh -c 'echo hello; exec sleep 1000'\n"
                     "log-type = buffer\n")
    sup.write("boot", "waits-for = log\n")
    sup.start(extra=("--curve-dir", str(keys.server)))
    sup.keys = keys
    return sup


def _ctl(sup, role: str, *args: str, timeout: float = 60) -> Result:
    return sup.ctl("--curve-dir", sup.keys.dir(role), *args, timeout=timeout)


def _client(sup, role: str) -> Client:
    return Client(sup.socket, timeout=10, curve=client_keys(sup.keys.dir(role)))


def _states(sup) -> dict:
    result = _ctl(sup, "admin", "--json", "list")
    assert result.code == 0, result.err
    return {s["name"]: (s["state"], s["target"], s["pid"], s["explicit"]) for s in result.json}


def _wait_started(sup, name: str) -> None:
    sup.poll(lambda: _states(sup)[name][0] == "started", f"{name} to start")


def test_admin_key_may_start_and_stop(tcp):
    # An admin key over tcp: start waits for web, stop stops it.
    result = _ctl(tcp, "admin", "--json", "start", "web")
    assert result.code == 0, result.err
    assert result.json["state"] == "started" and result.json["pid"]
    result = _ctl(tcp, "admin", "--json", "stop", "web")
    assert result.code == 0, result.err
    assert result.json["state"] == "stopped"


@pytest.mark.parametrize("command", [
    ("start", "web"), ("stop", "log"), ("restart", "log"), ("signal", "HUP", "log"),
    ("release", "log"), ("wake", "log"), ("reload", "log"), ("logs", "--clear", "log"),
    ("shutdown",), ("reexec",),
])
def test_read_only_key_is_refused_every_change_and_nothing_changes(tcp, command):
    # A read-only key sends a changing command: exit 1, the reason, and no state changed.
    _wait_started(tcp, "log")
    before = _states(tcp)
    with _client(tcp, "admin") as admin:
        started = admin.call("hello")["started"]
    result = _ctl(tcp, "read-only", *command)
    assert result.code == 1, result.err
    assert "read-only" in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert _states(tcp) == before
    assert tcp.proc.poll() is None
    with _client(tcp, "admin") as admin:
        assert admin.call("hello")["started"] == started  # not re-executed
    assert "hello" in _ctl(tcp, "admin", "logs", "log").out  # not cleared


def test_read_only_key_may_look(tcp):
    # list, status, tree and logs with a read-only key all answer; events stream changes.
    _wait_started(tcp, "log")
    for command in (("list",), ("status", "web"), ("tree",), ("tree", "boot")):
        result = _ctl(tcp, "read-only", *command)
        assert result.code == 0, f"{command}: {result.err}"
    assert "hello" in _ctl(tcp, "read-only", "logs", "log").out
    with _client(tcp, "read-only") as reader:
        stream = reader.stream("events", idle_timeout=20)
        reader.call("hello")  # a round trip: the subscription is in place
        assert _ctl(tcp, "admin", "start", "web").code == 0
        seen = set()
        for message in stream:
            if message["status"]["name"] == "web":
                seen.add(message["event"])
            if "started" in seen:
                break
        assert "started" in seen


def test_unknown_key_gets_nothing_and_others_are_still_served(tcp):
    # A key in neither folder: the handshake is refused, zeroctl exits 3 within its timeout,
    # and admin and read-only clients are served as before.
    began = time.monotonic()
    result = _ctl(tcp, "stranger", "--timeout", "1", "start", "web", timeout=30)
    assert result.code == 3, result.err
    assert time.monotonic() - began < 10
    result = _ctl(tcp, "read-only", "--json", "status", "web")
    assert result.code == 0, result.err
    assert result.json["state"] == "stopped"
    assert _ctl(tcp, "admin", "start", "web").code == 0
    assert "refused a control connection" in tcp.stderr


def test_no_key_at_all_is_refused_by_zeroctl(tcp):
    # zeroctl without --curve-dir on tcp refuses at once (exit 2), with the reason.
    result = tcp.ctl("list")
    assert result.code == 2
    assert "--curve-dir" in result.err


def test_garbage_on_the_tcp_port_changes_nothing(tcp):
    # Random bytes, a half greeting and an idle connection on the port: the supervisor keeps
    # its state and keeps answering.
    _wait_started(tcp, "log")
    before = _states(tcp)
    host, port = tcp.socket[len("tcp://"):].rsplit(":", 1)
    idle = socket.create_connection((host, int(port)))
    for payload in (os.urandom(4096), b"\xff" + b"\x00" * 8 + b"\x7f\x03\x01NULL",
                    b"\xff" + b"\x00" * 8 + b"\x7f\x03\x00CURVE" + os.urandom(200)):
        with socket.create_connection((host, int(port)), timeout=5) as conn:
            try:
                conn.sendall(payload)
                conn.recv(1024)
            except OSError:
                pass  # the supervisor may hang up: that is its right
    assert _states(tcp) == before
    assert _ctl(tcp, "read-only", "list").code == 0
    idle.close()
    assert tcp.proc.poll() is None


def _run(args: list[str], env: dict[str, str] | None = None) -> Result:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize("how", ["option", "environment"])
def test_tcp_without_keys_is_refused_at_start(sup, how):
    # zeroinit and zeroctl on tcp:// with no --curve-dir: exit 2, with the reason.
    endpoint = f"tcp://127.0.0.1:{_free_port()}"
    options = ["-s", endpoint] if how == "option" else []
    env = {"ZEROINIT_SOCKET": endpoint} if how == "environment" else {}
    env["ZEROINIT_CURVE_DIR"] = ""
    result = _run([*ZEROINIT, "-d", str(sup.services), *options], env)
    assert result.code == 2
    assert "needs CURVE keys" in result.err and "--curve-dir" in result.err
    result = _run([*ZEROCTL, *options, "list"], env)
    assert result.code == 2
    assert "needs CURVE keys" in result.err


def test_tcp_with_a_key_directory_without_a_pair_is_refused_at_start(sup, tmp_path):
    # --curve-dir naming a directory with no key pair: zeroinit says so and exits 1.
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _run([*ZEROINIT, "-d", str(sup.services), "-s",
                   f"tcp://127.0.0.1:{_free_port()}", "--curve-dir", str(empty)])
    assert result.code == 1
    assert "no key pair" in result.err and "zeroctl keygen" in result.err
