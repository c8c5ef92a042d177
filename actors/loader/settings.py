"""THE one place for setting names: what each accepts and how its value is checked.

`SETTINGS` maps every setting a description may use to a `SettingDef`: the operators it takes,
how its value is read (`Kind`), which substitution applies (`Subst`), the draft field it fills,
and ONE small parser that turns the value into that field's value or raises `BadValue` with a
message naming the bad value. Names and meanings are dinit's (dinit-service(5); the operator
columns are those of dinit's `src/settings.cc`), plus zeroinit's `instances`.

Operators: dinit only ever refuses `+=` where it is not allowed; `=` and `:` are taken
interchangeably (dinit maps `=` to `:` for the `:`-only dependency settings, which is why its own
tests write `depends-on = x`). We do the same; `ops` still records what dinit documents.

Nothing here reads service files; `dinit_service.py` applies these definitions line by line.
"""

from __future__ import annotations

import enum
import os
import pwd
import re
import resource
from dataclasses import dataclass
from typing import Any, Callable

from actors import signames
from actors.loader.errors import BadValue
from actors.loader.spec import (
    OPTION_ALWAYS_CHAIN, OPTION_SIGNAL_PROCESS_ONLY, OPTION_SKIPPABLE, OPTION_START_INTERRUPTIBLE,
    DepKind, LogType, ReadyKind, ReadyNotification, RestartPolicy, RunAs, ServiceType,
    is_valid_service_name,
)


class Kind(enum.Enum):
    """How a setting's value is read and how repeated lines combine."""

    VALUE = "value"          # the words joined by one space; a later line replaces it
    COMMAND = "command"      # the words are arguments; `=` replaces, `+=` appends
    LINK = "link"            # one service name; every line adds a link
    LINK_DIR = "link-dir"    # a directory whose entries' names are links (dinit's `*.d`)
    FLAGS = "flags"          # each word is a flag; every line adds to the set
    KEYED = "keyed"          # parse() gives (key, ...); a later line replaces the same key
    UNSUPPORTED = "unsupported"  # a dinit setting zeroinit does not implement: an error
    IGNORED = "ignored"      # a dinit setting with no effect in zeroinit: a warning


class Subst(enum.Enum):
    """Which variables a value may use (dinit-service(5), "VARIABLE SUBSTITUTION")."""

    NONE = "none"        # taken literally
    PRELOAD = "preload"  # the supervisor's environment and $1, not the env-file
    LOAD = "load"        # also the env-file and load-options variables


class Warned:
    """A parser's result that is accepted with a warning (the value is still used)."""

    def __init__(self, value: Any, warning: str) -> None:
        self.value = value
        self.warning = warning


PROCESS_TYPES = frozenset({ServiceType.PROCESS, ServiceType.SCRIPTED})
ONLY_PROCESS = frozenset({ServiceType.PROCESS})
ALL_TYPES = frozenset(ServiceType)


@dataclass(frozen=True, slots=True)
class SettingDef:
    """One setting: everything the description reader needs to apply a line of it."""

    name: str
    kind: Kind
    ops: frozenset[str] = frozenset({"="})
    field: str | None = None            # the draft field (a ServiceSpec field, or a loader one)
    parse: Callable[[str], Any] | None = None
    subst: Subst = Subst.NONE
    link: DepKind | None = None         # for LINK and LINK_DIR
    relative_to: str | None = None      # "description" or "fragment": where a relative path resolves
    applies_to: frozenset[ServiceType] = ALL_TYPES  # elsewhere it is ignored, with a warning
    note: str = ""                      # for UNSUPPORTED: what to use instead


# ---------------------------------------------------------------------------------------------
# Parsers: one per kind of value. Each returns the field's value or raises BadValue.
# ---------------------------------------------------------------------------------------------

_UNSUPPORTED_TYPES = {
    "bgprocess": "run the daemon in the foreground (most have a flag for it) with type = process",
    "triggered": "use an internal service and start it with 'zeroctl start' when the event happens",
}


def parse_type(value: str) -> ServiceType:
    if value in _UNSUPPORTED_TYPES:
        raise BadValue(f"type '{value}' is not supported by zeroinit; {_UNSUPPORTED_TYPES[value]}")
    try:
        return ServiceType(value)
    except ValueError:
        raise BadValue(f"expected process, scripted or internal, got '{value}'") from None


def parse_restart(value: str) -> RestartPolicy:
    policies = {"yes": RestartPolicy.YES, "true": RestartPolicy.YES, "no": RestartPolicy.NO,
                "false": RestartPolicy.NO, "on-failure": RestartPolicy.ON_FAILURE}
    if value not in policies:
        raise BadValue(f"expected yes, true, on-failure, no or false, got '{value}'")
    return policies[value]


def parse_bool(value: str) -> bool:
    if value in ("yes", "true"):
        return True
    if value in ("no", "false"):
        return False
    raise BadValue(f"expected yes, true, no or false, got '{value}'")


_SECONDS = re.compile(r"(\d+([.,]\d*)?|[.,]\d+)")


def parse_seconds(value: str) -> float:
    # dinit's parse_timespec: decimal seconds, '.' or ',' before the fraction, never negative.
    if not _SECONDS.fullmatch(value) or len(value) > 20:
        raise BadValue(f"expected a number of seconds, got '{value}'")
    return float(value.replace(",", "."))


def _whole(value: str, low: int, high: int, what: str) -> int:
    # (At most 19 digits: int() of a huge string is slow, or refused by Python.)
    if not re.fullmatch(r"[+-]?\d{1,19}", value) or not low <= int(value) <= high:
        raise BadValue(f"expected {what}, got '{value}'")
    return int(value)


def parse_count(value: str) -> int:
    return _whole(value, 0, 2**31 - 1, "a whole number, 0 or more")


def parse_instances(value: str) -> int:
    return _whole(value, 1, 100_000, "a whole number of instances, 1 or more")


def parse_nice(value: str) -> int | Warned:
    number = _whole(value, -(2**31), 2**31 - 1, "a whole number")
    # dinit-service(5): an out-of-range nice value is clamped to what the system supports.
    clamped = min(max(number, -20), 19)
    return number if clamped == number else Warned(clamped, f"{number} is out of range; using "
                                                            f"{clamped}")


def parse_oom_score_adj(value: str) -> int:
    return _whole(value, -1000, 1000, "a whole number from -1000 to 1000")


def parse_mode(value: str) -> int:
    if not re.fullmatch(r"[0-7]{1,4}", value):
        raise BadValue(f"expected an octal mode such as 600, got '{value}'")
    return int(value, 8)


def parse_signal(value: str) -> str | None:
    if value in ("none", "NONE"):
        return None
    try:
        return signames.normalise(value)
    except ValueError as exc:
        raise BadValue(str(exc)) from None


def parse_log_type(value: str) -> LogType:
    if value == "pipe":
        raise BadValue("log-type 'pipe' is not supported by zeroinit (there is no consumer-of); "
                       "use buffer or file")
    try:
        return LogType(value)
    except ValueError:
        raise BadValue(f"expected file, buffer, none or inherit, got '{value}'") from None


def parse_ready(value: str) -> ReadyNotification:
    kind, sep, arg = value.partition(":")
    if kind == "pipefd" and sep:
        if not re.fullmatch(r"\d{1,10}", arg) or int(arg) > 2**31 - 1:
            raise BadValue(f"pipefd: expected a file descriptor number, got '{arg}'")
        return ReadyNotification(ReadyKind.PIPEFD, fd=int(arg))
    if kind == "pipevar" and sep:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", arg):
            raise BadValue(f"pipevar: expected an environment variable name, got '{arg}'")
        return ReadyNotification(ReadyKind.PIPEVAR, var=arg)
    raise BadValue(f"expected pipefd:N or pipevar:NAME, got '{value}'")


def parse_run_as(value: str) -> RunAs:
    # dinit: a number is a uid (gid kept, supplementary groups dropped); a name brings its
    # primary group and supplementary groups (initgroups).
    if re.fullmatch(r"\d+", value):
        if len(value) > 10 or int(value) >= 2**32 - 1:
            raise BadValue(f"uid {value} is out of range")
        return RunAs(int(value), None, ())
    if not value or value[0].isdigit():
        raise BadValue(f"expected a user name or a numeric uid, got '{value}'")
    try:
        entry = pwd.getpwnam(value)
        groups = os.getgrouplist(value, entry.pw_gid)
    except KeyError:
        raise BadValue(f"unknown user '{value}'") from None
    except OSError as exc:
        raise BadValue(f"cannot look up user '{value}': {exc.strerror or exc}") from None
    return RunAs(entry.pw_uid, entry.pw_gid, tuple(groups), name=value)


def parse_service_name(value: str) -> str:
    if not is_valid_service_name(value):
        raise BadValue(f"invalid service name '{value}'")
    return value


def parse_path(value: str) -> str:
    if not value:
        raise BadValue("expected a path, got ''")
    return value


_LIMIT = re.compile(r"|-|\d{1,19}")


def _rlimit_parser(key: str, resource_id: int) -> Callable[[str], tuple[str, int, int]]:
    def parse(value: str) -> tuple[str, int, int]:
        # dinit-service(5) "RESOURCE LIMITS": SOFT:HARD; an omitted side is left as it is
        # (the supervisor's own limit, read now); '-' is unlimited (-1); one value sets both.
        soft_text, colon, hard_text = value.partition(":")
        if not colon:
            hard_text = soft_text
        if not value or not (_LIMIT.fullmatch(soft_text) and _LIMIT.fullmatch(hard_text)):
            raise BadValue(f"expected SOFT:HARD (numbers, or '-' for unlimited), got '{value}'")
        current = [-1 if v == resource.RLIM_INFINITY else v
                   for v in resource.getrlimit(resource_id)]
        soft, hard = (_limit(soft_text, current[0]), _limit(hard_text, current[1]))
        if hard != -1 and (soft == -1 or soft > hard):
            raise BadValue(f"the soft limit is above the hard limit in '{value}'")
        return (key, soft, hard)
    return parse


def _limit(text: str, current: int) -> int:
    return current if text == "" else -1 if text == "-" else int(text)


# ---------------------------------------------------------------------------------------------
# `options` and `load-options`
# ---------------------------------------------------------------------------------------------

# dinit-service(5) "OPTIONS": the ones zeroinit acts on ...
ACTED_ON_OPTIONS = frozenset({OPTION_SIGNAL_PROCESS_ONLY, OPTION_START_INTERRUPTIBLE,
                              OPTION_ALWAYS_CHAIN, OPTION_SKIPPABLE})
# ... and the ones about dinit's console, control socket or host, which mean nothing here.
IGNORED_OPTIONS = frozenset({"runs-on-console", "starts-on-console", "shares-console",
                             "unmask-intr", "starts-rwfs", "starts-log", "pass-cs-fd",
                             "kill-all-on-stop", "no-new-privs"})
LOAD_OPTIONS = frozenset({"export-passwd-vars", "export-service-name", "sub-vars"})


def parse_option(word: str) -> str | Warned:
    if word in IGNORED_OPTIONS:
        return Warned(word, f"option '{word}' is ignored by zeroinit")
    if word not in ACTED_ON_OPTIONS:
        raise BadValue(f"unknown option '{word}'")
    return word


def parse_load_option(word: str) -> str:
    if word not in LOAD_OPTIONS:
        raise BadValue(f"unknown load option '{word}'")
    return word


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------

_ASSIGN = frozenset({"="})
_APPEND = frozenset({"=", "+="})
_COLON = frozenset({":"})
_EITHER = frozenset({"=", ":"})


def _defs() -> list[SettingDef]:
    v, link = Kind.VALUE, Kind.LINK
    pre, load = Subst.PRELOAD, Subst.LOAD
    proc = PROCESS_TYPES
    defs = [
        SettingDef("type", v, field="type", parse=parse_type),
        SettingDef("command", Kind.COMMAND, _APPEND, "command", subst=load, applies_to=proc),
        SettingDef("stop-command", Kind.COMMAND, _APPEND, "stop_command", subst=load,
                   applies_to=proc),
        SettingDef("working-dir", v, field="working_dir", parse=parse_path, subst=load,
                   relative_to="description", applies_to=proc),
        SettingDef("env-file", v, field="env_file", parse=parse_path, subst=pre,
                   relative_to="fragment"),
        SettingDef("run-as", v, field="run_as", parse=parse_run_as, applies_to=proc),
        SettingDef("term-signal", v, field="term_signal", parse=parse_signal),
        SettingDef("restart", v, field="restart", parse=parse_restart),
        SettingDef("smooth-recovery", v, field="smooth_recovery", parse=parse_bool,
                   applies_to=ONLY_PROCESS),
        SettingDef("restart-delay", v, field="restart_delay", parse=parse_seconds),
        SettingDef("restart-limit-interval", v, field="restart_limit_interval",
                   parse=parse_seconds),
        SettingDef("restart-limit-count", v, field="restart_limit_count", parse=parse_count),
        SettingDef("start-timeout", v, field="start_timeout", parse=parse_seconds),
        SettingDef("stop-timeout", v, field="stop_timeout", parse=parse_seconds),
        SettingDef("logfile", v, field="logfile", parse=parse_path, subst=load,
                   relative_to="description", applies_to=proc),
        SettingDef("logfile-permissions", v, field="logfile_mode", parse=parse_mode,
                   applies_to=proc),
        SettingDef("log-type", v, field="log_type", parse=parse_log_type, applies_to=proc),
        SettingDef("log-buffer-size", v, field="log_buffer_size", parse=parse_count,
                   applies_to=proc),
        SettingDef("ready-notification", v, field="ready_notification", parse=parse_ready,
                   applies_to=ONLY_PROCESS),
        SettingDef("chain-to", v, field="chain_to", parse=parse_service_name, subst=pre),
        SettingDef("options", Kind.FLAGS, _EITHER, "options", parse=parse_option),
        SettingDef("load-options", Kind.FLAGS, _EITHER, "load_options", parse=parse_load_option),
        SettingDef("nice", v, field="nice", parse=parse_nice, applies_to=proc),
        SettingDef("oom-score-adj", v, field="oom_score_adj", parse=parse_oom_score_adj,
                   applies_to=proc),
        SettingDef("instances", v, field="instances", parse=parse_instances),  # zeroinit's own
    ]
    for name, kind in (("depends-on", DepKind.REGULAR), ("depends-ms", DepKind.MILESTONE),
                       ("waits-for", DepKind.WAITS_FOR), ("after", DepKind.AFTER),
                       ("before", DepKind.BEFORE)):
        defs.append(SettingDef(name, link, _COLON, parse=parse_service_name, subst=pre,
                               link=kind))
    for name, kind in (("depends-on.d", DepKind.REGULAR), ("depends-ms.d", DepKind.MILESTONE),
                       ("waits-for.d", DepKind.WAITS_FOR)):
        defs.append(SettingDef(name, Kind.LINK_DIR, _COLON, parse=parse_path, subst=pre,
                               link=kind, relative_to="fragment"))
    for name, rid in (("nofile", resource.RLIMIT_NOFILE), ("core", resource.RLIMIT_CORE),
                      ("data", resource.RLIMIT_DATA), ("addrspace", resource.RLIMIT_AS)):
        # The key is the resource module's name (RLIMIT_AS for addrspace), which the watcher uses.
        key = "as" if name == "addrspace" else name
        defs.append(SettingDef(f"rlimit-{name}", Kind.KEYED, field="rlimits",
                               parse=_rlimit_parser(key, rid), applies_to=proc))
    notes = {"pid-file": "keep the daemon in the foreground and use type = process",
             "prepared-by": "use depends-on", "consumer-of": "use log-type = buffer or file"}
    for name in ("pid-file", "socket-listen", "socket-permissions", "socket-uid", "socket-gid",
                 "consumer-of", "prepared-by", "run-in-cgroup", "capabilities", "securebits",
                 "ioprio", "logfile-uid", "logfile-gid", "cpu-affinity"):
        ops = _APPEND if name in ("capabilities", "securebits") else _ASSIGN
        defs.append(SettingDef(name, Kind.UNSUPPORTED, ops, note=notes.get(name, "")))
    for name in ("inittab-id", "inittab-line"):
        defs.append(SettingDef(name, Kind.IGNORED))
    return defs


SETTINGS: dict[str, SettingDef] = {d.name: d for d in _defs()}
ALIASES = {"termsignal": "term-signal"}  # dinit's old spelling


def lookup(name: str) -> SettingDef | None:
    """The definition of a setting as written (aliases resolved), or None if unknown."""
    return SETTINGS.get(ALIASES.get(name, name))


def check_operator(definition: SettingDef, op: str) -> None:
    """BadValue if `op` is `+=` on a setting that does not append (dinit refuses only that)."""
    if op == "+=" and "+=" not in definition.ops:
        raise BadValue("'+=' can only be used with command and stop-command")
