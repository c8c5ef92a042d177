"""End to end, with real processes: every zeroctl command against a running zeroinit, its
human and JSON output, and its exit status."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time

from tests.supervisor import ZEROCTL

LONG = "command = sleep 1000\n"


def basic(sup) -> None:
    sup.write("boot", "depends-on = web\nwaits-for = log\n")
    sup.write("web", "type = process\n" + LONG + "depends-on = db\n")
    sup.write("db", "type = process\n" + LONG)
    sup.write("log", "type = process\n" + LONG)


def test_list_shows_every_loaded_service_in_load_order(sup):
    # A dependent appears before the dependencies it pulled in (dinit's load order).
    basic(sup)
    sup.start()
    sup.wait_state("boot", "started")
    result = sup.ctl("--json", "list", check=True)
    names = [s["name"] for s in result.json]
    # Depth first: boot, then web and what web pulled in (db), then boot's next link (log).
    assert names == ["boot", "web", "db", "log"]
    assert all(s["state"] == "started" for s in result.json)
    human = sup.ctl("list", check=True).out
    assert human.splitlines()[0].split()[:2] == ["STATE", "NAME"]
    assert "web" in human and "started" in human


def test_status_object_has_the_contract_fields(sup):
    # The status object carries every field the contract names, with the right types.
    basic(sup)
    sup.start()
    sup.wait_state("boot", "started")
    web = sup.ctl("--json", "status", "web", check=True).json
    assert {"name", "type", "state", "target", "explicit", "pid", "failed", "stop_reason",
            "exit", "restarts", "depends_on", "waits_for"} <= set(web)
    assert web["name"] == "web" and web["type"] == "process"
    assert web["state"] == "started" and web["target"] == "started"
    assert web["explicit"] is False and isinstance(web["pid"], int)
    assert web["failed"] is False and web["stop_reason"] is None and web["exit"] is None
    assert web["restarts"] == 0 and web["depends_on"] == ["db"] and web["waits_for"] == []
    boot = sup.ctl("--json", "status", "boot").json
    assert boot["explicit"] is True and boot["waits_for"] == ["log"] and boot["pid"] is None
    both = sup.ctl("--json", "status", "web", "db", check=True).json
    assert [s["name"] for s in both] == ["web", "db"]


def test_start_waits_until_started_and_activates_dependencies(sup):
    # start NAME activates it explicitly and starts its dependency closure first.
    basic(sup)
    sup.write("api", "type = process\n" + LONG + "depends-on = db\n")
    sup.start("log")
    result = sup.ctl("--json", "start", "api", check=True)
    assert result.json["state"] == "started" and result.json["explicit"] is True
    assert sup.status("db")["state"] == "started"
    assert sup.status("db")["explicit"] is False
    assert sup.ctl("start", "api").out.strip() == "Service 'api' started."


def test_start_no_wait_returns_before_readiness(sup):
    # --no-wait issues the start and returns while the service is still starting.
    sup.write("boot", "")  # an empty description: an internal service that keeps zeroinit up
    sup.write("slow", "type = process\ncommand = sleep 1000\nready-notification = pipefd:3\n")
    sup.start()
    result = sup.ctl("--json", "start", "--no-wait", "slow", check=True)
    assert result.json["state"] == "starting"
    assert "Issued start" in sup.ctl("start", "--no-wait", "slow").out


def test_stop_refused_with_dependents_then_forced(sup):
    # stop is refused while started services hard-depend on it; --force stops them too, and
    # none of the stopped sub-tree restarts by itself.
    basic(sup)
    sup.start("boot", "log")
    sup.wait_state("boot", "started")
    refused = sup.ctl("stop", "db")
    assert refused.code == 1
    assert refused.err.strip() == "zeroctl: db has started dependents: web; use --force to stop them too"
    assert sup.status("db")["state"] == "started"
    forced = sup.ctl("--json", "stop", "--force", "db", check=True)
    assert forced.json["state"] == "stopped"
    statuses = sup.statuses()
    assert [statuses[n]["state"] for n in ("db", "web", "boot")] == ["stopped"] * 3
    assert not any(statuses[n]["explicit"] for n in ("db", "web", "boot"))
    assert statuses["log"]["state"] == "started"  # explicitly started on its own


def test_restart_refused_when_not_started_and_with_dependents(sup):
    # restart needs a started service, and --force when hard dependents are up.
    basic(sup)
    sup.write("idle", "type = process\n" + LONG)
    sup.start("boot")
    sup.wait_state("boot", "started")
    not_started = sup.ctl("restart", "idle")
    assert not_started.code == 1 and "idle is not started" in not_started.err
    refused = sup.ctl("restart", "db")
    assert refused.code == 1 and "web" in refused.err and "--force" in refused.err


def test_restart_force_brings_dependents_back_with_new_processes(sup):
    # restart --force stops db's dependents first; all come back with new pids.
    basic(sup)
    sup.start("boot")
    sup.wait_state("boot", "started")
    before = {n: sup.status(n)["pid"] for n in ("db", "web")}
    result = sup.ctl("--json", "restart", "--force", "db", check=True)
    assert result.json["state"] == "started"
    sup.wait_state("web", "started")
    after = {n: sup.status(n)["pid"] for n in ("db", "web")}
    assert after["db"] != before["db"] and after["web"] != before["web"]
    assert sup.status("web")["explicit"] is False


def test_release_and_wake(sup):
    # release drops explicit activation (stops only what nothing needs); wake starts a service
    # again for the active dependents that want it.
    sup.write("boot", "")  # stays up, so zeroinit does not exit when the others stop
    sup.write("app", "type = process\n" + LONG + "waits-for = cache\n")
    sup.write("cache", "type = process\n" + LONG)
    sup.start("boot", "app", "cache")
    sup.wait_state("cache", "started")
    released = sup.ctl("--json", "release", "cache", check=True).json
    assert released["state"] == "started" and released["explicit"] is False  # app needs it
    sup.ctl("stop", "cache", check=True)
    assert sup.status("cache")["state"] == "stopped"
    woken = sup.ctl("--json", "wake", "cache", check=True)
    sup.wait_state("cache", "started")
    assert sup.status("cache")["explicit"] is False
    assert woken.code == 0
    sup.ctl("stop", "--force", "app", check=True)
    sup.ctl("stop", "cache", check=True)
    refused = sup.ctl("wake", "cache")
    assert refused.code == 1 and "no active dependents" in refused.err


def test_signal_reaches_the_service_process(sup):
    # signal HUP NAME delivers the signal to the service's process (here: a trap writes it).
    marker = sup.base / "got-hup"
    script = sup.script("hup.sh", f"""
        trap 'echo hup > {marker}' HUP
        while :; do sleep 1 & wait $!; done
    """)
    sup.write("svc", f"type = process\ncommand = {script}\n")
    sup.start("svc")
    sup.wait_state("svc", "started")
    result = sup.ctl("signal", "HUP", "svc", check=True)
    assert result.out.startswith("Sent SIGHUP to svc (pid ")
    sup.poll(marker.exists, "the HUP trap to run")
    assert sup.ctl("signal", "SIGNOTHING", "svc").code == 2
    sup.write("off", "type = process\n" + LONG)
    assert "no running process" in sup.ctl("signal", "1", "off").err


def test_tree_shows_dependencies_with_states(sup):
    # tree renders boot's dependencies with each node's state and link kind.
    basic(sup)
    sup.start()
    sup.wait_state("boot", "started")
    rows = sup.ctl("--json", "tree", check=True).json
    assert [(r["name"], r["depth"], r["link"]) for r in rows] == [
        ("boot", 0, None), ("web", 1, "depends-on"), ("db", 2, "depends-on"),
        ("log", 1, "waits-for")]
    text = sup.ctl("tree", "boot", check=True).out
    assert "boot [started]" in text and "└─ log [started] (waits-for)" in text


def test_events_streams_one_json_line_per_change(sup):
    # events prints a status object plus "event" and "time" for each change, as it happens.
    sup.write("svc", "type = process\n" + LONG)
    sup.write("keep", "type = process\n" + LONG)
    sup.write("ping", "")
    sup.start("keep")
    proc = subprocess.Popen([*ZEROCTL, "-s", sup.socket, "--json", "events"],
                            stdout=subprocess.PIPE, text=True)
    try:
        # The subscription is live once a change shows up: toggle `ping` until one does.
        deadline = time.monotonic() + 20
        while not select.select([proc.stdout], [], [], 0.2)[0]:
            assert time.monotonic() < deadline, "events never started streaming"
            sup.ctl("start", "ping", check=True)
            sup.ctl("stop", "ping", check=True)
        sup.ctl("start", "svc", check=True)
        lines = []
        while len(lines) < 2:
            line = json.loads(proc.stdout.readline())
            if line["name"] == "svc":
                lines.append(line)
        assert [(l["name"], l["event"]) for l in lines] == [("svc", "starting"), ("svc", "started")]
        assert isinstance(lines[1]["time"], float) and lines[1]["pid"] is not None
        assert lines[1]["state"] == "started" and "restarts" in lines[1]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0


def test_shutdown_stops_everything_and_the_supervisor_exits(sup):
    # zeroctl shutdown waits while everything stops; zeroinit then exits with status 0.
    basic(sup)
    sup.start()
    sup.wait_state("boot", "started")
    pids = [sup.status(n)["pid"] for n in ("web", "db", "log")]
    result = sup.ctl("shutdown", check=True)
    assert result.out.strip() == "Shutting down."
    assert sup.wait_exit() == 0
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or _is_zombie(pid)


def test_unknown_service_is_exit_1_with_one_sentence(sup):
    # Naming a service that does not exist fails with status 1 and one line on stderr.
    sup.write("boot", "")
    sup.start()
    for args in (["status", "nope"], ["start", "nope"], ["stop", "nope"]):
        result = sup.ctl(*args)
        assert result.code == 1
        assert result.err.count("\n") == 1 and "nope" in result.err
        assert "Traceback" not in result.err


def test_unreachable_supervisor_is_exit_3(tmp_path):
    # No supervisor at the endpoint: exit 3, one sentence, quickly.
    result = subprocess.run([*ZEROCTL, "-s", str(tmp_path / "nothing"), "--timeout", "1",
                             "list"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 3
    assert result.stderr.startswith("zeroctl: cannot reach the supervisor")
    assert result.stderr.count("\n") == 1


def test_bad_usage_is_exit_2(tmp_path):
    # An unknown command or a missing argument is a usage error: exit 2.
    for args in (["frobnicate"], ["status"], ["signal", "HUP"]):
        result = subprocess.run([*ZEROCTL, "-s", str(tmp_path / "x"), *args],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 2, args


def test_json_option_after_the_command(sup):
    # --json works after the command name too, for scripts that append it.
    sup.write("boot", "")
    sup.start()
    assert sup.ctl("list", "--json", check=True).json[0]["name"] == "boot"


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_template_named_with_an_empty_argument_is_refused(sup):
    sup.write("worker", "type = process\ncommand = sleep 1000 $1\n")
    sup.write("boot", "")
    sup.start()
    result = sup.ctl("start", "worker@")
    assert result.code == 1
    assert result.err == "zeroctl: 'worker@' is not a valid service name\n"
    assert "worker@" not in sup.statuses()
