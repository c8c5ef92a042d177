"""End to end, with real processes: a stop completes even when the root dies in the middle of
it. The watcher was given the stop-timeout with the stop signal, and sends SIGKILL by itself
when it passes (as s6-supervise does), with no root left to ask it to.
"""

from __future__ import annotations

import os
import time

from tests.supervisor import descendants, kill_all

STOP_TIMEOUT = 1.0


def _parent_and_state(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) from /proc, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), fields[0]


def _dead(pid: int) -> bool:
    found = _parent_and_state(pid)
    return found is None or found[1] in "ZX"


def test_watcher_kills_a_stubborn_service_after_stop_timeout_with_the_root_gone(sup):
    # The service shrugs off SIGTERM; `stop --no-wait`, then SIGKILL to the root: the watcher
    # still kills the service once stop-timeout passes, and itself lives on.
    termed = sup.base / "termed"
    script = sup.script("stubborn.sh", f"""
        trap 'echo TERM >> {termed}' TERM
        while :; do sleep 0.05; done
    """)
    sup.write("stubborn", f"type = process\ncommand = {script}\n"
                          f"stop-timeout = {STOP_TIMEOUT:g}\nrestart = false\n")
    sup.start("stubborn")
    pid = sup.wait_state("stubborn", "started")["pid"]
    watcher = _parent_and_state(pid)[0]
    tree = descendants(sup.proc.pid)
    assert watcher in tree and pid in tree
    try:
        asked = time.monotonic()
        sup.ctl("stop", "--no-wait", "stubborn", check=True)
        # The TERM reached the service: the watcher has the order, and its deadline with it.
        sup.poll(termed.exists, "the stop signal to reach the service")
        sup.proc.kill()
        sup.proc.wait()
        sup.poll(lambda: _dead(pid), "the watcher to kill the service after stop-timeout")
        assert time.monotonic() - asked >= STOP_TIMEOUT  # killed by the deadline, not at once
        # The watcher did it by itself: it is still there (a watcher that dies takes its
        # processes with it, which would pass this test for the wrong reason).
        assert not _dead(watcher), "the watcher died with the root"
        assert termed.read_text() == "TERM\n"
    finally:
        kill_all(tree)
