"""End to end, with real processes: captured output, the process shape (one root, one watcher
per running service, each service a child of its watcher), stop order, supervisor exit, and
the ipc socket's permissions."""

from __future__ import annotations

import os
import signal
import stat
import subprocess

from tests.supervisor import ZEROCTL, ZEROINIT, descendants

LONG = "command = sleep 1000\n"


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def test_logs_buffer_clear_and_follow(sup):
    # log-type = buffer keeps the output; --clear empties it; -f prints new output as it comes.
    gate = sup.base / "more"
    script = sup.script("talker.sh", f"""
        echo first line
        echo to stderr >&2
        while [ ! -e {gate} ]; do sleep 0.05; done
        echo second line
        exec sleep 1000
    """)
    sup.write("boot", "")
    sup.write("talker", f"type = process\ncommand = {script}\nlog-type = buffer\n")
    sup.start("boot", "talker")
    sup.poll(lambda: "to stderr" in sup.ctl("logs", "talker").out, "the first output")
    assert sup.ctl("logs", "talker", check=True).out == "first line\nto stderr\n"
    follower = subprocess.Popen([*ZEROCTL, "-s", sup.socket, "logs", "-f", "talker"],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert follower.stdout.readline() == "first line\n"  # the buffer first
        assert follower.stdout.readline() == "to stderr\n"
        gate.write_text("")
        assert follower.stdout.readline() == "second line\n"  # then live output
    finally:
        follower.send_signal(signal.SIGINT)
        assert follower.wait(10) == 0
    assert sup.ctl("logs", "--clear", "talker", check=True).out.endswith("second line\n")
    assert sup.ctl("logs", "talker", check=True).out == ""


def test_logs_survive_the_service_stopping(sup):
    # A stopped service's last output is still shown (its watcher hands it back on retiring).
    sup.write("boot", "")
    sup.write("once", "type = scripted\ncommand = sh -c 'echo did the thing'\n"
                      "log-type = buffer\n")
    sup.start("boot")
    sup.ctl("start", "once", check=True)
    sup.ctl("stop", "once", check=True)
    sup.poll(lambda: sup.ctl("logs", "once").out == "did the thing\n", "the retired output")


def test_logs_of_a_logfile_service_and_file_mode(sup):
    # log-type = file appends to the logfile (mode 600); zeroctl logs shows its tail.
    logfile = sup.base / "svc.log"
    sup.write("boot", "")
    sup.write("svc", f"type = process\ncommand = sh -c 'echo hello file; exec sleep 1000'\n"
                     f"logfile = {logfile}\n")
    sup.start("boot", "svc")
    sup.poll(lambda: logfile.exists() and logfile.read_text() == "hello file\n", "the logfile")
    assert stat.S_IMODE(os.stat(logfile).st_mode) == 0o600
    assert sup.ctl("logs", "svc", check=True).out == "hello file\n"


def test_logs_refused_when_output_is_not_kept(sup):
    # log-type none: logs says how to keep output, exit 1.
    sup.write("boot", "")
    sup.write("quiet", "type = process\n" + LONG)
    sup.start("boot", "quiet")
    result = sup.ctl("logs", "quiet")
    assert result.code == 1 and "log-type = buffer" in result.err


def test_process_shape(sup):
    # One root; one watcher per running service; each service process a child of its watcher;
    # an internal service has none.
    sup.write("boot", "depends-on = a\ndepends-on = b\ndepends-on = c\n")
    for name in "abc":
        sup.write(name, "type = process\n" + LONG)
    sup.start()
    sup.wait_state("boot", "started")
    root = sup.proc.pid
    pids = {n: sup.status(n)["pid"] for n in "abc"}
    watchers = {n: _ppid(pid) for n, pid in pids.items()}
    assert len(set(watchers.values())) == 3  # one watcher each
    tree = descendants(root)
    for name, watcher in watchers.items():
        assert watcher in tree and watcher != root
        assert descendants(watcher) == [pids[name]]  # the service is its only child
    # Besides the watchers and services: only the zygote.
    others = set(tree) - set(watchers.values()) - set(pids.values())
    assert len(others) == 1 and _ppid(others.pop()) == root


def test_stop_order_is_reverse_dependency_order(sup):
    # On SIGTERM to zeroinit: app stops before api, api before db (each records its stop).
    order = sup.base / "order"
    for name, dep in (("db", None), ("api", "db"), ("app", "api")):
        script = sup.script(f"{name}.sh", f"""
            trap 'echo {name} >> {order}; kill $!; exit 0' TERM
            echo ready >&3
            sleep 1000 & wait
        """)
        # Started once the trap is set (a SIGTERM before it would kill the shell unheard).
        sup.write(name, f"type = process\ncommand = {script}\nready-notification = pipefd:3\n"
                        + (f"depends-on = {dep}\n" if dep else ""))
    sup.start("app")
    sup.wait_state("app", "started")
    sup.proc.send_signal(signal.SIGTERM)
    assert sup.wait_exit() == 0
    assert order.read_text().split() == ["app", "api", "db"]
    assert "[STOPPD] app" in sup.stdout and "[STOPPD] db" in sup.stdout


def test_supervisor_exits_when_nothing_is_active(sup):
    # A one-shot: zeroinit starts it, it finishes, nothing is active any more: exit 0.
    sup.write("boot", "type = process\ncommand = true\nrestart = no\n")
    sup.start()
    assert sup.wait_exit() == 0
    assert "[  OK  ] boot" in sup.stdout


def test_no_service_can_start_is_exit_1(sup):
    # zeroinit named a service that can't be loaded: it says why and exits 1.
    sup.start("missing", wait_ready=False)
    assert sup.wait_exit() == 1
    assert "missing" in sup.stderr


def test_ipc_socket_is_private(sup):
    # The control socket's directory is 0700 and the socket 0600.
    sup.write("boot", "")
    sup.start()
    assert stat.S_IMODE(os.stat(sup.rundir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(sup.socket).st_mode) == 0o600


def test_second_supervisor_on_the_same_socket_is_refused(sup):
    # A second zeroinit does not steal a live supervisor's socket.
    sup.write("boot", "")
    sup.start()
    other = subprocess.run([*ZEROINIT, "-d", str(sup.services), "-s", sup.socket],
                           capture_output=True, text=True, timeout=30)
    assert other.returncode == 1
    assert "another supervisor is already listening" in other.stderr
    assert sup.ctl("list").code == 0


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_watcher_reaps_orphans_and_stays_idle(sup):
    # A service leaves an orphan (double fork); its watcher, a subreaper, reaps it and then
    # sleeps: no zombie, and no CPU spent while nothing happens (it once spun on a wake-up
    # byte it never read).
    done = sup.base / "done"
    script = sup.script("orphan.sh", f"""
        ( sh -c 'exit 0' & )
        touch {done}
        exec sleep 1000
    """)
    sup.write("boot", "")
    sup.write("svc", f"type = process\ncommand = {script}\n")
    sup.start("boot", "svc")
    daemon = sup.wait_state("svc", "started")["pid"]
    sup.poll(done.exists, "the orphan to be made")
    watcher = _ppid(daemon)
    zombies = lambda: [p for p in descendants(watcher) if _state(p) == "Z"]  # noqa: E731
    sup.poll(lambda: not zombies(), "the orphan to be reaped")
    before = _cpu_ticks(watcher)
    for _ in range(10):  # let some time pass (a few hundred ms) doing something unrelated
        sup.ctl("list", check=True)
    assert _cpu_ticks(watcher) - before <= 2  # it would burn ~100 ticks a second spinning


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
