"""One `[program:x]` section -> the lines of its zeroinit service description(s).

The mapping, setting by setting (what has no counterpart becomes a `Note`):

    command           command (split as supervisord splits it: shell words, no shell)
    directory         working-dir          (default: [supervisord] directory)
    user              run-as               (default: [supervisord] user)
    environment       env-file             ([supervisord] environment, then the program's)
    autorestart       restart: true -> yes, false -> no, unexpected (default) -> on-failure
    startretries      restart-limit-count  (0 has no counterpart: 1 is written)
    stopsignal        term-signal
    stopwaitsecs      stop-timeout
    stopasgroup       false -> options = signal-process-only; true is zeroinit's default
    stdout_logfile    a path -> logfile; AUTO (default) -> log-type = buffer (`zeroctl logs`);
                      NONE -> nothing kept; /dev/stdout, /dev/fd/1 -> log-type = inherit
    stdout_logfile_maxbytes / _backups  logfile-max-size / logfile-keep (supervisord's defaults,
                      50 MB and 10, apply when they are not set)
    numprocs          instances = N (a pool: NAME@0 ... NAME@N-1, `%(process_num)d` -> `$1`)

`priority` and `autostart` are read here but applied by `convert.py` (ordering between
programs, and `boot`). zeroinit keeps one log per service, so stderr always goes with stdout,
as with `redirect_stderr = true`.
"""

from __future__ import annotations

import pwd
import shlex
import socket
from dataclasses import dataclass, field
from typing import Mapping

from actors import signames
from actors.convert.dinit_text import Line, Unwritable
from actors.convert.supervisord_conf import (
    ConfError, Note, Section, expand, expansions, parse_bool, parse_env_pairs, parse_int,
    parse_list, parse_size)

SUBSTITUTED = frozenset({"command", "working-dir", "logfile", "env-file"})
_INHERIT = frozenset({"/dev/stdout", "/dev/fd/1", "/dev/stderr", "/dev/fd/2"})
_RESTART = {"true": "yes", "false": "no", "unexpected": "on-failure"}

# Settings that only matter when set to something other than supervisord's default, and why
# zeroinit cannot follow them: (default, why).
_UNMAPPED = {
    "umask": (None, "zeroinit has no umask setting; the program inherits zeroinit's"),
    "serverurl": ("auto", "there is no supervisord XML-RPC server to point the program at"),
    "stdout_capture_maxbytes": ("0", "capture mode exists only for supervisord's event "
                                "listeners"),
    "stderr_capture_maxbytes": ("0", "capture mode exists only for supervisord's event "
                                "listeners"),
    "stdout_events_enabled": ("false", "zeroinit has no event listeners; `zeroctl events` "
                              "streams state changes"),
    "stderr_events_enabled": ("false", "zeroinit has no event listeners; `zeroctl events` "
                              "streams state changes"),
    "stdout_syslog": ("false", "zeroinit does not write to syslog; log-type = inherit hands "
                      "the output to zeroinit's own stdout"),
    "stderr_syslog": ("false", "zeroinit does not write to syslog"),
}
_READ_HERE = frozenset({
    "command", "process_name", "numprocs", "numprocs_start", "priority", "autostart",
    "startsecs", "startretries", "autorestart", "exitcodes", "stopsignal", "stopwaitsecs",
    "stopasgroup", "killasgroup", "user", "redirect_stderr", "stdout_logfile",
    "stdout_logfile_maxbytes", "stdout_logfile_backups", "stderr_logfile",
    "stderr_logfile_maxbytes", "stderr_logfile_backups", "environment", "directory"})


@dataclass(slots=True)
class Defaults:
    """What `[supervisord]` gives every program."""

    environ: Mapping[str, str]                         # the environment ENV_X expands from
    env: dict[str, str] = field(default_factory=dict)  # [supervisord] environment
    directory: str | None = None
    user: str | None = None


@dataclass(slots=True)
class Settings:
    """One process's service lines and environment (before ordering is added)."""

    lines: list[Line]
    env: dict[str, str]


class ProgramReader:
    """Reads one program section; `settings(num)` gives the lines for process number `num`.
    Notes are collected on the first call only (every process has the same ones)."""

    def __init__(self, section: Section, group: str | None, defaults: Defaults) -> None:
        self.section, self.defaults, self.name = section, defaults, section.title
        self.notes: list[Note] = []
        self.noting = True  # only the first process's notes are kept: they are all alike
        self.table = expansions(defaults.environ, here=section.here, program_name=self.name,
                                group_name=group or self.name,
                                host_node_name=socket.gethostname())
        self.numprocs = parse_int(self.get("numprocs", "1"), section.where("numprocs"), low=1)
        self.table["numprocs"] = self.numprocs
        self.numprocs_start = parse_int(self.get("numprocs_start", "0"),
                                        section.where("numprocs_start"))
        self.priority = parse_int(self.get("priority", "999"), section.where("priority"))
        self.autostart = parse_bool(self.get("autostart", "true"), section.where("autostart"))

    # --- reading ------------------------------------------------------------------------------

    def get(self, key: str, default: str | None = None) -> str | None:
        raw = self.section.values.get(key)
        if raw is None:
            return default
        return expand(raw, self.table, self.section.where(key))

    def note(self, key: str, message: str) -> None:
        if self.noting:
            self.notes.append(Note(self.section.where(key), message))

    def is_set(self, key: str) -> bool:
        return key in self.section.values

    # --- one process --------------------------------------------------------------------------

    def settings(self, num: int) -> Settings:
        self.table["process_num"] = num
        lines = [Line("type", ("process",)), self._command()]
        directory = self.get("directory", self.defaults.directory)
        if directory:
            lines.append(Line("working-dir", (directory,), True))
        user = self.get("user", self.defaults.user)
        if user:
            lines.append(Line("run-as", (user,)))
            self._check_user(user)
        lines += self._restarts() + self._stopping() + self._logs()
        env = dict(self.defaults.env)
        if self.is_set("environment"):
            env.update(parse_env_pairs(self.get("environment"), self.section.where("environment")))
        self._unmapped()
        self.noting = False
        return Settings(lines, env)

    def _command(self) -> Line:
        where = self.section.where("command")
        text = self.get("command")
        if text is None or not text.strip():
            raise ConfError(f"{self.section.where()}: has no 'command'")
        try:
            words = tuple(shlex.split(text))
        except ValueError as exc:
            raise ConfError(f"{where}: cannot split {text!r} into words: {exc}") from None
        line = Line("command", words, True)
        try:
            line.render()
        except Unwritable as exc:
            raise ConfError(f"{where}: {exc}") from None
        return line

    def _check_user(self, user: str) -> None:
        if user.isdigit():
            return
        try:
            pwd.getpwnam(user)
        except KeyError:
            self.note("user", f"user '{user}' does not exist here: `zeroctl check` reports "
                      "run-as until it does")

    def _restarts(self) -> list[Line]:
        s = self.section
        policy = (self.get("autorestart", "unexpected") or "").strip().lower()
        policy = "true" if policy in ("yes", "on", "1") else \
            "false" if policy in ("no", "off", "0") else policy
        if policy not in _RESTART:
            raise ConfError(f"{s.where('autorestart')}: expected true, false or unexpected, "
                            f"got {self.get('autorestart')!r}")
        codes = [parse_int(c, s.where("exitcodes")) for c in
                 parse_list(self.get("exitcodes", "0"))]
        others = ", ".join(str(c) for c in codes if c != 0)
        if others:
            self.note("exitcodes", f"not converted: zeroinit expects only exit 0; exit "
                      f"{others} will count as a failure (restarted under on-failure, shown "
                      "as failed)")
        elif 0 not in codes:
            self.note("exitcodes", "not converted: zeroinit always expects exit 0")
        startsecs = parse_int(self.get("startsecs", "1"), s.where("startsecs"))
        if self.is_set("startsecs") and startsecs > 0:
            self.note("startsecs", f"not converted: zeroinit counts a process started as soon "
                      f"as it runs, not after {startsecs} s up; the process can signal "
                      "readiness with ready-notification instead")
        retries = parse_int(self.get("startretries", "3"), s.where("startretries"))
        if retries == 0:
            self.note("startretries", "0 has no counterpart (restart-limit-count = 0 means no "
                      "limit in zeroinit); restart-limit-count = 1 written")
        return [Line("restart", (_RESTART[policy],)),
                Line("restart-limit-count", (str(max(retries, 1)),))]

    def _stopping(self) -> list[Line]:
        s = self.section
        signal = self.get("stopsignal", "TERM").strip()
        try:
            signal = signames.normalise(signal).removeprefix("SIG")
        except ValueError:
            raise ConfError(f"{s.where('stopsignal')}: unknown signal {signal!r}") from None
        wait = parse_int(self.get("stopwaitsecs", "10"), s.where("stopwaitsecs"))
        if wait == 0:
            self.note("stopwaitsecs", "0 means no limit in zeroinit; stop-timeout = 0.1 written")
        lines = [Line("term-signal", (signal,)), Line("stop-timeout", (str(wait or 0.1),))]
        as_group = self.is_set("stopasgroup") and parse_bool(self.get("stopasgroup"),
                                                             s.where("stopasgroup"))
        if self.is_set("stopasgroup") and not as_group:
            lines.append(Line("options", ("signal-process-only",)))
        if self.is_set("killasgroup") and not as_group and \
                not parse_bool(self.get("killasgroup"), s.where("killasgroup")):
            self.note("killasgroup", "not converted: zeroinit's SIGKILL after stop-timeout "
                      "always goes to the whole process group")
        return lines

    def _logs(self) -> list[Line]:
        s = self.section
        target = (self.get("stdout_logfile", "AUTO") or "").strip()
        redirect = self.is_set("redirect_stderr") and parse_bool(
            self.get("redirect_stderr"), s.where("redirect_stderr"))
        if not redirect:
            self._separate_stderr(target)
        kind = target.lower()
        if kind in ("none", ""):
            return [Line("log-type", ("none",))]
        if kind == "auto":
            return [Line("log-type", ("buffer",))]
        if kind == "syslog":
            self.note("stdout_logfile", "not converted: zeroinit does not write to syslog; "
                      "log-type = buffer written (see `zeroctl logs`)")
            return [Line("log-type", ("buffer",))]
        if target in _INHERIT:
            return [Line("log-type", ("inherit",))]
        lines = [Line("logfile", (target,), True)]
        size = parse_size(self.get("stdout_logfile_maxbytes", "50MB"),
                          s.where("stdout_logfile_maxbytes"))
        keep = parse_int(self.get("stdout_logfile_backups", "10"),
                         s.where("stdout_logfile_backups"))
        if size > 0:
            lines += [Line("logfile-max-size", (str(size),)), Line("logfile-keep", (str(keep),))]
        return lines

    def _separate_stderr(self, stdout_target: str) -> None:
        stderr_target = self.get("stderr_logfile")
        if stderr_target is None or stderr_target.strip() == stdout_target:
            return
        self.note("stderr_logfile", f"not converted: zeroinit keeps one log per service, so "
                  f"stderr goes where stdout goes ({stdout_target}), as with redirect_stderr")
        for key in ("stderr_logfile_maxbytes", "stderr_logfile_backups"):
            if self.is_set(key):
                self.note(key, "not converted: stderr shares stdout's log (see stderr_logfile)")

    def _unmapped(self) -> None:
        for key, raw in self.section.values.items():
            if key in _UNMAPPED:
                default, why = _UNMAPPED[key]
                if default is None or raw.strip().lower() != default:
                    self.note(key, f"not converted: {why}")
            elif key not in _READ_HERE:
                self.note(key, "not converted: not a setting of supervisord's [program:x]")
