"""End to end, a newcomer's first hour (issue 14): the README's demo tour, the supervisor
saying why it exits, `stop --force` warning when it takes everything down, sockets removed
on a clean exit, JSON on stdout for errors, `events` saying why, `logs -n`."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time
from pathlib import Path

from tests.supervisor import ZEROCTL

DEMO = Path(__file__).resolve().parent.parent / "config" / "demo"
LONG = "type = process\ncommand = sleep 1000\n"


def test_readme_tour_survives_stop_force_db(sup, tmp_path):
    # The demo's boot only waits for its services: stopping db (and web with it) leaves the
    # supervisor running, and the rest of the tour works.
    sup.services = DEMO
    sup.start(env={"DEMO_DIR": str(tmp_path / "demo")})
    sup.wait_state("boot", "started", timeout=40)
    refused = sup.ctl("stop", "db")
    assert refused.code == 1 and "web" in refused.err
    forced = sup.ctl("stop", "--force", "db")
    assert forced.code == 0, forced.err
    assert "warning" not in forced.err
    statuses = sup.statuses()
    assert statuses["db"]["state"] == statuses["web"]["state"] == "stopped"
    assert statuses["boot"]["state"] == "started"
    assert sup.ctl("start", "web", check=True).out.strip() == "Service 'web' started."
    assert sup.ctl("start", "worker@2", check=True).out.strip() == \
        "Service 'worker@2' started."
    assert sup.ctl("check", "-d", str(DEMO), check=True).out.strip().endswith("no errors.")


def test_stopping_everything_is_announced_and_the_socket_removed(sup):
    # boot hard-depends on web, web on db: stop --force db takes everything down; zeroctl
    # warns, the supervisor says why it exits, exits 0 and leaves no socket behind.
    sup.write("boot", "depends-on = web\n")
    sup.write("web", LONG + "depends-on = db\n")
    sup.write("db", LONG)
    sup.start()
    sup.wait_state("boot", "started")
    result = sup.ctl("stop", "--force", "db")
    assert result.code == 0, result.err
    assert result.err.startswith("zeroctl: warning: this stopped every active service")
    assert "boot" in result.err and result.err.count("\n") == 1
    assert sup.wait_exit() == 0
    assert "zeroinit: nothing is active any more: exiting" in sup.stderr
    assert not os.path.exists(sup.socket) and not os.path.exists(sup.socket + ".actors")


def test_shutdown_does_not_claim_idleness(sup):
    # A shutdown says it is shutting down, not that nothing is active any more.
    sup.write("boot", LONG)
    sup.start()
    sup.wait_state("boot", "started")
    sup.ctl("shutdown", check=True)
    assert sup.wait_exit() == 0
    assert "nothing is active any more" not in sup.stderr
    assert not os.path.exists(sup.socket)


def test_json_error_object_on_stdout(sup):
    # With --json an error still leaves JSON on stdout: {"error": code, "message": ...}.
    sup.write("boot", "")
    sup.start()
    result = sup.ctl("--json", "status", "nope")
    assert result.code == 1
    assert result.json["error"] == "unknown-service" and "nope" in result.json["message"]
    assert result.err.startswith("zeroctl: ") and result.err.count("\n") == 1


def test_logs_last_lines(sup):
    # logs -n N prints only the last N lines of the captured output.
    sup.write("boot", "type = process\nlog-type = buffer\n"
                      "command = sh -c \"printf 'one\\\\ntwo\\\\nthree\\\\n'; exec sleep 1000\"\n")
    sup.start()
    sup.wait_state("boot", "started")
    sup.poll(lambda: "three" in sup.ctl("logs", "boot").out, "boot's output")
    assert sup.ctl("logs", "-n", "2", "boot", check=True).out == "two\nthree\n"
    assert sup.ctl("--json", "logs", "-n", "1", "boot", check=True).json["data"] == "three\n"


def test_events_say_why_a_service_stopped(sup):
    # Human `events`: a crash shows its exit; its hard dependent shows which dependency.
    crasher = sup.script("crash.sh", "read line < \"$0.go\" 2>/dev/null; exit 1\n")
    sup.write("boot", "depends-on = client\n")
    sup.write("client", LONG + "depends-on = crash\n")
    sup.write("crash", f"type = process\ncommand = {crasher}\nrestart = no\n")
    sup.write("marker", "")
    gate = Path(f"{crasher}.go")
    os.mkfifo(gate)
    sup.start()
    sup.wait_state("client", "started")
    proc = subprocess.Popen([*ZEROCTL, "-s", sup.socket, "events"], stdout=subprocess.PIPE,
                            text=True)
    try:
        # Once the stream shows one of marker's starts, it is registered: the crash that
        # follows can't be missed.
        reader = _Lines(proc)
        deadline = time.monotonic() + 20
        while not any("marker started" in line for line in reader.lines):
            assert time.monotonic() < deadline, reader.lines
            sup.ctl("stop", "marker")
            sup.ctl("start", "marker", check=True)
            reader.read_for(0.5)
        with open(gate, "w") as f:
            f.write("go\n")
        lines = reader.until("crash stopped", 20)
    finally:
        proc.terminate()
        proc.wait(10)
    text = "\n".join(lines)
    assert "crash stopping: process exited with code 1" in text or \
        "crash stopped: process exited with code 1" in text, text
    assert "client stopping: dependency crash is stopping" in text, text


class _Lines:
    """The lines of a child's stdout, read straight from the pipe (no buffering that select
    can't see), each read bounded by a deadline."""

    def __init__(self, proc: subprocess.Popen):
        self.fd = proc.stdout.fileno()
        self.lines: list[str] = []
        self._partial = b""

    def read_for(self, seconds: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], seconds)
        if not ready:
            return False
        data = os.read(self.fd, 65536)
        if not data:
            return False
        *complete, self._partial = (self._partial + data).split(b"\n")
        self.lines += [line.decode() for line in complete]
        return True

    def until(self, marker: str, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while not any(marker in line for line in self.lines):
            left = deadline - time.monotonic()
            if left <= 0 or not self.read_for(left):  # out of time, or the stream ended
                raise AssertionError(f"no {marker!r} in events within {timeout}s: "
                                     f"{self.lines}")
        return self.lines


def test_ps_shows_what_each_process_is(sup):
    # ps: the zygote and each watcher have a title naming their job and their service.
    sup.write("boot", LONG)
    sup.start()
    pid = sup.wait_state("boot", "started")["pid"]
    watcher = _parent(pid)
    with open(f"/proc/{watcher}/cmdline", "rb") as f:
        assert f.read().rstrip(b"\0") == b"zeroinit: watch boot"
    with open(f"/proc/{watcher}/comm") as f:
        assert f.read().strip() == "zeroinit: watch"
    titles = set()
    for child in (p for p in _children(sup.proc.pid)):
        with open(f"/proc/{child}/cmdline", "rb") as f:
            titles.add(f.read().rstrip(b"\0"))
    assert b"zeroinit: zygote" in titles


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _children(pid: int) -> list[int]:
    from tests.supervisor import descendants
    return descendants(pid, depth=1)


def test_long_start_shows_one_updating_line_on_a_terminal_only(sup):
    # On a terminal, start shows what is still starting; piped, stderr stays empty.
    import pty
    sup.write("boot", "")
    ready = sup.script("ready.sh", "read go < \"$0.go\"; echo ready >&3; exec sleep 1000\n")
    sup.write("slow", f"type = process\ncommand = {ready}\nready-notification = pipefd:3\n")
    gate = Path(f"{ready}.go")
    os.mkfifo(gate)
    sup.start()
    master, slave = pty.openpty()
    proc = subprocess.Popen([*ZEROCTL, "-s", sup.socket, "start", "slow"],
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 20
    while b"still starting slow" not in seen:  # the line is drawn while slow waits
        assert time.monotonic() < deadline, seen
        if select.select([master], [], [], 1)[0]:
            seen += os.read(master, 4096)
    with open(gate, "w") as f:
        f.write("go\n")
    assert proc.wait(20) == 0
    assert proc.stdout.read() == b"Service 'slow' started.\n"
    os.close(master)
    assert seen.startswith(b"\r\x1b[K") and b"\n" not in seen  # one line, rewritten in place
    sup.ctl("stop", "slow", check=True)
    piped = subprocess.Popen([*ZEROCTL, "-s", sup.socket, "start", "slow"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sup.wait_state("slow", "starting")
    with open(gate, "w") as f:
        f.write("go\n")
    out, err = piped.communicate(timeout=20)
    assert piped.returncode == 0 and out == b"Service 'slow' started.\n" and err == b""


def test_bash_completion_offers_commands_and_running_services(sup):
    # The shipped bash script completes commands, and service names from the supervisor.
    sup.write("boot", "depends-on = web\n")
    sup.write("web", LONG)
    sup.start()
    sup.wait_state("boot", "started")
    script = subprocess.run([*ZEROCTL, "completion", "bash"], capture_output=True, text=True,
                            timeout=30, check=True).stdout

    def complete(*words: str) -> list[str]:
        line = " ".join(words)
        program = (f"{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}\n"
                   f"_zeroctl; printf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
        result = subprocess.run(["bash", "-c", program], capture_output=True, text=True,
                                timeout=30)
        return result.stdout.split()

    assert {"start", "stop", "status"} <= set(complete(ZEROCTL[0], "st"))
    assert complete(ZEROCTL[0], "-s", sup.socket, "stop", "w") == ["web"]
    assert set(complete(ZEROCTL[0], "-s", sup.socket, "status", "''")) == {"boot", "web"}


def test_status_says_since_when(sup):
    # The status object carries `since` (Unix seconds of the last state change) and the human
    # status shows it with how long ago.
    sup.write("web", "type = process\ncommand = sleep 1000\n")
    before = time.time()
    sup.start("web")
    sup.wait_state("web", "started")
    status = sup.ctl("--json", "status", "web").json
    assert before - 1 <= status["since"] <= time.time()
    human = sup.ctl("status", "web").out
    assert any(line.startswith("  since:      ") and line.endswith("s ago)")
               for line in human.splitlines()), human


def test_logs_follow_marks_each_restart_and_stamps_new_lines(sup):
    # `logs -f -t`: the kept output as it is, then each new line with its arrival time, and a
    # line marking each start of the process.
    script = sup.script("talk.sh", """
        echo "hello from $$"
        exec sleep 1000
    """)
    sup.write("talk", f"type = process\ncommand = {script}\nlog-type = buffer\n"
                      "restart = yes\nrestart-delay = 0.05\n")
    sup.start("talk")
    pid = sup.wait_state("talk", "started")["pid"]
    sup.poll(lambda: "hello" in sup.ctl("logs", "talk").out, "the first line")
    follower = subprocess.Popen([*ZEROCTL, "-s", sup.socket, "logs", "-f", "-t", "talk"],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert follower.stdout.readline() == f"hello from {pid}\n"  # kept: not stamped
        # The follow is registered once the kept output came back; now restart the process.
        os.kill(pid, signal.SIGKILL)
        stamp = r"\d\d:\d\d:\d\d\.\d\d\d "
        marker = follower.stdout.readline()
        assert re.fullmatch(stamp + r"--- talk started \(pid (\d+)\) ---\n", marker), marker
        new = int(re.search(r"pid (\d+)", marker).group(1))
        assert re.fullmatch(stamp + f"hello from {new}\n", follower.stdout.readline())
    finally:
        follower.send_signal(signal.SIGINT)
        assert follower.wait(10) == 0
