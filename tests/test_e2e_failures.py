"""End to end, with real processes: every failure path — a start that fails, a command that
can't be executed, a crash and its rollback, the restart limit, start and stop timeouts,
readiness, and reload refused and accepted."""

from __future__ import annotations

import os

LONG = "command = sleep 1000\n"


def test_start_failure_fails_hard_dependents_and_exits_1(sup):
    # A scripted start that exits 1 fails; its hard dependent fails with dep-failed and never
    # runs; a waits-for dependent starts anyway. zeroctl start exits 1 naming the reason.
    sup.write("boot", "")
    sup.write("setup", "type = scripted\ncommand = sh -c 'exit 3'\n")
    sup.write("app", "type = process\n" + LONG + "depends-on = setup\n")
    sup.write("lax", "type = process\n" + LONG + "waits-for = setup\n")
    sup.start()
    result = sup.ctl("start", "app")
    assert result.code == 1
    assert result.err.strip() == ("zeroctl: app failed to start: a dependency failed to start")
    setup, app = sup.status("setup"), sup.status("app")
    assert (setup["state"], setup["failed"], setup["stop_reason"]) == ("stopped", True, "failed")
    assert setup["exit"] == {"code": 3, "signal": None}
    assert (app["state"], app["stop_reason"], app["explicit"], app["pid"]) == \
        ("stopped", "dep-failed", False, None)
    lax = sup.ctl("--json", "start", "lax", check=True).json
    assert lax["state"] == "started"
    assert "[FAILED] setup (command exited with code 3)" in sup.stdout


def test_exec_failure(sup):
    # A command that can't be executed: stop reason exec-failed, the reason names it.
    sup.write("boot", "")
    sup.write("ghost", "type = process\ncommand = /no/such/program --flag\n")
    sup.start()
    result = sup.ctl("--json", "start", "ghost")
    assert result.code == 1
    assert "could not be executed: /no/such/program: No such file or directory" in result.err
    status = result.json
    assert (status["state"], status["stop_reason"], status["failed"]) == \
        ("stopped", "exec-failed", True)


def test_missing_working_dir_is_an_exec_failure(sup):
    # A working-dir that doesn't exist is reported as such.
    sup.write("boot", "")
    sup.write("lost", "type = process\n" + LONG + f"working-dir = {sup.base}/nowhere\n")
    sup.start()
    result = sup.ctl("start", "lost")
    assert result.code == 1 and "nowhere" in result.err and "No such file" in result.err


def test_crash_rolls_back_dependents_then_restarts_all(sup):
    # kill -9 of db: web (hard dependent) is stopped first, db restarts, web comes back; both
    # get new processes and count one restart.
    sup.write("web", "type = process\n" + LONG + "depends-on = db\n")
    sup.write("db", "type = process\n" + LONG)
    sup.start("web")
    sup.wait_state("web", "started")
    db_pid, web_pid = sup.status("db")["pid"], sup.status("web")["pid"]
    os.kill(db_pid, 9)
    statuses = sup.wait_until(
        lambda s: s["db"]["state"] == "started" and s["web"]["state"] == "started"
        and s["db"]["pid"] != db_pid and s["web"]["pid"] not in (None, web_pid),
        "db and web back with new processes")
    assert statuses["db"]["restarts"] == 1 and statuses["web"]["restarts"] == 1
    assert statuses["db"]["exit"] == {"code": None, "signal": "SIGKILL"}


def test_crash_with_restart_no_stops_for_good_and_dependents_stay_down(sup):
    # restart = no: the crashed service stays down; its hard dependent stops with dep-failed.
    sup.write("boot", "")
    sup.write("web", "type = process\n" + LONG + "depends-on = db\nrestart = no\n")
    sup.write("db", "type = process\n" + LONG + "restart = no\n")
    sup.start("boot", "web")
    sup.wait_state("web", "started")
    os.kill(sup.status("db")["pid"], 9)
    statuses = sup.wait_until(lambda s: s["db"]["state"] == "stopped"
                              and s["web"]["state"] == "stopped", "db and web down")
    assert statuses["db"]["failed"] is True and statuses["db"]["stop_reason"] == "terminated"
    assert statuses["web"]["stop_reason"] == "dep-failed"


def test_restart_limit_stops_as_failed_and_dependent_stays_down(sup):
    # A process that dies at once, restart-limit-count 2 in 10 s: after 2 restarts it stops as
    # failed, and its hard dependent stops with dep-failed and stays down (dinit issue #249).
    sup.write("boot", "")
    sup.write("crashy", "type = process\ncommand = sh -c 'exit 1'\nrestart-delay = 0\n"
                        "restart-limit-count = 2\nrestart-limit-interval = 10\n")
    sup.write("user", "type = internal\ndepends-on = crashy\n")
    sup.start("boot")
    sup.ctl("start", "--no-wait", "user", check=True)
    statuses = sup.wait_until(lambda s: s.get("crashy", {}).get("state") == "stopped"
                              and s["crashy"]["target"] == "stopped", "crashy to give up")
    crashy = statuses["crashy"]
    assert crashy["failed"] is True and crashy["restarts"] == 2
    assert "giving up" in crashy["reason"]
    user = sup.wait_state("user", "stopped")
    assert user["stop_reason"] == "dep-failed" and user["explicit"] is False
    assert "restarting too quickly" in sup.stderr


def test_start_timeout_interrupts_and_fails(sup):
    # A process that never signals ready within start-timeout gets SIGINT; the start fails
    # with timed-out.
    sup.write("boot", "")
    sup.write("mute", "type = process\n" + LONG + "ready-notification = pipefd:3\n"
                      "start-timeout = 0.5\n")
    sup.start()
    result = sup.ctl("--json", "start", "mute")
    assert result.code == 1 and "start timed out after 0.5 s" in result.err
    status = sup.wait_state("mute", "stopped")
    assert status["stop_reason"] == "timed-out" and status["failed"] is True
    assert status["exit"] == {"code": None, "signal": "SIGINT"}


def test_stop_timeout_escalates_to_sigkill_of_the_group(sup):
    # A process (and its child) ignoring SIGTERM is killed with SIGKILL after stop-timeout.
    child_pid = sup.base / "child.pid"
    script = sup.script("stubborn.sh", f"""
        trap '' TERM
        sh -c 'trap "" TERM; echo $$ > {child_pid}; while :; do sleep 1; done' &
        while :; do sleep 1; done
    """)
    sup.write("boot", "")
    sup.write("stubborn", f"type = process\ncommand = {script}\nstop-timeout = 0.5\n")
    sup.start("boot", "stubborn")
    sup.wait_state("stubborn", "started")
    sup.poll(lambda: child_pid.exists() and child_pid.read_text().strip(), "the child's pid")
    child = int(child_pid.read_text())
    result = sup.ctl("--json", "stop", "stubborn", check=True)
    assert result.json["exit"] == {"code": None, "signal": "SIGKILL"}
    sup.poll(lambda: not _alive(child), "the child in the group to die too")
    assert "did not stop within 0.5 s; killing it" in sup.stderr


def test_readiness_pipefd_and_pipevar(sup):
    # Started only on the ready line: pipefd:N writes to fd N, pipevar:VAR names the fd.
    gate = sup.base / "go"
    fd_script = sup.script("fd.sh", f"""
        while [ ! -e {gate} ]; do sleep 0.05; done
        echo ready >&4
        exec sleep 1000
    """)
    var_script = sup.script("var.sh", """
        echo ready >&$READY_FD
        exec sleep 1000
    """)
    sup.write("boot", "")
    sup.write("byfd", f"type = process\ncommand = {fd_script}\nready-notification = pipefd:4\n")
    sup.write("byvar", f"type = process\ncommand = {var_script}\n"
                       "ready-notification = pipevar:READY_FD\n")
    sup.start()
    assert sup.ctl("--json", "start", "--no-wait", "byfd", check=True).json["state"] == "starting"
    assert sup.status("byfd")["state"] == "starting"  # running, but not ready
    gate.write_text("")
    sup.wait_state("byfd", "started")
    assert sup.ctl("--json", "start", "byvar", check=True).json["state"] == "started"


def test_exit_before_ready_is_a_failed_start(sup):
    # A process that exits before writing its ready line failed to start (reason failed).
    sup.write("boot", "")
    sup.write("quitter", "type = process\ncommand = sh -c 'exit 0'\n"
                         "ready-notification = pipefd:3\nrestart = no\n")
    sup.start()
    result = sup.ctl("--json", "start", "quitter")
    assert result.code == 1 and "before it was ready" in result.err
    assert result.json["stop_reason"] == "failed"


def test_reload_accepted_and_refused(sup):
    # reload applies a safe change (new command for the next start) and refuses an unsafe one
    # (a type change while started; a new hard dependency that is not started).
    sup.write("boot", "")
    sup.write("svc", "type = process\n" + LONG)
    sup.write("other", "type = process\n" + LONG)
    sup.start("boot", "svc")
    sup.wait_state("svc", "started")
    sup.write("svc", "type = process\ncommand = sleep 999\n")
    assert sup.ctl("reload", "svc", check=True).out.strip() == "Service 'svc' reloaded."
    sup.write("svc", "type = scripted\ncommand = true\n")
    refused = sup.ctl("reload", "svc")
    assert refused.code == 1 and "cannot change the type of svc" in refused.err
    sup.write("svc", "type = process\ncommand = sleep 999\ndepends-on = other\n")
    refused = sup.ctl("reload", "svc")
    assert refused.code == 1 and "other is not started" in refused.err
    sup.write("svc", "type = process\ncommand = sleep 999\n")
    sup.ctl("restart", "svc", check=True)
    pid = sup.status("svc")["pid"]
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[:2] == [b"sleep", b"999"]


def test_reload_of_a_broken_description_keeps_the_old_one(sup):
    # A reload that fails to load changes nothing and says where the error is.
    sup.write("boot", "")
    sup.write("svc", "type = process\n" + LONG)
    sup.start("boot", "svc")
    sup.wait_state("svc", "started")
    sup.write("svc", "type = process\ncommand = sleep 1000\nrestart-delay = soon\n")
    result = sup.ctl("reload", "svc")
    assert result.code == 1 and "restart-delay" in result.err and "svc:3" in result.err
    assert sup.status("svc")["state"] == "started"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_broken_soft_dependency_does_not_stop_the_boot(sup):
    # boot waits-for a service whose file is broken: the rest still boots, and the console
    # says what was left out and why.
    sup.write("boot", "waits-for = web\nwaits-for = broken\n")
    sup.write("web", "type = process\ncommand = sleep 1000\n")
    sup.write("broken", "type = process\ncommand = sleep 1000\nrestart-delay = soon\n")
    sup.start()
    statuses = sup.wait_until(lambda s: s.get("boot", {}).get("state") == "started"
                              and s.get("web", {}).get("state") == "started", "boot to start")
    assert "broken" not in statuses
    assert "ignoring 'broken': it could not be loaded, and boot starts without it" in sup.stderr
