"""zeroinit as PID 1 of a fresh PID namespace (`unshare --pid --fork --mount-proc`), as in a
container: exit codes, start and stop order around `main`, failed dependencies, orphan reaping,
stragglers, signals, console lines, and a cinit tree's init and shutdown.

These need root (or user namespaces) to create the namespace; elsewhere they are skipped with
the reason. CI runs as root, so they run there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import textwrap
import threading
import time
from pathlib import Path

import pytest

from actors.root.exit_phases import SWEEP_TIMEOUT
from tests.supervisor import ZEROCTL, ZEROINIT, descendants

DEADLINE = 30.0


def _can_unshare() -> str | None:
    if shutil.which("unshare") is None:
        return "the unshare command is not installed"
    try:
        probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"],
                               capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare does not work here: {exc}"
    if probe.returncode != 0:
        return ("cannot create a PID namespace here (needs root or user namespaces): "
                + probe.stderr.decode(errors="replace").strip())
    return None


REASON = _can_unshare()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


class Container:
    """One zeroinit as PID 1 in its own PID and mount namespace."""

    def __init__(self, base: Path):
        self.base = base
        self.services = base / "services"
        self.services.mkdir()
        self.proc: subprocess.Popen | None = None

    def write(self, name: str, text: str) -> None:
        (self.services / name).write_text(textwrap.dedent(text).lstrip())

    def script(self, name: str, body: str) -> Path:
        path = self.base / name
        path.write_text("#!/bin/sh\n" + textwrap.dedent(body).lstrip())
        path.chmod(0o755)
        return path

    def start(self, *args: str) -> subprocess.Popen:
        self.proc = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount-proc", *ZEROINIT,
             "-d", str(self.services), "-s", str(self.base / "control"), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return self.proc

    def run(self, *args: str) -> tuple[int, str, str]:
        self.start(*args)
        return self.finish()

    def finish_run(self, *args: str) -> tuple[int, str, str]:
        self.start(*args)
        return self.finish()

    def finish(self) -> tuple[int, str, str]:
        """Wait for zeroinit to exit by itself (a test failure if it does not, in time)."""
        try:
            out, err = self.proc.communicate(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(f"zeroinit did not exit within {DEADLINE:g} s")
        return self.proc.returncode, out, err

    def pid1(self) -> int:
        """The host pid of the namespace's PID 1 (zeroinit)."""
        # The fork of `unshare --fork` is a moment away.
        return wait_for(lambda: descendants(self.proc.pid, depth=1),
                        "zeroinit to start in the namespace")[0]

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            for pid in descendants(self.proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def box(tmp_path):
    container = Container(tmp_path)
    yield container
    container.close()


def wait_for(condition, what: str):
    """For what no event announces (files written inside the namespace, a fork): re-check
    with a deadline; the condition's value."""
    deadline = time.monotonic() + DEADLINE
    pause = threading.Event()
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        pause.wait(0.02)
    return value


def _zombies(root: int) -> list[int]:
    found = []
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    found.append(pid)
        except OSError:
            pass
    return found


@pytest.mark.parametrize("command, status", [
    (["true"], 0),
    (["sh", "-c", "exit 7"], 7),
    (["sh", "-c", "kill -9 $$"], 128 + 9),
])
def test_exit_status_of_main_is_propagated(box, command, status):
    # zeroinit exits with main's code, or 128+N when signal N killed it.
    code, out, err = box.run("--", *command)
    assert code == status, err
    assert "[  OK  ] main" in out


def test_services_start_before_main_and_stop_after_it_in_order(box):
    # boot's services are up before main runs; when main ends they stop after it, dependents
    # first (app before db).
    log = box.base / "log"
    for name, dep in (("db", None), ("app", "db")):
        script = box.script(f"{name}.sh", f"""
            echo start {name} >> {log}
            trap 'echo stop {name} >> {log}; kill $!; exit 0' TERM
            sleep 1000 & wait
        """)
        box.write(name, f"type = process\ncommand = {script}\n"
                        + (f"depends-on = {dep}\n" if dep else ""))
    box.write("boot", "depends-on = app\n")
    code, out, err = box.run("--", "sh", "-c", f"echo main >> {log}")
    assert code == 0, err
    assert log.read_text().split("\n")[:-1] == [
        "start db", "start app", "main", "stop app", "stop db"]
    assert out.index("[STOPPD] app") < out.index("[STOPPD] db")


def test_failed_dependency_means_main_never_runs_and_exit_1(box):
    # A dependency that fails to start: main never runs, zeroinit says which and why, exit 1.
    marker = box.base / "main-ran"
    box.write("db", "type = scripted\ncommand = sh -c 'exit 4'\n")
    code, out, err = box.run("db", "--", "touch", str(marker))
    assert code == 1
    assert not marker.exists()
    assert "[FAILED] db (command exited with code 4)" in out
    assert "main did not run: db: command exited with code 4" in err


def test_double_forked_orphans_leave_no_zombie(box):
    # 50 double-forked children exit at once; orphaned to PID 1, they are reaped promptly.
    gate, done = box.base / "gate", box.base / "done"
    main = box.script("orphans.sh", f"""
        i=0
        while [ $i -lt 50 ]; do ( sh -c 'exit 0' & ) ; i=$((i + 1)); done
        touch {done}
        while [ ! -e {gate} ]; do sleep 0.05; done
    """)
    box.start("--", str(main))
    wait_for(done.exists, "the orphans to be made")
    root = box.pid1()
    wait_for(lambda: not _zombies(root), "every orphan to be reaped")
    gate.write_text("")
    assert box.proc.wait(DEADLINE) == 0


def test_straggler_in_its_own_session_does_not_keep_zeroinit(box):
    # main leaves a process behind in a new session that shrugs off SIGTERM; zeroinit sends it
    # SIGTERM, then SIGKILL once the sweep timeout passes, and exits with main's status.
    pidfile, termed = box.base / "straggler", box.base / "termed"
    main = box.script("leave.sh", f"""
        setsid sh -c 'echo $$ > {pidfile}; trap "echo TERM >> {termed}" TERM
                      while :; do sleep 0.05; done' &
        while [ ! -s {pidfile} ]; do sleep 0.02; done
    """)
    start = time.monotonic()
    code, out, err = box.run("--", str(main))
    elapsed = time.monotonic() - start
    assert code == 0, err
    # It was asked to go, and stayed; zeroinit waited out the sweep timeout before SIGKILL
    # (had it exited at once, the namespace's end would have killed the straggler instead).
    assert termed.read_text() == "TERM\n"
    assert elapsed >= SWEEP_TIMEOUT, f"exited after {elapsed:.1f} s, before the sweep timeout"


def test_sigterm_to_pid1_stops_main_then_its_dependencies(box):
    # SIGTERM to PID 1: main stops first, then db; zeroinit exits with main's code (0 here).
    log = box.base / "log"
    db = box.script("db.sh", f"""
        trap 'echo stop db >> {log}; kill $!; exit 0' TERM
        sleep 1000 & wait
    """)
    main = box.script("main.sh", f"""
        trap 'echo stop main >> {log}; kill $!; exit 0' TERM
        echo up >> {log}
        sleep 1000 & wait
    """)
    box.write("db", f"type = process\ncommand = {db}\n")
    box.start("db", "--", str(main))
    wait_for(lambda: log.exists() and "up" in log.read_text(), "main to run")
    os.kill(box.pid1(), signal.SIGTERM)
    code, out, err = box.finish()
    assert code == 0, err
    assert log.read_text().split("\n")[:-1] == ["up", "stop main", "stop db"]


def test_signals_are_forwarded_to_main(box):
    # SIGHUP, SIGUSR1, SIGUSR2 and SIGWINCH to PID 1 reach main.
    log = box.base / "log"
    main = box.script("main.sh", f"""
        for s in HUP USR1 USR2 WINCH; do trap "echo $s >> {log}" $s; done
        echo ready >> {log}
        while [ $(wc -l < {log}) -lt 5 ]; do sleep 0.05; done
    """)
    box.start("--", str(main))
    wait_for(lambda: log.exists(), "main to run")
    root = box.pid1()
    for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH):
        os.kill(root, sig)
        wait_for(lambda s=sig: s.name[3:] in log.read_text(), f"{sig.name} to reach main")
    assert box.proc.wait(DEADLINE) == 0
    assert log.read_text().split() == ["ready", "HUP", "USR1", "USR2", "WINCH"]


def test_console_lines_and_quiet(box):
    # State changes are printed dinit-style; --quiet keeps only failures.
    box.write("db", "type = process\ncommand = sleep 1000\n")
    box.write("bad", "type = scripted\ncommand = false\n")
    box.write("boot", "depends-on = db\nwaits-for = bad\n")
    code, out, err = box.run("--", "true")
    assert code == 0
    assert "[  OK  ] db" in out and "[STOPPD] db" in out
    assert "[FAILED] bad (command exited with code 1)" in out
    code, out, err = box.run("-q", "--", "true")
    assert code == 0
    assert out.strip() == "[FAILED] bad (command exited with code 1)"
    assert err == ""


def test_cinit_tree_runs_init_then_main_then_shutdown(box):
    # With no boot, init is the default; a shutdown service runs once after everything else.
    log = box.base / "log"
    for name in ("init", "shutdown"):
        (box.services / name).mkdir()
        run = box.services / name / "run"
        run.write_text(f"#!/bin/sh\necho {name} >> {log}\n")
        run.chmod(0o755)
        (box.services / name / "wait").write_text("")
    code, out, err = box.run("--", "sh", "-c", f"echo main >> {log}")
    assert code == 0, err
    assert log.read_text().split() == ["init", "main", "shutdown"]


def test_reexec_as_pid1_keeps_main_and_every_service(box):
    # `zeroctl reexec` as PID 1: the same PID 1, main and its dependency keep their pids,
    # and the container still ends in order afterwards.
    box.write("db", "type = process\ncommand = sleep 1000\n")
    box.start("db", "--", "sleep", "1000")
    socket = str(box.base / "control")

    def ctl(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*ZEROCTL, "-s", socket, *args], capture_output=True, text=True,
                              timeout=DEADLINE)

    def pids() -> dict[str, int] | None:
        result = ctl("--json", "list")
        if result.returncode != 0:
            return None
        statuses = {s["name"]: s for s in json.loads(result.stdout)}
        if any(statuses.get(n, {}).get("state") != "started" for n in ("db", "main")):
            return None
        return {name: s["pid"] for name, s in statuses.items()}

    before = wait_for(pids, "main and db to be started")
    root = box.pid1()
    result = ctl("reexec")
    assert result.returncode == 0, result.stderr
    assert pids() == before
    assert box.pid1() == root and box.proc.poll() is None
    assert ctl("shutdown").returncode == 0
    assert box.finish()[0] == 128 + signal.SIGTERM


@pytest.mark.parametrize("make, status", [
    (lambda base: str(base / "no-such-program"), 127),
    (lambda base: str(base), 126),  # a directory: found, not executable
])
def test_a_main_that_cannot_be_executed_exits_127_or_126(box, make, status):
    # As a shell says it, and as Docker users expect: 127 not found, 126 not executable.
    code, out, err = box.finish_run("--", make(box.base))
    assert code == status, err
    assert "[FAILED] main" in out
