"""Reading one setting's value: one small parser per `Value` kind of `settings.py`.

Each parser takes the value as written (words joined by one space) and returns what goes into
the spec's field, or raises `BadValue` with a message naming the bad value; a value accepted
with a warning comes back `Warned`. `parse(definition, text)` picks the parser. Nothing here
knows which setting it reads, except through its definition.
"""

from __future__ import annotations

import os
import pwd
import re
import resource
from typing import Any, Callable

from actors import signames
from actors.loader.errors import BadValue
from actors.loader.kinds import (ACTED_ON_OPTIONS, IGNORED_OPTIONS, LOAD_OPTIONS, LogType,
                                 ReadyKind, ReadyNotification, RestartPolicy, RunAs, ServiceType)
from actors.loader.settings import SettingDef, Value
from actors.loader.spec import is_valid_service_name


class Warned:
    """A parser's result that is accepted with a warning (the value is still used)."""

    def __init__(self, value: Any, warning: str) -> None:
        self.value = value
        self.warning = warning


def parse(definition: SettingDef, text: str) -> Any:
    """The field value of `text` for `definition`; BadValue, or a `Warned` value."""
    if definition.value is Value.RLIMIT:
        return parse_rlimit(definition.rlimit, text)
    return _PARSERS[definition.value](text)


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
    if len(value) > 20 or not _SECONDS.fullmatch(value):
        raise BadValue(f"expected a number of seconds, got '{value}'")
    return float(value.replace(",", "."))


def _whole(value: str, low: int, high: int, what: str) -> int:
    # (At most 19 digits: int() of a huge string is slow, or refused by Python.)
    if len(value) > 20 or not re.fullmatch(r"[+-]?\d{1,19}", value) \
            or not low <= int(value) <= high:
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


_SIZE = re.compile(r"(\d{1,19})([KMG]?)B?", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(value: str) -> int:
    # Binary multiples, as supervisord's logfile_maxbytes (whose "50MB" is taken too).
    match = _SIZE.fullmatch(value)
    size = int(match[1]) * _SIZE_UNITS[match[2].upper()] if match else 0
    if not 1 <= size <= 1 << 62:
        raise BadValue(f"expected a size in bytes, 1 or more, with an optional K, M or G, "
                       f"got '{value}'")
    return size


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
    if value == "notify":
        return ReadyNotification(ReadyKind.NOTIFY)
    kind, sep, arg = value.partition(":")
    if kind == "pipefd" and sep:
        if not re.fullmatch(r"\d{1,10}", arg) or int(arg) > 2**31 - 1:
            raise BadValue(f"pipefd: expected a file descriptor number, got '{arg}'")
        return ReadyNotification(ReadyKind.PIPEFD, fd=int(arg))
    if kind == "pipevar" and sep:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", arg):
            raise BadValue(f"pipevar: expected an environment variable name, got '{arg}'")
        return ReadyNotification(ReadyKind.PIPEVAR, var=arg)
    raise BadValue(f"expected pipefd:N, pipevar:NAME or notify, got '{value}'")


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


_LIMIT = re.compile(r"|-|\d{1,19}")


def parse_rlimit(key: str, value: str) -> tuple[str, int, int]:
    """dinit-service(5) "RESOURCE LIMITS": SOFT:HARD; an omitted side is left as it is (the
    supervisor's own limit, read now); '-' is unlimited (-1); one value sets both."""
    soft_text, colon, hard_text = value.partition(":")
    if not colon:
        hard_text = soft_text
    if not value or not (_LIMIT.fullmatch(soft_text) and _LIMIT.fullmatch(hard_text)):
        raise BadValue(f"expected SOFT:HARD (numbers, or '-' for unlimited), got '{value}'")
    current = [-1 if v == resource.RLIM_INFINITY else v
               for v in resource.getrlimit(getattr(resource, f"RLIMIT_{key.upper()}"))]
    soft, hard = (_limit(soft_text, current[0]), _limit(hard_text, current[1]))
    if hard != -1 and (soft == -1 or soft > hard):
        raise BadValue(f"the soft limit is above the hard limit in '{value}'")
    return (key, soft, hard)


def _limit(text: str, current: int) -> int:
    return current if text == "" else -1 if text == "-" else int(text)


_PARSERS: dict[Value, Callable[[str], Any]] = {
    Value.TYPE: parse_type, Value.RESTART: parse_restart, Value.BOOL: parse_bool,
    Value.SECONDS: parse_seconds, Value.COUNT: parse_count, Value.INSTANCES: parse_instances,
    Value.NICE: parse_nice, Value.OOM_SCORE_ADJ: parse_oom_score_adj, Value.MODE: parse_mode,
    Value.SIZE: parse_size, Value.SIGNAL: parse_signal, Value.LOG_TYPE: parse_log_type,
    Value.READY: parse_ready,
    Value.RUN_AS: parse_run_as, Value.SERVICE_NAME: parse_service_name, Value.PATH: parse_path,
    Value.OPTION: parse_option, Value.LOAD_OPTION: parse_load_option,
}
assert set(_PARSERS) | {Value.RLIMIT} == set(Value), "a Value kind without a parser"


def check_operator(definition: SettingDef, op: str) -> None:
    """BadValue if `op` is `+=` on a setting that does not append (dinit refuses only that)."""
    if op == "+=" and "+=" not in definition.ops:
        raise BadValue("'+=' can only be used with command and stop-command")
