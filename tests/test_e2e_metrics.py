"""End to end: `zeroctl metrics` and `zeroinit --metrics HOST:PORT` on a real zeroinit, the
values checked against /proc and the engine's state, the text parsed with prometheus_client."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from actors.root.exposition import CONTENT_TYPE
from actors.root.metrics_http import MAX_CONNECTIONS, MAX_HEAD, TIMEOUT
from tests.supervisor import ZEROINIT, descendants

# The daemon (sh, exec'ing sleep) forks a child that burns some CPU, then sleeps too.
BURNER = """\
( i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done; exec sleep 1000 ) &
exec sleep 1001
"""


def samples(text: str) -> dict[tuple[str, str | None], float]:
    """(sample name, service label) -> value; parsing proves the format."""
    return {(s.name, s.labels.get("service")): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def metrics(sup) -> dict[tuple[str, str | None], float]:
    result = sup.ctl("metrics", check=True)
    return samples(result.out)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_tree(pid: int) -> tuple[float, int]:
    """CPU seconds and resident bytes of `pid` and its descendants, as the test reads them."""
    cpu, rss = 0.0, 0
    for each in [pid, *descendants(pid)]:
        with open(f"/proc/{each}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu += sum(int(fields[n - 3]) for n in (14, 15, 16, 17)) / os.sysconf("SC_CLK_TCK")
        with open(f"/proc/{each}/statm") as f:
            rss += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return cpu, rss


def child_done_burning(pid: int) -> bool:
    """The daemon's child has exec'd sleep (its CPU is final)."""
    children = descendants(pid, depth=1)
    if not children:
        return False
    with open(f"/proc/{children[0]}/comm") as f:
        return f.read().strip() == "sleep"


def test_values_follow_the_services(sup):
    # web (with a child) is up with its tree's CPU and memory; after a kill it restarts and
    # counts it; once stopped it is down and has no memory.
    script = sup.script("burner", BURNER)
    sup.write("web", f"type = process\ncommand = {script}\nrestart = yes\n")
    sup.write("boot", "type = internal\ndepends-on = web\n")
    sup.write("keep", "type = internal\n")  # keeps the supervisor up once web is stopped
    before = time.time()
    sup.start("boot", "keep")
    pid = sup.wait_state("web", "started")["pid"]
    sup.poll(lambda: child_done_burning(pid), "web's child to finish burning")
    cpu, rss = proc_tree(pid)
    own_cpu, own_rss = proc_tree(descendants(pid, depth=1)[0])
    got = metrics(sup)
    assert got[("zeroinit_service_up", "web")] == 1
    assert got[("zeroinit_service_up", "boot")] == 1
    assert got[("zeroinit_service_restarts_total", "web")] == 0
    first_start = got[("zeroinit_service_start_time_seconds", "web")]
    assert before <= first_start <= time.time()
    # The child's CPU and memory count as well as the daemon's.
    assert own_cpu > 0 and got[("zeroinit_service_cpu_seconds_total", "web")] == \
        pytest.approx(cpu, abs=0.02)
    assert got[("zeroinit_service_memory_bytes", "web")] > own_rss > 0
    assert got[("zeroinit_service_memory_bytes", "web")] == pytest.approx(rss, rel=0.2)
    assert got[("zeroinit_services", None)] == 3
    assert got[("zeroinit_watchers", None)] == 1
    assert got[("zeroinit_root_cpu_seconds_total", None)] > 0
    assert ("zeroinit_service_memory_bytes", "boot") not in got  # no process of its own

    os.kill(pid, signal.SIGKILL)
    sup.wait_until(lambda s: s["web"]["restarts"] == 1 and s["web"]["state"] == "started",
                   "web to restart")
    got = metrics(sup)
    assert got[("zeroinit_service_restarts_total", "web")] == 1
    assert got[("zeroinit_service_up", "web")] == 1
    assert got[("zeroinit_service_start_time_seconds", "web")] > first_start

    sup.ctl("stop", "--force", "web", check=True)
    got = metrics(sup)
    assert got[("zeroinit_service_up", "web")] == 0
    assert got[("zeroinit_service_up", "boot")] == 0
    assert ("zeroinit_service_memory_bytes", "web") not in got


def get(port: int, path: str = "/metrics", method: str = "GET", body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        conn.close()


@pytest.fixture
def served(sup):
    """A zeroinit with one service, serving metrics on a port of its own."""
    port = free_port()
    sup.write("boot", "type = process\ncommand = /bin/sleep 1000\n")
    sup.start(extra=("--metrics", f"127.0.0.1:{port}"))
    sup.wait_state("boot", "started")
    return port


def test_http_serves_metrics_and_nothing_else(sup, served):
    # GET /metrics is the text, typed 0.0.4; any other path 404; any other method 405.
    status, kind, body = get(served)
    assert (status, kind) == (200, CONTENT_TYPE)
    got = samples(body.decode())
    assert got[("zeroinit_service_up", "boot")] == 1
    assert samples(sup.ctl("metrics", check=True).out).keys() == got.keys()
    assert get(served, "/other")[0] == 404
    assert get(served, "/")[0] == 404
    assert get(served, method="POST", body=b"x=1")[0] == 405
    assert get(served, method="HEAD")[0] == 405
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
        sock.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")  # HTTP/1.0, answered in 1.0
        assert read_all(sock).startswith(b"HTTP/1.0 200 OK\r\n")


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_slow_clients_block_nothing_and_are_dropped(sup, served):
    # More idle connections than are served at once: zeroctl still answers meanwhile, each
    # idle one is closed by the root at its deadline, and then a scrape is answered again.
    idle = [socket.create_connection(("127.0.0.1", served), timeout=TIMEOUT * 4)
            for _ in range(MAX_CONNECTIONS + 2)]
    try:
        started = time.monotonic()
        assert sup.ctl("list", timeout=TIMEOUT, check=True).out
        assert time.monotonic() - started < TIMEOUT
        for sock in idle[:MAX_CONNECTIONS]:
            assert sock.recv(1) == b""  # dropped by the root, not by us
        status, _, body = get(served)
        assert status == 200 and b"zeroinit_service_up" in body
    finally:
        for sock in idle:
            sock.close()


def test_an_overlong_request_line_is_refused(sup, served):
    # A request line longer than MAX_HEAD is refused without waiting for its end.
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
        sock.sendall(b"GET /" + b"a" * (MAX_HEAD + 10))
        assert read_all(sock).startswith(b"HTTP/1.0 414 ")


def run_zeroinit(sup, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ZEROINIT, "-d", str(sup.services), "-s", sup.socket, *args],
                          capture_output=True, text=True, timeout=30, cwd=sup.base)


@pytest.mark.parametrize("address", ["nonsense", "127.0.0.1:99999", "127.0.0.1:", "::1:80",
                                     "no-such-host.invalid:9100"])
def test_a_bad_address_is_refused_at_start(sup, address):
    # Not HOST:PORT: one sentence naming it, exit status 2, nothing started.
    sup.write("boot", "type = process\ncommand = /bin/sleep 1000\n")
    result = run_zeroinit(sup, "--metrics", address)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("zeroinit: --metrics ") and repr(address) in line


def test_a_port_in_use_is_refused_at_start(sup):
    # Someone listens on the port already: zeroinit says so in one sentence and exits.
    sup.write("boot", "type = process\ncommand = /bin/sleep 1000\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_zeroinit(sup, "--metrics", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"cannot serve metrics on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "[  OK  ]" not in result.stdout
