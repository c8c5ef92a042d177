"""The lifecycle table (actors/engine/lifecycle.py) as data: every (service type, phase, input)
cell is written out and is a handler, IGNORE or IMPOSSIBLE; an IMPOSSIBLE cell changes nothing
and comes out as a `Rejected` effect naming what and why (never silently dropped), all the
way to the root's log; an IGNORE cell changes nothing and says nothing.
"""

from __future__ import annotations

import dataclasses
import inspect
import io

import pytest

from actors.engine import ExitStatus, Rejected, Role
from actors.engine import lifecycle
from actors.engine.lifecycle import IGNORE, IMPOSSIBLE, TABLE
from actors.engine.phases import Input, Phase
from actors.engine.record import ServiceRecord
from actors.loader.kinds import ServiceType
from actors.root.console import Console
from tests.engine_checks import fx
from tests.engine_sim import READY_FD, Sim, internal, proc, scripted

# The phases a type is never in (lifecycle.py's essay). Every other phase must be a row.
NEVER = {
    ServiceType.INTERNAL: set(Phase) - {Phase.IDLE},
    ServiceType.PROCESS: {Phase.INTERRUPTING, Phase.STOP_LAUNCHING},
    ServiceType.SCRIPTED: {Phase.TERMINATING, Phase.STOP_COMMAND_ONLY, Phase.RECOVERY_DELAY,
                           Phase.RECOVERY_LAUNCHING, Phase.RECOVERING},
}
SPECS = {ServiceType.INTERNAL: internal, ServiceType.PROCESS: proc,
         ServiceType.SCRIPTED: scripted}
HANDLER_MODULES = {"actors.engine.process", "actors.engine.scripted", "actors.engine.notify",
                   "actors.engine.lifecycle"}


def cells(kind=None):
    """Every (type, phase, input, cell) of the table; only those whose cell is `kind`."""
    for type_, rows in TABLE.items():
        for phase, row in rows.items():
            for what, cell in row.items():
                if kind is None or cell is kind:
                    yield pytest.param(type_, phase, what, cell,
                                       id=f"{type_.value}-{phase.value}-{what.value}")


class OnlyEffects:
    """A `Rules` for cells that must do nothing: it has an effects list, and any rule called
    on it fails the test, naming the rule."""

    def __init__(self) -> None:
        self.now = 100.0
        self.effects: list = []
        self.shutting_down = False

    def __getattr__(self, name: str):
        raise AssertionError(f"the cell called the rule {name!r}")


def record_in(type_: ServiceType, phase: Phase) -> ServiceRecord:
    rec = ServiceRecord(SPECS[type_]("s"))
    rec.phase = phase
    return rec


def fields_of(rec: ServiceRecord) -> dict:
    return {f.name: getattr(rec, f.name) for f in dataclasses.fields(rec)}


# ---------------------------------------------------------------------------------------------
# The table's shape
# ---------------------------------------------------------------------------------------------


def test_lifecycle_table_has_a_row_for_every_phase_a_type_can_be_in():
    # Each service type has a table, and its rows are exactly the phases it can be in.
    assert set(TABLE) == set(ServiceType)
    for type_, rows in TABLE.items():
        assert set(rows) == set(Phase) - NEVER[type_], type_


def test_lifecycle_table_has_every_input_in_every_row():
    # No (type, phase, input) cell is missing, and none is there that names no input.
    missing = [(t.value, p.value, i.value) for t, rows in TABLE.items()
               for p, row in rows.items() for i in Input if i not in row]
    extra = [(t.value, p.value, i) for t, rows in TABLE.items()
             for p, row in rows.items() for i in row if not isinstance(i, Input)]
    assert missing == [] and extra == []


@pytest.mark.parametrize("type_, phase, what, cell", list(cells()))
def test_lifecycle_cell_is_a_handler_ignore_or_impossible(type_, phase, what, cell):
    # A cell is one of the two markers, or a rule handler of the engine taking (g, rec, value).
    if cell is IGNORE or cell is IMPOSSIBLE:
        return
    assert inspect.isfunction(cell), f"{cell!r} is neither a handler nor a marker"
    assert cell.__module__ in HANDLER_MODULES, cell
    assert len(inspect.signature(cell).parameters) >= 3, cell


def test_lifecycle_table_uses_each_kind_of_cell():
    # The markers are in use, and a phase a type is never in is impossible for every input.
    assert any(True for _ in cells(IGNORE)) and any(True for _ in cells(IMPOSSIBLE))
    rules = OnlyEffects()
    rec = record_in(ServiceType.SCRIPTED, Phase.TERMINATING)  # a phase without a row
    assert lifecycle.feed(rules, rec, Input.EXITED, ExitStatus(0)) is None
    assert rules.effects == [Rejected("s", "exited", "cannot happen to a scripted service "
                                                     "while terminating (stopped)")]


# ---------------------------------------------------------------------------------------------
# IMPOSSIBLE and IGNORE cells do nothing, and say so (or not)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_, phase, what, cell", list(cells(IMPOSSIBLE)))
def test_lifecycle_impossible_cell_is_rejected_with_what_and_why(type_, phase, what, cell):
    # An impossible input changes nothing and is handed out as Rejected(service, what, why).
    rules = OnlyEffects()
    rec = record_in(type_, phase)
    before = fields_of(rec)
    answer = lifecycle.feed(rules, rec, what, None)
    assert rules.effects == [Rejected(
        "s", what.value,
        f"cannot happen to a {type_.value} service while {phase.value} (stopped)")]
    assert fields_of(rec) == before
    # An impossible INTERRUPT answers "cancelled already", so the caller does not wait.
    assert answer is (True if what is Input.INTERRUPT else None)


@pytest.mark.parametrize("type_, phase, what, cell", list(cells(IGNORE)))
def test_lifecycle_ignore_cell_changes_nothing_and_says_nothing(type_, phase, what, cell):
    # An expected input that changes nothing: no effect, no rule called, the record as it was.
    rules = OnlyEffects()
    rec = record_in(type_, phase)
    before = fields_of(rec)
    assert lifecycle.feed(rules, rec, what, None) is None
    assert rules.effects == []
    assert fields_of(rec) == before


# ---------------------------------------------------------------------------------------------
# Through the engine, and to the log
# ---------------------------------------------------------------------------------------------


def test_engine_rejects_a_report_impossible_in_the_phase_and_keeps_its_state():
    # A stopped process service is told it became ready: Rejected, and it stays stopped.
    s = Sim(proc("p", ready_notification=READY_FD))
    s.engine.on_ready("p", s.now)
    effects = s.engine.take_effects()
    assert effects == [Rejected("p", "ready",
                                "cannot happen to a process service while idle (stopped)")]
    assert s.engine.state("p").value == "stopped"


def test_engine_rejects_an_exec_report_for_a_running_scripted_service():
    # A scripted service whose start script runs is told, again, that it was executed.
    s = Sim(scripted("sc"))
    s.start("sc")
    s.execs("sc")
    assert fx(s) == []
    s.engine.on_spawned("sc", 4321, s.now, Role.START)
    effects = s.engine.take_effects()
    assert [type(e) for e in effects] == [Rejected]
    assert effects[0].service == "sc" and effects[0].what == "spawned"
    assert "scripted service while running (starting)" in effects[0].why
    assert s.engine.pid("sc") != 4321  # the first exec's pid is kept


def test_engine_rejects_process_reports_for_an_internal_service():
    # An internal service has no process: an exit report for it is rejected, not applied.
    s = Sim(internal("i"))
    s.start("i")
    s.engine.on_exited("i", ExitStatus(code=1), s.now)
    effects = s.engine.take_effects()
    assert [(e.service, e.what) for e in effects] == [("i", "exited")]
    assert effects[0].why.endswith("internal service while idle (started)")
    assert s.engine.state("i").value == "started"


def test_rejected_effect_reaches_the_root_log_with_what_and_why():
    # The root's console turns a Rejected effect into one line naming service, input and why.
    err = io.StringIO()
    console = Console(out=io.StringIO(), err=err)
    console.on_rejected(Rejected("p", "ready", "cannot happen to a process service while idle "
                                               "(stopped)"))
    assert err.getvalue() == ("zeroinit: p: ignored ready: cannot happen to a process service "
                              "while idle (stopped)\n")
