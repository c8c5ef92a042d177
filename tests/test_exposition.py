"""The metrics text (actors/root/exposition.py), read back with prometheus_client's parser so
the format is proved, not assumed; and the /proc reading of actors/root/metrics.py."""

from __future__ import annotations

import math
import os
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from actors.engine import Snapshot, State
from actors.root.exposition import (Family, ServiceSample, SupervisorSample, render,
                                    render_families)
from actors.root.metrics import CLOCK_TICKS, PAGE_SIZE, ProcessTable
from tests.engine_sim import internal, proc


def snapshot(spec, state=State.STARTED, pid=None, restarts=0) -> Snapshot:
    return Snapshot(spec, state, state, True, pid, False, None, None, restarts, "")


def parsed(text: str) -> dict[str, tuple[str, dict]]:
    """family name -> (type, {sample name and service label: value})."""
    found = {}
    for family in text_string_to_metric_families(text):
        assert family.name not in found, f"{family.name} in two families"
        found[family.name] = (family.type, {
            (s.name, s.labels.get("service")): s.value for s in family.samples})
    return found


def test_every_contract_name_with_its_type_and_values():
    # A started process service, a stopped one, an internal one: each family once, typed.
    text = render([
        ServiceSample(snapshot(proc("web"), pid=42, restarts=3), start_time=1.7e9,
                      cpu_seconds=1.25, memory_bytes=8192),
        ServiceSample(snapshot(proc("db"), state=State.STOPPED)),
        ServiceSample(snapshot(internal("boot")), start_time=1.6e9),
    ], SupervisorSample(services=3, watchers=1, root_cpu_seconds=0.5))
    families = parsed(text)
    # prometheus_client names a counter's family without its _total suffix.
    assert families == {
        "zeroinit_service_up": ("gauge", {("zeroinit_service_up", "web"): 1,
                                          ("zeroinit_service_up", "db"): 0,
                                          ("zeroinit_service_up", "boot"): 1}),
        "zeroinit_service_restarts": ("counter", {
            ("zeroinit_service_restarts_total", "web"): 3,
            ("zeroinit_service_restarts_total", "db"): 0,
            ("zeroinit_service_restarts_total", "boot"): 0}),
        "zeroinit_service_start_time_seconds": ("gauge", {
            ("zeroinit_service_start_time_seconds", "web"): 1.7e9,
            ("zeroinit_service_start_time_seconds", "boot"): 1.6e9}),
        "zeroinit_service_cpu_seconds": ("counter", {
            ("zeroinit_service_cpu_seconds_total", "web"): 1.25}),
        "zeroinit_service_memory_bytes": ("gauge", {
            ("zeroinit_service_memory_bytes", "web"): 8192}),
        "zeroinit_services": ("gauge", {("zeroinit_services", None): 3}),
        "zeroinit_watchers": ("gauge", {("zeroinit_watchers", None): 1}),
        "zeroinit_root_cpu_seconds": ("counter", {
            ("zeroinit_root_cpu_seconds_total", None): 0.5}),
    }
    assert text.count("# TYPE ") == text.count("# HELP ") == len(families)


def test_healthy_only_where_a_check_exists():
    # No sample carries a health state: no family. One does: only it has a sample.
    plain = render([ServiceSample(snapshot(proc("web"), pid=1))], SupervisorSample(1, 1, 0))
    assert "zeroinit_service_healthy" not in plain
    text = render([ServiceSample(snapshot(proc("web"), pid=1), healthy=False),
                   ServiceSample(snapshot(proc("db"), pid=2))], SupervisorSample(2, 2, 0))
    assert parsed(text)["zeroinit_service_healthy"] == (
        "gauge", {("zeroinit_service_healthy", "web"): 0})


def test_label_values_and_help_are_escaped():
    # A backslash, a double quote and a newline in a label value and in HELP survive parsing.
    odd = 'a\\b"c\nd'
    text = render_families([Family("x_total", "counter", "help with \\ and\nnewline",
                                   (((("service", odd),), 2),))])
    assert 'x_total{service="a\\\\b\\"c\\nd"} 2\n' in text
    [family] = text_string_to_metric_families(text)
    assert family.documentation == "help with \\ and\nnewline"
    assert family.samples[0].labels == {"service": odd}
    assert family.samples[0].value == 2


def test_special_float_values():
    # NaN and infinities are written the way Prometheus reads them.
    text = render_families([Family("x", "gauge", "h", (((("service", "a"),), math.nan),
                                                       ((("service", "b"),), math.inf),
                                                       ((("service", "c"),), 0.125)))])
    values = {s.labels["service"]: s.value for s in
              next(text_string_to_metric_families(text)).samples}
    assert math.isnan(values["a"]) and values["b"] == math.inf and values["c"] == 0.125


def _fake_proc(root: Path, pid: int, ppid: int, comm: str, ticks: tuple[int, int, int, int],
               resident_pages: int) -> None:
    (root / str(pid)).mkdir()
    utime, stime, cutime, cstime = ticks
    # Fields 3.. of proc(5): state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime ...
    rest = ["S", ppid, 1, 1, 0, -1, 0, 0, 0, 0, 0, utime, stime, cutime, cstime, 20, 0, 1, 0,
            500, 0, 0]
    (root / str(pid) / "stat").write_text(f"{pid} ({comm}) " + " ".join(map(str, rest)) + "\n")
    (root / str(pid) / "statm").write_text(f"100 {resident_pages} 10 1 0 50 0\n")


def test_process_tree_sums_cpu_and_memory_of_descendants(tmp_path):
    # Daemon 10 with child 11 (whose name has ") (" in it) and grandchild 12; 20 is a
    # stranger. The tree's CPU is every tick of 10, 11 and 12; memory their resident pages.
    _fake_proc(tmp_path, 10, 1, "sh", (1, 2, 3, 4), 5)
    _fake_proc(tmp_path, 11, 10, "odd) (name", (10, 0, 0, 0), 7)
    _fake_proc(tmp_path, 12, 11, "sleep", (0, 20, 0, 0), 11)
    _fake_proc(tmp_path, 20, 1, "other", (1000, 0, 0, 0), 1000)
    (tmp_path / "stat").write_text("cpu 1 2 3\nbtime 1700000000\n")
    table = ProcessTable.read(str(tmp_path))
    tree = table.tree(10)
    assert sorted(p.pid for p in tree) == [10, 11, 12]
    assert sum(p.cpu_seconds for p in tree) == (1 + 2 + 3 + 4 + 10 + 20) / CLOCK_TICKS
    assert sum(table.resident_bytes(p.pid) for p in tree) == (5 + 7 + 11) * PAGE_SIZE
    assert table.start_time(10) == 1700000000 + 500 / CLOCK_TICKS
    assert table.tree(99) == []


def test_reads_the_real_proc():
    # This very process is in the table, with a resident size and a start before now.
    table = ProcessTable.read()
    me = os.getpid()
    assert me in table.stats and table.resident_bytes(me) > 0
    assert table.stats[me].ppid == os.getppid()
