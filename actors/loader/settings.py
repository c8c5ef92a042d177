"""THE one place for settings: every name a description may use, what its value is, the spec
field it fills, and its default.

`SETTINGS` maps each setting to a `SettingDef`: the operators it takes, how repeated lines
combine (`Kind`), what its value is (`Value`: how `values.py` reads it), which substitution
applies (`Subst`), and the default used when a description does not set it. `ServiceSpec`
takes its defaults from here (`default(name)`), so a default is written once. Names and
meanings are dinit's (dinit-service(5); the operator columns are those of dinit's
`src/settings.cc`), plus zeroinit's own, marked as such.

Operators: dinit only ever refuses `+=` where it is not allowed; `=` and `:` are taken
interchangeably (dinit maps `=` to `:` for the `:`-only dependency settings, which is why its
own tests write `depends-on = x`). We do the same; `ops` still records what dinit documents.

This module is pure data (the engine imports it through `spec.py`); the parsers are in
`values.py`, and `dinit_file.py` applies the definitions line by line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from actors.loader.kinds import DepKind, LogType, RestartPolicy, ServiceType


class Kind(enum.Enum):
    """How a setting's value is read and how repeated lines combine."""

    VALUE = "value"          # the words joined by one space; a later line replaces it
    COMMAND = "command"      # the words are arguments; `=` replaces, `+=` appends
    LINK = "link"            # one service name; every line adds a link
    LINK_DIR = "link-dir"    # a directory whose entries' names are links (dinit's `*.d`)
    FLAGS = "flags"          # each word is a flag; every line adds to the set
    KEYED = "keyed"          # the value gives (key, ...); a later line replaces the same key
    UNSUPPORTED = "unsupported"  # a dinit setting zeroinit does not implement: an error
    IGNORED = "ignored"      # a dinit setting with no effect in zeroinit: a warning


class Value(enum.Enum):
    """What a value is; `values.py` has one parser for each."""

    TYPE = "type"                # process | scripted | internal
    RESTART = "restart"          # yes | on-failure | no
    BOOL = "bool"                # yes | true | no | false
    SECONDS = "seconds"          # decimal seconds, never negative
    COUNT = "count"              # a whole number, 0 or more
    INSTANCES = "instances"      # a whole number, 1 or more
    NICE = "nice"                # -20..19 (clamped, with a warning)
    OOM_SCORE_ADJ = "oom-score-adj"  # -1000..1000
    MODE = "mode"                # octal file permissions
    SIZE = "size"                # bytes, 1 or more, with an optional K, M or G (1024s)
    SIGNAL = "signal"            # a signal name or number, or `none`
    LOG_TYPE = "log-type"        # file | buffer | none | inherit
    READY = "ready"              # pipefd:N | pipevar:NAME | notify
    RUN_AS = "run-as"            # a user name or a numeric uid
    SERVICE_NAME = "service-name"
    PATH = "path"                # any non-empty path
    OPTION = "option"            # one word of `options`
    LOAD_OPTION = "load-option"  # one word of `load-options`
    RLIMIT = "rlimit"            # SOFT:HARD


class Subst(enum.Enum):
    """Which variables a value may use (dinit-service(5), "VARIABLE SUBSTITUTION")."""

    NONE = "none"        # taken literally
    PRELOAD = "preload"  # the supervisor's environment and $1, not the env-file
    LOAD = "load"        # also the env-file and load-options variables


PROCESS_TYPES = frozenset({ServiceType.PROCESS, ServiceType.SCRIPTED})
ONLY_PROCESS = frozenset({ServiceType.PROCESS})
ALL_TYPES = frozenset(ServiceType)
_NO_DEFAULT = object()


@dataclass(frozen=True, slots=True)
class SettingDef:
    """One setting: everything the description reader needs to apply a line of it."""

    name: str
    kind: Kind
    value: Value | None = None          # what the value is (None: a command, or unsupported)
    field: str | None = None            # the spec field it fills (or a loader-only field)
    default: Any = _NO_DEFAULT          # the field's value when no line sets it
    ops: frozenset[str] = frozenset({"="})
    subst: Subst = Subst.NONE
    link: DepKind | None = None         # for LINK and LINK_DIR
    rlimit: str | None = None           # for RLIMIT: the resource, as `resource.RLIMIT_<X>`
    relative_to: str | None = None      # "description" or "fragment": where a relative path resolves
    applies_to: frozenset[ServiceType] = ALL_TYPES  # elsewhere it is ignored, with a warning
    note: str = ""                      # for UNSUPPORTED: what to use instead

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


_ASSIGN = frozenset({"="})
_APPEND = frozenset({"=", "+="})
_EITHER = frozenset({"=", ":"})
_COLON = frozenset({":"})


def _defs() -> list[SettingDef]:
    v, link = Kind.VALUE, Kind.LINK
    pre, load = Subst.PRELOAD, Subst.LOAD
    proc = PROCESS_TYPES
    # Each default cites where it comes from.
    defs = [
        # dinit: a description without `type` is internal (so an empty file is a service).
        SettingDef("type", v, Value.TYPE, "type", ServiceType.INTERNAL),
        SettingDef("command", Kind.COMMAND, None, "command", (), _APPEND, load, applies_to=proc),
        SettingDef("stop-command", Kind.COMMAND, None, "stop_command", (), _APPEND, load,
                   applies_to=proc),
        SettingDef("working-dir", v, Value.PATH, "working_dir", None, subst=load,
                   relative_to="description", applies_to=proc),
        SettingDef("env-file", v, Value.PATH, "env_file", subst=pre, relative_to="fragment"),
        SettingDef("run-as", v, Value.RUN_AS, "run_as", None, applies_to=proc),
        # dinit-service(5): term-signal defaults to TERM.
        SettingDef("term-signal", v, Value.SIGNAL, "term_signal", "SIGTERM"),
        # dinit's build default DEFAULT_AUTO_RESTART=ALWAYS.
        SettingDef("restart", v, Value.RESTART, "restart", RestartPolicy.YES),
        SettingDef("smooth-recovery", v, Value.BOOL, "smooth_recovery", False,
                   applies_to=ONLY_PROCESS),
        # dinit-service(5): restart-delay 0.2 s; 3 restarts within 10 s, then it gives up.
        SettingDef("restart-delay", v, Value.SECONDS, "restart_delay", 0.2),
        SettingDef("restart-limit-interval", v, Value.SECONDS, "restart_limit_interval", 10.0),
        SettingDef("restart-limit-count", v, Value.COUNT, "restart_limit_count", 3),
        # dinit's build defaults DEFAULT_START_TIMEOUT / DEFAULT_STOP_TIMEOUT (0 = none).
        SettingDef("start-timeout", v, Value.SECONDS, "start_timeout", 60.0),
        SettingDef("stop-timeout", v, Value.SECONDS, "stop_timeout", 10.0),
        SettingDef("logfile", v, Value.PATH, "logfile", None, subst=load,
                   relative_to="description", applies_to=proc),
        # dinit-service(5): logfile-permissions defaults to 600.
        SettingDef("logfile-permissions", v, Value.MODE, "logfile_mode", 0o600, applies_to=proc),
        # zeroinit's additions: rotate the logfile past this size (none: never), keeping this
        # many old files (logfile.1 .. logfile.N; the contract's default is 5).
        SettingDef("logfile-max-size", v, Value.SIZE, "logfile_max_size", None, applies_to=proc),
        SettingDef("logfile-keep", v, Value.COUNT, "logfile_keep", 5, applies_to=proc),
        SettingDef("log-type", v, Value.LOG_TYPE, "log_type", LogType.NONE, applies_to=proc),
        # dinit load-service.h: log_buffer_max defaults to 4096.
        SettingDef("log-buffer-size", v, Value.COUNT, "log_buffer_size", 4096, applies_to=proc),
        SettingDef("ready-notification", v, Value.READY, "ready_notification", None,
                   applies_to=ONLY_PROCESS),
        # zeroinit's addition (systemd's WatchdogSec=): with ready-notification = notify, the
        # service must send WATCHDOG=1 at least this often once ready (0: no watchdog).
        SettingDef("watchdog-timeout", v, Value.SECONDS, "watchdog_timeout", 0.0,
                   applies_to=ONLY_PROCESS),
        SettingDef("chain-to", v, Value.SERVICE_NAME, "chain_to", None, subst=pre),
        SettingDef("options", Kind.FLAGS, Value.OPTION, "options", frozenset(), _EITHER),
        SettingDef("load-options", Kind.FLAGS, Value.LOAD_OPTION, "load_options", ops=_EITHER),
        SettingDef("nice", v, Value.NICE, "nice", None, applies_to=proc),
        SettingDef("oom-score-adj", v, Value.OOM_SCORE_ADJ, "oom_score_adj", None,
                   applies_to=proc),
        # zeroinit's addition: a pool of N instances NAME@0 .. NAME@N-1.
        SettingDef("instances", v, Value.INSTANCES, "instances", None),
    ]
    for name, kind in (("depends-on", DepKind.REGULAR), ("depends-ms", DepKind.MILESTONE),
                       ("waits-for", DepKind.WAITS_FOR), ("after", DepKind.AFTER),
                       ("before", DepKind.BEFORE)):
        defs.append(SettingDef(name, link, Value.SERVICE_NAME, ops=_COLON, subst=pre, link=kind))
    for name, kind in (("depends-on.d", DepKind.REGULAR), ("depends-ms.d", DepKind.MILESTONE),
                       ("waits-for.d", DepKind.WAITS_FOR)):
        defs.append(SettingDef(name, Kind.LINK_DIR, Value.PATH, ops=_COLON, subst=pre, link=kind,
                               relative_to="fragment"))
    # The resource is named as Python's `resource` module names it (RLIMIT_AS for addrspace).
    for name, resource_name in (("nofile", "nofile"), ("core", "core"), ("data", "data"),
                                ("addrspace", "as")):
        defs.append(SettingDef(f"rlimit-{name}", Kind.KEYED, Value.RLIMIT, "rlimits",
                               rlimit=resource_name, applies_to=proc))
    notes = {"pid-file": "keep the daemon in the foreground and use type = process",
             "prepared-by": "use depends-on", "consumer-of": "use log-type = buffer or file"}
    for name in ("pid-file", "socket-listen", "socket-permissions", "socket-uid", "socket-gid",
                 "consumer-of", "prepared-by", "run-in-cgroup", "capabilities", "securebits",
                 "ioprio", "logfile-uid", "logfile-gid", "cpu-affinity"):
        ops = _APPEND if name in ("capabilities", "securebits") else _ASSIGN
        defs.append(SettingDef(name, Kind.UNSUPPORTED, ops=ops, note=notes.get(name, "")))
    for name in ("inittab-id", "inittab-line"):
        defs.append(SettingDef(name, Kind.IGNORED))
    return defs


SETTINGS: dict[str, SettingDef] = {d.name: d for d in _defs()}
ALIASES = {"termsignal": "term-signal"}  # dinit's old spelling


def default(name: str) -> Any:
    """The default of setting `name` (for `ServiceSpec`'s fields)."""
    definition = SETTINGS[name]
    assert definition.has_default, f"{name} has no default"
    return definition.default


def suggestion(name: str) -> str:
    """", did you mean depends-on?" for a misspelt setting name, else ""."""
    import difflib
    wanted = name.replace("_", "-").lower()
    # A ratio (2 * matches / total length) of 0.75 or more needs 8 * shorter >= 3 * total:
    # only such names are compared, which keeps a file of thousands of unknown settings
    # fast to check.
    known = [n for n, d in SETTINGS.items() if d.kind is not Kind.IGNORED
             and 8 * min(len(n), len(wanted)) >= 3 * (len(n) + len(wanted))]
    close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.75)
    return f"; did you mean {close[0]}?" if close else ""


def lookup(name: str) -> SettingDef | None:
    """The definition of a setting as written (aliases resolved), or None if unknown."""
    return SETTINGS.get(ALIASES.get(name, name))
