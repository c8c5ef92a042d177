"""Take-back benchmark: how long a new root needs to adopt the watchers of one that died.

    python bench/takeback.py [--sizes 100,500]

For each N: a zeroinit with N flat `sleep` services, all started; `kill -9` of the root; a
second zeroinit on the same socket and directory. Measured from the second root's exec to the
moment `zeroctl`'s answer shows every service started with its old pid (the take-back is
complete and clients are served), and, the same way, `zeroctl reexec` to the new root's
answer. Also checked, not timed: no service was started twice, restarts stayed 0.

No peer does this (s6-svscan's supervisors outlive it, but a new svscan re-spawns nothing it
need not because s6-supervise holds the lock; dinit and supervisord restart every service),
so the figures stand alone; the comparison is the boot of the same N (bench/actors.py), which
a take-back must not exceed.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.procfs import descendants  # noqa: E402

BIN = Path(sys.executable).parent
ZEROINIT = str(BIN / "zeroinit")
ZEROCTL = str(BIN / "zeroctl")


def start_root(services: Path, socket: str) -> tuple[subprocess.Popen, float]:
    read_fd, write_fd = os.pipe()
    began = time.monotonic()
    proc = subprocess.Popen([ZEROINIT, "-q", "-d", str(services), "-s", socket,
                             "--ready-fd", str(write_fd)], pass_fds=[write_fd],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    if not select.select([read_fd], [], [], 120)[0]:
        raise SystemExit("zeroinit did not become ready")
    os.close(read_fd)
    return proc, began


def statuses(socket: str) -> dict[str, dict]:
    out = subprocess.run([ZEROCTL, "-s", socket, "--timeout", "60", "--json", "list"],
                         capture_output=True, text=True, check=True).stdout
    return {s["name"]: s for s in json.loads(out)}


def wait_all_started(socket: str, n: int) -> dict[str, dict]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        now = statuses(socket)
        if sum(s["state"] == "started" for s in now.values()) >= n + 1:
            return now
    raise SystemExit("the services did not all start")


def run(n: int) -> tuple[float, float]:
    base = Path(tempfile.mkdtemp(prefix="zi-takeback-"))
    services = base / "s"
    services.mkdir()
    for i in range(n):
        (services / f"s{i}").write_text("type = process\ncommand = sleep 100000\n")
    (services / "boot").write_text("".join(f"waits-for = s{i}\n" for i in range(n)))
    socket = str(base / "control")
    left: list[int] = []
    try:
        first, _ = start_root(services, socket)
        before = wait_all_started(socket, n)
        left = descendants(first.pid)
        first.kill()
        first.wait()
        second, began = start_root(services, socket)
        after = statuses(socket)
        took = time.monotonic() - began
        check(before, after)
        began = time.monotonic()
        subprocess.run([ZEROCTL, "-s", socket, "--timeout", "60", "reexec"], check=True,
                       capture_output=True)
        again = statuses(socket)
        reexec = time.monotonic() - began
        check(before, again)
        second.send_signal(signal.SIGTERM)
        second.wait(120)
        return took, reexec
    finally:
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(base, ignore_errors=True)


def check(before: dict[str, dict], after: dict[str, dict]) -> None:
    for name, status in before.items():
        now = after[name]
        if (now["state"], now["pid"], now["restarts"]) != (status["state"], status["pid"],
                                                           status["restarts"]):
            raise SystemExit(f"{name} was not taken back as it was: {status} -> {now}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500")
    args = parser.parse_args()
    print(f"{'N':>5}  {'kill -9 + new root -> all back':>32}  {'zeroctl reexec -> all back':>28}")
    for n in (int(x) for x in args.sizes.split(",")):
        took, reexec = run(n)
        print(f"{n:>5}  {took * 1000:>29.0f} ms  {reexec * 1000:>25.0f} ms")
    print("every service kept its pid and its restart count (checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
