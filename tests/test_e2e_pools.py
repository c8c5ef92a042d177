"""Pools with real processes (issue 11): instances started with their index, `zeroctl scale`
up (the new ones start in parallel) and down (the highest indexes stop first, their processes
end), an instance killed restarting alone, and the size kept across `zeroctl reload` and across
a root killed with SIGKILL and a new root on the same socket.

Each instance runs `sleep 1000 $1 MARKER` (sleep adds its arguments up), so its command line
shows its index and a marker only this test's processes carry.
"""

from __future__ import annotations

import os
import signal

import pytest

from broker.client import Client
from tests.supervisor import descendants
from tests.test_takeback import _running, survivors  # noqa: F401 - the fixture


def _argv(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")[:-1]


def _marker(sup) -> str:
    return f"0.{os.getpid()}{id(sup) % 100000}"


def _pool(sup, count: int, extra: str = "") -> None:
    sup.write("pool", f"type = process\ncommand = sleep 1000 $1 {_marker(sup)}\n"
                      f"instances = {count}\nrestart = yes\nrestart-delay = 0.05\n{extra}")


def _pids(sup) -> dict[str, int]:
    """The running instances of `pool`, by name, as the supervisor lists them."""
    return {name: s["pid"] for name, s in sup.statuses().items()
            if name.startswith("pool@") and s["pid"] is not None}


def _all_started(count: int):
    def check(statuses) -> bool:
        pool = statuses.get("pool", {}).get("instances") or {}
        return pool.get("wanted") == count and pool.get("started") == count
    return check


def _pool_of(sup, count: int) -> dict:
    """Wait until the pool has `count` instances, all started, and none on its way out."""
    sup.poll(lambda: (lambda i: i["wanted"] == i["started"] == count and i["leaving"] == 0)(
        sup.status("pool")["instances"]), f"the pool to have {count} started instances")
    return sup.status("pool")


def test_instances_start_with_their_index(sup):
    _pool(sup, 3)
    sup.start("pool")
    status = _pool_of(sup, 3)
    assert status["instances"] == {"total": 3, "wanted": 3, "started": 3, "leaving": 0}
    pids = _pids(sup)
    assert sorted(pids) == ["pool@0", "pool@1", "pool@2"]
    for name, pid in pids.items():
        assert _argv(pid) == ["sleep", "1000", name[5:], _marker(sup)]
    assert sup.ctl("status", "pool").out.count("3 of 3 started") == 1


def test_scale_up_starts_the_new_instances_in_parallel(sup):
    # Each instance is ready only once the file `go` exists: both new ones must be running
    # (waiting for it) before either is ready, so they were started together.
    go, up = sup.base / "go", sup.base / "up"
    up.mkdir()
    worker = sup.script("worker", f"""
        touch {up}/$1
        while [ ! -e {go} ]; do sleep 0.02; done
        echo ready >&3
        exec sleep 1000 $1 {_marker(sup)}
    """)
    sup.write("pool", f"type = process\ncommand = {worker} $1\ninstances = 2\n"
                      "ready-notification = pipefd:3\n")
    go.touch()
    sup.start("pool")
    before = _pids(_pool_of(sup, 2) and sup)
    go.unlink()
    result = sup.ctl("--json", "scale", "pool", "4")
    assert result.code == 0, result.err
    assert result.json["name"] == "pool" and result.json["instances"]["wanted"] == 4
    sup.poll(lambda: {"2", "3"} <= set(os.listdir(up)), "both new instances to run")
    statuses = sup.statuses()
    assert statuses["pool@2"]["state"] == statuses["pool@3"]["state"] == "starting"
    assert statuses["pool"]["instances"]["started"] == 2
    go.touch()
    # Each instance's own events (the pool's summary is not in an event's status object).
    sup.wait_until(lambda s: all(s.get(f"pool@{i}", {}).get("state") == "started"
                                 for i in range(4)), "the four instances to be started")
    assert _all_started(4)(sup.statuses())
    assert {n: p for n, p in _pids(sup).items() if n in before} == before


def test_scale_down_stops_the_highest_indexes_first_and_forgets_them(sup):
    _pool(sup, 4)
    sup.start("pool")
    _pool_of(sup, 4)
    pids = _pids(sup)
    with Client(sup.socket, timeout=10) as events:
        stream = events.stream("events", idle_timeout=20)
        events.call("hello")  # the subscription is in place
        result = sup.ctl("scale", "pool", "1")
        assert result.code == 0, result.err
        assert "scaled to 1" in result.out
        stopping, stopped = [], set()
        while len(stopped) < 3:
            message = next(stream)
            name, event = message["status"]["name"], message["event"]
            if event == "stopping":
                stopping.append(name)
            elif event == "stopped":
                stopped.add(name)
    assert stopping == ["pool@3", "pool@2", "pool@1"]
    for name in ("pool@1", "pool@2", "pool@3"):
        sup.poll(lambda: not _running(pids[name]), f"{name}'s process to end")
    status = _pool_of(sup, 1)
    assert status["state"] == "started" and status["depends_on"] == ["pool@0"]
    assert _pids(sup) == {"pool@0": pids["pool@0"]}
    sup.poll(lambda: "pool@3" not in sup.statuses(), "pool@3 to be forgotten")
    # Down to none, and back: the pool stays started and starts what it gets.
    assert sup.ctl("scale", "pool", "0").code == 0
    sup.poll(lambda: not _running(pids["pool@0"]), "pool@0's process to end")
    assert _pool_of(sup, 0)["state"] == "started"
    assert sup.ctl("scale", "pool", "2").code == 0
    assert set(_pids(_pool_of(sup, 2) and sup)) == {"pool@0", "pool@1"}


def test_an_instance_killed_restarts_alone(sup):
    _pool(sup, 3)
    sup.start("pool")
    _pool_of(sup, 3)
    pids = _pids(sup)
    os.kill(pids["pool@1"], signal.SIGKILL)
    sup.wait_until(lambda s: s["pool@1"]["pid"] not in (None, pids["pool@1"])
                   and s["pool@1"]["state"] == "started", "pool@1 to be restarted")
    after = _pids(_pool_of(sup, 3) and sup)
    assert after["pool@0"] == pids["pool@0"] and after["pool@2"] == pids["pool@2"]
    assert sup.status("pool@1")["restarts"] == 1


def test_the_size_is_kept_across_a_reload(sup):
    _pool(sup, 2)
    sup.start("pool")
    _pool_of(sup, 2)
    assert sup.ctl("scale", "pool", "3").code == 0
    pids = _pids(_pool_of(sup, 3) and sup)
    result = sup.ctl("--json", "reload", "pool")
    assert result.code == 0, result.err
    assert result.json["instances"]["wanted"] == 3
    assert _pids(_pool_of(sup, 3) and sup) == pids
    # And down: a reload with the file saying 2 does not bring pool@1 back.
    assert sup.ctl("scale", "pool", "1").code == 0
    _pool_of(sup, 1)
    assert sup.ctl("reload", "pool").code == 0
    assert _pool_of(sup, 1)["depends_on"] == ["pool@0"]
    assert "pool@1" not in sup.statuses()


def test_the_size_is_kept_by_a_new_root_after_a_kill(sup, survivors):  # noqa: F811
    _pool(sup, 2)
    sup.start("pool")
    _pool_of(sup, 2)
    assert sup.ctl("scale", "pool", "4").code == 0
    _pool_of(sup, 4)
    assert sup.ctl("scale", "pool", "3").code == 0
    pids = _pids(_pool_of(sup, 3) and sup)
    survivors.extend(descendants(sup.proc.pid))
    sup.proc.kill()
    sup.proc.wait()
    sup.start("pool")  # the same socket and directory
    status = _pool_of(sup, 3)
    assert status["instances"]["wanted"] == 3
    assert _pids(sup) == pids  # taken back, not restarted
    assert "pool@3" not in sup.statuses()
    # Still ours to scale.
    assert sup.ctl("scale", "pool", "1").code == 0
    sup.poll(lambda: not _running(pids["pool@2"]), "pool@2's process to end")


@pytest.mark.parametrize("args, code, words", [
    (("scale", "solo", "2"), 1, "solo is not a pool"),
    (("scale", "pool", "-1"), 1, "a pool has 0 to 10000 instances"),
    (("scale", "pool", "10001"), 1, "a pool has 0 to 10000 instances"),
    (("scale", "ghost", "2"), 1, "ghost"),
    (("scale", "pool", "two"), 2, "expected a whole number of instances"),
    (("scale", "pool"), 2, "required"),
])
def test_scale_refusals_are_one_sentence(sup, args, code, words):
    _pool(sup, 2)
    sup.write("solo", "type = process\ncommand = sleep 1000\n")
    sup.start("pool")
    result = sup.ctl(*args)
    assert result.code == code, result.err
    assert words in result.err
    if code == 1:
        assert result.err.count("\n") == 1 and result.err.startswith("zeroctl: ")
    assert _pool_of(sup, 2)["instances"]["wanted"] == 2
