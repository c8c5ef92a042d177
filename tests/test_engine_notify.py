"""The engine's sd_notify inputs (actors/engine/notify.py): EXTEND_TIMEOUT_USEC pushes a
running start timeout out (never in), a watchdog abort is a crash with stop reason `watchdog`
(dependents rolled back, restart by policy, limits counted), and STATUS/STOPPING/RELOADING show
in the status object. Fake clock; no processes.
"""

from __future__ import annotations

from actors.engine import NotifyState, Role
from actors.loader.spec import ReadyKind, ReadyNotification
from tests.engine_checks import check, deadline, logs, sig
from tests.engine_sim import NO, ON_FAILURE, Sim, proc

NOTIFY = ReadyNotification(ReadyKind.NOTIFY)


def test_extend_timeout_pushes_the_start_deadline_out():
    # A notify service with start-timeout 5 asks for 20 s more 4 s in: the start does not time
    # out at 5 s, only after 24 s.
    s = Sim(proc("a", ready_notification=NOTIFY, start_timeout=5))
    s.start("a")
    s.execs("a")
    assert deadline(s) == 5
    s.tick(4)
    s.engine.on_extend_timeout("a", 20.0, s.now)
    assert deadline(s) == 24
    s.tick(10)  # 14 s: past the start-timeout, within the extension
    assert s.state("a") == "starting"
    s.ready("a")
    check(s, "a", "started", "started", pid=1000, explicit=True)


def test_extend_timeout_never_shortens_and_lapses_without_more():
    # An extension shorter than what is left changes nothing; once it passes the start fails.
    s = Sim(proc("a", ready_notification=NOTIFY, start_timeout=10, restart=NO))
    s.start("a")
    s.execs("a")
    s.engine.on_extend_timeout("a", 2.0, s.now)
    assert deadline(s) == 10
    s.engine.on_extend_timeout("a", 15.0, s.now)
    s.advance_to_deadline()
    assert s.now == 15
    assert s.status("a")["stop_reason"] == "timed-out"
    assert s.signals() == [("a", "SIGINT")]


def test_extend_timeout_after_readiness_is_ignored():
    # A started service that still sends EXTEND_TIMEOUT_USEC: no timer is armed, nothing moves.
    s = Sim(proc("a", ready_notification=NOTIFY))
    s.start("a")
    s.up("a")
    s.engine.on_extend_timeout("a", 30.0, s.now)
    assert s.engine.take_effects() == []
    assert deadline(s) is None


def test_watchdog_abort_is_a_crash_with_reason_watchdog_and_restarts_by_policy():
    # web depends on db; db's watchdog fires, its watcher aborts it (SIGABRT): web is rolled back,
    # db restarts (restart = yes), web comes back; stop_reason says watchdog.
    s = Sim(proc("db", ready_notification=NOTIFY, watchdog_timeout=2),
            proc("web", depends_on=("db",)))
    s.start("web")
    s.up("db")
    s.up("web")
    s.engine.on_watchdog("db", "no WATCHDOG=1 within 2 s", s.now)
    s._absorb()
    assert logs(s) == [("db", "warning", "hung (no WATCHDOG=1 within 2 s); aborting it")]
    assert s.states("db", "web") == ("started", "started")  # nothing moves until it ends
    s.exits("db", signal="SIGABRT")
    assert s.status("db")["stop_reason"] == "watchdog"
    assert s.status("db")["reason"] == "process killed by SIGABRT (no WATCHDOG=1 within 2 s)"
    assert s.state("web") == "stopping"
    s.exits("web")
    s.advance_to_deadline()  # restart-delay
    assert s.spawned() == ["db"]
    s.up("db")
    s.up("web")
    assert s.states("db", "web") == ("started", "started")
    assert s.status("db")["restarts"] == 1 and s.status("db")["exit"] == sig("SIGABRT")


def test_watchdog_abort_counts_against_the_restart_limit():
    # restart-limit-count 1: the second watchdog abort within the interval gives up (failed).
    s = Sim(proc("a", ready_notification=NOTIFY, watchdog_timeout=1, restart=ON_FAILURE,
                 restart_limit_count=1))
    s.start("a")
    s.up("a")
    for _ in range(2):
        s.engine.on_watchdog("a", "WATCHDOG=trigger", s.now)
        s._absorb()
        s.exits("a", signal="SIGABRT")
        if s.state("a") == "stopped":
            break
        s.advance_to_deadline()
        s.up("a")
    status = s.status("a")
    assert (status["state"], status["failed"], status["stop_reason"]) == \
        ("stopped", True, "watchdog")


def test_watchdog_report_during_a_stop_is_ignored():
    # A stop is under way when the watchdog fires: the stop ends normally, not as a crash.
    s = Sim(proc("a", ready_notification=NOTIFY, watchdog_timeout=1))
    s.start("a")
    s.up("a")
    s.stop("a")
    s.engine.on_watchdog("a", "WATCHDOG=trigger", s.now)
    assert s.engine.take_effects() == []
    s.exits("a")
    check(s, "a", "stopped", "stopped", reason="normal", exit=sig("SIGTERM"))


def test_a_new_launch_forgets_the_previous_watchdog():
    # After a watchdog crash and a restart, an ordinary crash is `terminated` again.
    s = Sim(proc("a", ready_notification=NOTIFY, watchdog_timeout=1))
    s.start("a")
    s.up("a")
    s.engine.on_watchdog("a", "WATCHDOG=trigger", s.now)
    s.exits("a", signal="SIGABRT")
    s.advance_to_deadline()
    s.up("a")
    s.exits("a", code=3)
    assert s.status("a")["stop_reason"] == "terminated"


def test_status_object_shows_what_a_notify_service_said():
    # STATUS, STOPPING and RELOADING reach the status object; a new process starts blank; a
    # service without sd_notify has null fields.
    s = Sim(proc("a", ready_notification=NOTIFY), proc("b"))
    assert s.status("a")["notify"] == {"stopping": False, "reloading": False}
    assert s.status("b")["status_text"] is None and s.status("b")["notify"] is None
    s.start("a")
    s.up("a")
    s.engine.on_notify_state("a", NotifyState("serving 3 clients", False, True))
    status = s.status("a")
    assert status["status_text"] == "serving 3 clients"
    assert status["notify"] == {"stopping": False, "reloading": True}
    s.exits("a", code=1)
    s.advance_to_deadline()
    s.engine.on_spawned("a", 4242, s.now, Role.START)
    assert s.status("a")["status_text"] is None
