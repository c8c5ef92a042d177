"""End to end, with real processes: `ready-notification = notify` and `watchdog-timeout`.

The services run `notifier.py` (written beside them): it sends sd_notify datagrams by hand
(AF_UNIX, SOCK_DGRAM, a leading '@' is an abstract address), first the steps on its command
line, then each line a test writes to its FIFO, so a test decides when a service says what.
Another service uses the `sdnotify` package, a real client library.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import textwrap
import time

NOTIFIER = r'''
import os, signal, socket, sys, time

def send(message):
    address = os.environ["NOTIFY_SOCKET"]
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(message.replace("\\n", "\n").encode(), address)

def step(word):
    if word.startswith("sleep:"):
        time.sleep(float(word[6:]))
    elif word.startswith("ping:"):  # ping:INTERVAL:COUNT
        interval, count = word[5:].split(":")
        for _ in range(int(count)):
            send("WATCHDOG=1")
            time.sleep(float(interval))
    elif word == "ignore-abrt":
        signal.signal(signal.SIGABRT, signal.SIG_IGN)
    elif word == "child-ready":  # a child says it (and lives on: a sender must be checkable)
        if os.fork() == 0:
            send("READY=1")
            time.sleep(1000)
            os._exit(0)
    else:
        send(word)

fifo = sys.argv[1]
for word in sys.argv[2:]:
    step(word)
while True:
    with open(fifo) as f:
        for line in f:
            step(line.strip())
'''


def notifier(sup, name: str, *steps: str, settings: str = "") -> str:
    """A notify service `name` running notifier.py with `steps`; returns its FIFO."""
    script = sup.base / "notifier.py"
    if not script.exists():
        script.write_text(NOTIFIER)
        sup.write("boot", "")
    fifo = str(sup.base / f"{name}.fifo")
    os.mkfifo(fifo)
    args = " ".join(f"'{s}'" for s in steps)
    sup.write(name, f"type = process\ncommand = {sys.executable} {script} {fifo} {args}\n"
                    f"ready-notification = notify\nrlimit-core = 0\n"
                    + textwrap.dedent(settings))
    return fifo


def say(fifo: str, line: str, timeout: float = 20.0) -> None:
    """Give the service one step (waits, with a deadline, for it to have its FIFO open)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as exc:
            if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
            time.sleep(0.02)  # the reader has not opened it yet: a poll with a deadline
    os.write(fd, (line + "\n").encode())
    os.close(fd)


def environ(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as f:
        items = f.read().split(b"\0")
    return dict(item.decode().split("=", 1) for item in items if b"=" in item)


def _said(sup, name: str, text: str) -> dict | None:
    """The status of `name` once its status_text is `text` (no event announces it)."""
    status = sup.status(name)
    return status if status["status_text"] == text else None


def test_started_only_after_ready_and_dependent_waits(sup):
    # db says STATUS before READY: it stays starting and web (depends-on db) waits; a forged
    # READY=1 from the test process (outside db's tree) is ignored; db's own READY=1 starts
    # both. STATUS shows in zeroctl --json status as status_text.
    fifo = notifier(sup, "db", "STATUS=warming up")
    sup.write("web", "type = process\ncommand = sleep 1000\ndepends-on = db\n")
    sup.start()
    assert sup.ctl("start", "--no-wait", "web").code == 0
    db = sup.poll(lambda: _said(sup, "db", "warming up"), "db's STATUS")
    assert db["state"] == "starting" and db["notify"] == {"stopping": False, "reloading": False}
    address = environ(db["pid"])["NOTIFY_SOCKET"]
    assert address.startswith("@zeroinit-notify-")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(b"READY=1\nSTATUS=forged", "\0" + address[1:])
    # Datagrams are read in order: once db's next word shows, the forgery has been read.
    say(fifo, "STATUS=still warming")
    db = sup.poll(lambda: _said(sup, "db", "still warming"), "db's second STATUS")
    web = sup.status("web")
    assert db["state"] == "starting" and (web["state"], web["pid"]) == ("starting", None)
    assert "not the service's process" in sup.stderr
    say(fifo, "READY=1\\nSTATUS=serving")
    sup.wait_state("web", "started")
    db = sup.ctl("--json", "status", "db", check=True).json
    assert (db["state"], db["status_text"]) == ("started", "serving")
    assert "  status:     serving\n" in sup.ctl("status", "db", check=True).out
    say(fifo, "RELOADING=1")
    sup.poll(lambda: sup.status("db")["notify"]["reloading"], "db reloading")
    say(fifo, "READY=1\\nSTOPPING=1")
    db = sup.poll(lambda: sup.status("db")["notify"]["stopping"] and sup.status("db"),
                  "db stopping")
    assert db["notify"] == {"stopping": True, "reloading": False}
    assert "  notify:     stopping\n" in sup.ctl("status", "db", check=True).out


def test_a_descendant_of_the_service_may_notify(sup):
    # READY=1 from a child of the service's process counts.
    notifier(sup, "db", "child-ready")
    sup.start()
    assert sup.ctl("start", "db").code == 0
    assert sup.status("db")["state"] == "started"


def test_extend_timeout_keeps_a_slow_start_alive(sup):
    # start-timeout 1; the service asks for 5 s more, is ready after 2 s, and starts. The same
    # service without the extension times out.
    notifier(sup, "slow", "EXTEND_TIMEOUT_USEC=5000000", "sleep:2", "READY=1",
             settings="start-timeout = 1\nrestart = no\n")
    notifier(sup, "hasty", "sleep:2", "READY=1", settings="start-timeout = 1\nrestart = no\n")
    sup.start()
    began = time.monotonic()
    assert sup.ctl("start", "slow").code == 0
    assert time.monotonic() - began >= 1.5
    result = sup.ctl("--json", "start", "hasty")
    assert result.code == 1 and result.json["stop_reason"] == "timed-out"


def test_watchdog_missed_aborts_and_restarts(sup):
    # watchdog-timeout 1: the service is ready and never pings. It gets WATCHDOG_USEC and
    # WATCHDOG_PID (its own pid); its watcher aborts it (SIGABRT) and it restarts by policy,
    # stop_reason watchdog; its dependent is rolled back and comes back with it.
    notifier(sup, "dog", "READY=1", settings="watchdog-timeout = 1\n")
    sup.write("web", "type = process\ncommand = sleep 1000\ndepends-on = dog\n")
    sup.start()
    sup.ctl("start", "web", check=True)
    first = sup.status("dog")
    env = environ(first["pid"])
    assert env["WATCHDOG_USEC"] == "1000000" and env["WATCHDOG_PID"] == str(first["pid"])
    web_pid = sup.status("web")["pid"]
    seen = sup.wait_until(lambda s: s["dog"]["stop_reason"] == "watchdog",
                          "the watchdog to fire")["dog"]
    assert seen["exit"] == {"code": None, "signal": "SIGABRT"}
    back = sup.wait_until(lambda s: s["dog"]["restarts"] >= 1 and
                          s["dog"]["state"] == "started" and s["web"]["state"] == "started",
                          "dog and web back")
    assert back["dog"]["pid"] != first["pid"] and back["web"]["pid"] != web_pid
    assert "hung (no WATCHDOG=1 within 1 s)" in sup.stderr + sup.stdout


def test_watchdog_pings_keep_it_alive_and_trigger_aborts(sup):
    # A service that pings stays up past several timeouts; WATCHDOG=trigger aborts it at once;
    # one that ignores SIGABRT is killed after stop-timeout.
    fifo = notifier(sup, "dog", "READY=1", "ignore-abrt", "ping:0.1:25", "STATUS=pinged",
                    settings="watchdog-timeout = 1\nstop-timeout = 1\nrestart = no\n")
    sup.start()
    assert sup.ctl("start", "dog").code == 0
    pid = sup.status("dog")["pid"]
    status = sup.poll(lambda: _said(sup, "dog", "pinged"), "the pings")
    assert (status["state"], status["pid"], status["restarts"]) == ("started", pid, 0)
    say(fifo, "WATCHDOG=trigger")
    gone = sup.wait_state("dog", "stopped")
    assert (gone["stop_reason"], gone["exit"]) == ("watchdog", {"code": None,
                                                                "signal": "SIGKILL"})


def test_sdnotify_library_client(sup):
    # A program using the sdnotify package becomes started through it.
    program = sup.base / "lib_client.py"
    program.write_text("import sdnotify, time\n"
                       "n = sdnotify.SystemdNotifier(debug=True)\n"
                       "n.notify('STATUS=from sdnotify')\nn.notify('READY=1')\n"
                       "time.sleep(1000)\n")
    sup.write("boot", "")
    sup.write("lib", f"type = process\ncommand = {sys.executable} {program}\n"
                     "ready-notification = notify\n")
    sup.start()
    status = sup.ctl("--json", "start", "lib", check=True).json
    assert (status["state"], status["status_text"]) == ("started", "from sdnotify")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _running(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def test_watchdog_fires_while_the_root_is_away(sup):
    # The root is SIGKILLed while the service still pings; the pings stop; its watcher aborts
    # it by itself. A new root takes the watcher back and starts the service again.
    notifier(sup, "dog", "READY=1", "ping:0.1:15", settings="watchdog-timeout = 1\n")
    sup.start("dog")
    pid = sup.wait_state("dog", "started")["pid"]
    watcher = int(_stat(pid)[1])
    sup.proc.kill()
    sup.proc.wait()
    assert _running(pid)
    sup.poll(lambda: not _running(pid), "the watcher to abort the hung service", timeout=20)
    assert _running(watcher)
    sup.start("dog")
    back = sup.wait_until(lambda s: s.get("dog", {}).get("state") == "started" and
                          s["dog"]["pid"] not in (None, pid), "dog started again")["dog"]
    assert back["pid"] != pid
