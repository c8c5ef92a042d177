"""The root can die, restart or re-exec without one service noticing (issue 10), tried with
real roots: a `zeroinit` SIGKILLed and a second real `zeroinit` started on the same socket
and directory, `zeroctl reexec`, and watchers that do not come back.

The watchers of a killed root are re-parented away from the test process, so each test notes
every pid it saw and kills what is left of them at the end.
"""

from __future__ import annotations

import os
import signal
import sys

import pytest

from tests.supervisor import descendants


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _copies(marker: str) -> list[int]:
    """Processes whose command line carries `marker`: each service's daemon carries its own."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if marker.encode() in argv and _running(int(entry)):
            found.append(int(entry))
    return found


@pytest.fixture
def survivors():
    """Pids to kill at the end, whoever their parent is by then."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _marker(sup, name: str) -> str:
    """An argument only this test's process of `name` carries (sleep adds it to its time)."""
    return f"0.{os.getpid()}{id(sup)}{sum(map(ord, name))}"


def _daemon(sup, name: str, extra: str = "") -> None:
    sup.write(name, f"type = process\ncommand = sleep 1000 {_marker(sup, name)}\n{extra}")


def _copies_of(sup, name: str) -> list[int]:
    return _copies(_marker(sup, name))


def _kill_root(sup, survivors: list[int]) -> None:
    survivors.extend(descendants(sup.proc.pid))
    sup.proc.kill()
    sup.proc.wait()


def test_a_new_root_takes_back_every_service_without_restarting_one(sup, survivors):
    names = [f"s{i}" for i in range(6)]
    for i, name in enumerate(names):
        deps = f"depends-on = s{i - 1}\n" if i else ""
        _daemon(sup, name, deps + "restart = yes\nrestart-delay = 0.05\n")
    sup.write("boot", "waits-for = s5\n")
    _daemon(sup, "loner")
    sup.start()
    sup.wait_state("s5", "started")
    assert sup.ctl("start", "loner").code == 0
    # One automatic restart on s2, so there is a count to keep; s3's rollback restarts it too.
    first = sup.status("s2")["pid"]
    os.kill(first, signal.SIGKILL)
    sup.wait_until(lambda s: s["s2"]["pid"] not in (None, first)
                   and s["s5"]["state"] == "started", "s2 to be restarted")
    before = sup.statuses()
    _kill_root(sup, survivors)

    sup.start()  # the same socket and directory; no SERVICE named: `boot` by default
    after = sup.statuses()
    for name in names + ["loner"]:
        b, a = before[name], after[name]
        assert (a["state"], a["pid"], a["restarts"], a["explicit"]) == \
            (b["state"], b["pid"], b["restarts"], b["explicit"]), name
    assert after["s2"]["restarts"] == 1
    for name in names:
        assert len(_copies_of(sup, name)) == 1, f"{name} runs twice"
    assert "took back" in sup.stdout + sup.stderr

    # The taken-back services are fully ours: a stop stops the one process there is.
    pid = after["loner"]["pid"]
    assert sup.ctl("stop", "loner").code == 0
    sup.poll(lambda: not _running(pid), "loner's process to end")
    assert _copies_of(sup, "loner") == []
    # And a crash of a taken-back service is handled by its policy, counted on.
    os.kill(after["s5"]["pid"], signal.SIGKILL)
    sup.wait_until(lambda s: s["s5"]["restarts"] == after["s5"]["restarts"] + 1
                   and s["s5"]["state"] == "started", "s5 restarted by the new root")


def test_a_scripted_service_that_started_is_not_run_again(sup, survivors):
    runs = sup.base / "runs"
    sup.write("setup", f"type = scripted\ncommand = sh -c 'echo ran >> {runs}'\n")
    _daemon(sup, "web", "depends-on = setup\n")
    sup.start("web")
    sup.wait_state("web", "started")
    pid = sup.status("web")["pid"]
    _kill_root(sup, survivors)
    sup.start("web")
    statuses = sup.statuses()
    assert statuses["setup"]["state"] == "started"
    assert statuses["web"]["pid"] == pid
    assert runs.read_text() == "ran\n"


def test_reexec_keeps_every_service_and_the_root_pid(sup, survivors):
    _daemon(sup, "db")
    _daemon(sup, "web", "depends-on = db\n")
    sup.write("boot", "depends-on = web\n")
    sup.start()
    sup.wait_state("boot", "started")
    before = sup.statuses()
    root = sup.proc.pid
    result = sup.ctl("reexec")
    assert result.code == 0, result.err
    after = sup.statuses()  # answered by the new root
    assert sup.proc.poll() is None and sup.proc.pid == root
    assert sup.ctl("--json", "status", "web").json["pid"] == before["web"]["pid"]
    for name in ("db", "web", "boot"):
        assert (after[name]["state"], after[name]["pid"], after[name]["restarts"]) == \
            (before[name]["state"], before[name]["pid"], before[name]["restarts"])
    assert len(_copies_of(sup, "web")) == 1
    # The watchers are now the root's own children (it is their subreaper) and still obey.
    watcher = _ppid(after["web"]["pid"])
    assert _ppid(watcher) == root
    assert sup.ctl("restart", "--force", "web").code == 0
    assert sup.status("web")["pid"] != before["web"]["pid"]
    # An orderly shutdown still stops everything, and leaves no socket or state behind.
    sup.proc.send_signal(signal.SIGTERM)
    assert sup.wait_exit() == 0
    assert not os.listdir(sup.rundir)


def test_a_service_whose_watcher_did_not_come_back_is_started_once(sup, survivors):
    _daemon(sup, "web")
    sup.start("web")
    pid = sup.wait_state("web", "started")["pid"]
    watcher = _ppid(pid)
    _kill_root(sup, survivors)
    os.kill(watcher, signal.SIGKILL)  # the daemon lives on, orphaned, with no watcher
    sup.poll(lambda: not _running(watcher), "the watcher to die")
    sup.start("web")
    new = sup.wait_state("web", "started")["pid"]
    survivors.append(new)
    assert new != pid
    sup.poll(lambda: not _running(pid), "the orphaned daemon to be killed")
    assert _copies_of(sup, "web") == [new]
    assert "did not come back" in sup.stdout + sup.stderr


def test_a_watcher_of_a_service_that_is_gone_is_stopped(sup, survivors):
    _daemon(sup, "web")
    _daemon(sup, "old")
    sup.write("boot", "depends-on = web\ndepends-on = old\n")
    sup.start()
    old = sup.wait_state("boot", "started") and sup.status("old")["pid"]
    _kill_root(sup, survivors)
    os.unlink(sup.services / "old")
    sup.write("boot", "depends-on = web\n")
    sup.start()
    sup.poll(lambda: not _running(old), "the gone service's process to stop")
    assert "no longer exists" in sup.stdout + sup.stderr
    assert len(_copies_of(sup, "web")) == 1


def test_output_printed_before_the_root_died_is_kept_once(sup, survivors):
    script = sup.script("talk.py", """
        import signal, sys, time
        signal.signal(35, lambda *_: print("got 35", flush=True))
        for i in (1, 2, 3):
            print(f"line {i}", flush=True)
        while True:
            time.sleep(1)
    """)
    sup.write("talk", f"type = process\ncommand = {sys.executable} {script}\n"
                      "log-type = buffer\n")
    sup.start("talk")
    sup.wait_state("talk", "started")
    sup.poll(lambda: "line 3" in sup.ctl("logs", "talk").out, "the lines to be kept")
    _kill_root(sup, survivors)
    sup.start("talk")
    assert sup.ctl("logs", "talk").out == "line 1\nline 2\nline 3\n"
    # A signal Python has no name for reaches the taken-back process.
    assert sup.ctl("signal", "35", "talk").code == 0
    sup.poll(lambda: "got 35" in sup.ctl("logs", "talk").out, "signal 35 to arrive")


def test_a_watcher_killed_under_a_live_root_is_replaced_and_its_service_restarted(sup):
    _daemon(sup, "web", "restart = yes\nrestart-delay = 0.05\n")
    sup.start("web")
    pid = sup.wait_state("web", "started")["pid"]
    watcher = _ppid(pid)
    os.kill(watcher, signal.SIGKILL)
    # Its daemon (verified as that watcher's child) is killed, and a new watcher starts a new
    # one by the service's policy.
    after = sup.wait_until(lambda s: s["web"]["pid"] not in (None, pid)
                           and s["web"]["state"] == "started", "web to be restarted")["web"]
    assert after["restarts"] == 1
    sup.poll(lambda: not _running(pid), "the old daemon to be gone")
    assert _copies_of(sup, "web") == [after["pid"]]
    assert _ppid(after["pid"]) != watcher
