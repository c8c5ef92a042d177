"""supervisord.conf -> a zeroinit services directory: the whole-file decisions.

* Each `[program:x]` gives the service `x` (see programs.py for its settings). With
  `numprocs = N > 1` it is a pool (`instances = N`): its instances are `x@0` ... `x@N-1`, and
  `%(process_num)d` becomes `$1`. Where `$1` cannot say what supervisord would (a format such
  as `%(process_num)02d`, `numprocs_start`, the number in an environment value), each instance
  also gets a file of its own, `x@I`, with its exact values; `x` keeps `$1` for
  `zeroctl scale`.
* Each `[group:g]` gives an internal service `g` that waits for its programs, so that
  `zeroctl start g` starts them all.
* `priority` becomes ordering: supervisord starts groups by ascending priority (a program
  outside any group is its own group), then programs within a group by their own. Each
  program is written `after` every program that supervisord starts before it.
* `boot` (internal) waits for every program with `autostart = true` (the default).
* The environment of a program goes to an env-file in `.environment/` (a hidden directory,
  which the loader never takes for a service).
* `[supervisord]` gives its `environment`, `directory` and `user` to every program; its other
  settings, and the sections of supervisorctl, the HTTP servers, event listeners and FastCGI
  programs, are listed as not converted.

`convert(path, environ)` builds every file in memory and raises `ConfError` before anything
is written; `write(files, directory)` then writes them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from actors.convert.dinit_text import Line, Unwritable, describe, env_file
from actors.convert.programs import SUBSTITUTED, Defaults, ProgramReader, Settings
from actors.convert.supervisord_conf import (
    ConfError, Conf, Note, Section, expand, expansions, parse_env_pairs, parse_int, parse_list,
    read_conf)
from actors.loader.spec import is_valid_service_name

ENV_DIR = ".environment"
_SENTINEL = 7_316_492_058  # stands for the process number while looking for `$1`

_DAEMON_WHY = {
    "pidfile": "zeroinit writes no pid file",
    "nodaemon": "zeroinit always runs in the foreground",
    "silent": "zeroinit always runs in the foreground",
    "logfile": "zeroinit reports on its stdout (and `zeroctl events`)",
    "logfile_maxbytes": "zeroinit reports on its stdout (and `zeroctl events`)",
    "logfile_backups": "zeroinit reports on its stdout (and `zeroctl events`)",
    "loglevel": "zeroinit reports on its stdout (and `zeroctl events`)",
    "childlogdir": "AUTO logs become log-type = buffer: there are no child log files",
    "nocleanup": "AUTO logs become log-type = buffer: there are no child log files",
    "minfds": "set the limit on zeroinit itself, or rlimit-nofile per service",
    "umask": "zeroinit has no umask setting",
}
_SECTION_WHY = {
    "unix_http_server": "zeroctl talks to zeroinit's control socket (zeroinit -s)",
    "inet_http_server": "zeroctl talks to zeroinit's control socket (zeroinit -s)",
    "supervisorctl": "zeroctl talks to zeroinit's control socket (zeroinit -s)",
    "rpcinterface": "zeroinit has no XML-RPC interface (its protocol is docs/protocol.md)",
    "ctlplugin": "zeroctl has no plugins",
    "eventlistener": "zeroinit has no event listeners; `zeroctl events` streams state changes",
    "fcgi-program": "zeroinit does not open sockets for programs; run the program as a "
                    "[program] that listens itself",
}


@dataclass(slots=True)
class Conversion:
    files: dict[str, str]     # path relative to the output directory -> text
    services: list[str]       # the services written, in order
    notes: list[Note]


def convert(path: str, environ: Mapping[str, str]) -> Conversion:
    conf = read_conf(path, environ)
    notes = list(conf.notes)
    defaults = _defaults(conf, environ, notes)
    groups = {s.title: s for s in conf.sections if s.kind == "group"}
    programs = {s.title: s for s in conf.sections if s.kind == "program"}
    for section in conf.sections:
        if section.kind not in ("program", "group", "include", "supervisord"):
            why = _SECTION_WHY.get(section.kind, "not a supervisord section")
            notes.append(Note(section.where(), f"not converted: {why}"))
    members = _members(groups, programs, environ, notes)
    group_of = {p: g for g, ps in reversed(members.items()) for p in ps}
    readers = {name: ProgramReader(s, group_of.get(name), defaults)
               for name, s in programs.items()}
    files: dict[str, str] = {}
    services: list[str] = []
    order = _start_order(readers, groups, group_of, environ)
    for name, reader in readers.items():
        after = [Line("after", (other,)) for other in order[name]]
        services += _program_files(reader, after, files)
        notes += reader.notes
    for name, section in groups.items():
        files[name] = describe(f"[{section.name}] of {section.file} (zeroctl convert)",
                               [Line("waits-for", (p,)) for p in members[name]])
        services.append(name)
    boot = [Line("waits-for", (n,)) for n, r in readers.items() if r.autostart]
    files["boot"] = describe(f"every autostarted program of {conf.path} (zeroctl convert)", boot)
    services.append("boot")
    notes.sort(key=lambda n: (n.where.file != conf.path, n.where.file, n.where.line or 0))
    return Conversion(files, services, notes)


def write(files: Mapping[str, str], directory: str) -> None:
    """Write `files` under `directory` (created if need be); same-named files are replaced,
    nothing else there is touched. ConfError if a file cannot be written."""
    for relative, text in files.items():
        path = os.path.join(directory, relative)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(path + ".tmp", path)
        except OSError as exc:
            raise ConfError(f"cannot write {path}: {exc.strerror or exc}") from None


# --- the sections ------------------------------------------------------------------------------


def _defaults(conf: Conf, environ: Mapping[str, str], notes: list[Note]) -> Defaults:
    defaults = Defaults(environ)
    daemon = conf.section("supervisord")
    if daemon is None:
        return defaults
    table = expansions(environ, here=daemon.here)
    for key, raw in daemon.values.items():
        value = expand(raw, table, daemon.where(key))
        if key == "environment":
            defaults.env = parse_env_pairs(value, daemon.where(key))
        elif key == "directory":
            defaults.directory = value
        elif key == "user":
            defaults.user = value
        else:
            why = _DAEMON_WHY.get(key, "a setting of supervisord itself, with no counterpart")
            notes.append(Note(daemon.where(key), f"not converted: {why}"))
    return defaults


def _members(groups: dict[str, Section], programs: dict[str, Section],
             environ: Mapping[str, str], notes: list[Note]) -> dict[str, list[str]]:
    """Each group's programs; ConfError for a clash of names or a program that is missing."""
    for name, section in [*programs.items(), *groups.items()]:
        if not is_valid_service_name(name) or "@" in name:
            raise ConfError(f"{section.where()}: '{name}' cannot be a service name: use "
                            "letters, digits, '-', '_' and '.' (not first)")
        if name == "boot":
            raise ConfError(f"{section.where()}: 'boot' is the service that starts the "
                            "autostarted programs; rename this one")
        if name in programs and name in groups and section.kind == "group":
            raise ConfError(f"{section.where()}: a [program:{name}] has the same name; "
                            "rename one of them")
    members: dict[str, list[str]] = {}
    for name, section in groups.items():
        where = section.where("programs")
        table = expansions(environ, here=section.here)
        names = parse_list(expand(section.values.get("programs", ""), table, where))
        for program in names:
            if program not in programs:
                raise ConfError(f"{where}: no [program:{program}] to put in the group")
        members[name] = names
        notes += [Note(section.where(key), "not converted: not a setting of supervisord's "
                       "[group:x]") for key in section.values if key not in ("programs", "priority")]
    return members


def _start_order(readers: dict[str, ProgramReader], groups: dict[str, Section],
                 group_of: dict[str, str], environ: Mapping[str, str]) -> dict[str, list[str]]:
    """For each program, the programs supervisord starts before it."""
    def group_priority(name: str) -> int:
        section = groups[name]
        raw = expand(section.values.get("priority", "999"),
                     expansions(environ, here=section.here), section.where("priority"))
        return parse_int(raw, section.where("priority"))

    key = {name: (group_priority(group_of[name]) if name in group_of else r.priority,
                  r.priority) for name, r in readers.items()}
    ranked = sorted(readers, key=lambda n: key[n])
    return {name: [o for o in ranked if key[o] < key[name]] for name in readers}


# --- one program ---------------------------------------------------------------------------------


def _program_files(reader: ProgramReader, after: list[Line], files: dict[str, str]) -> list[str]:
    """Write the program's description(s) and env-file(s) into `files`; the service names."""
    name, count, start = reader.name, reader.numprocs, reader.numprocs_start
    origin = f"[{reader.section.name}] of {reader.section.file} (zeroctl convert)"
    try:
        if count == 1:
            first = reader.settings(start)
            files[name] = describe(origin, _with_env(first, name, files) + after)
            return [name]
        template = reader.settings(_SENTINEL)
        exact = [reader.settings(start + i) for i in range(count)]
        own_files = start != 0 or any(_instance(template, i) != exact[i] for i in range(count))
        lines = _template_lines(template, exact[0])
        files[name] = describe(origin, _with_env(Settings(lines, exact[0].env), name, files)
                               + after + [Line("instances", (str(count),))])
        if not own_files:
            return [name]
        reader.notes.append(Note(reader.section.where("process_name"), (
            f"{name}@0 ... {name}@{count - 1} get files of their own: $1 is the index from 0, "
            f"unformatted, which cannot say what %(process_num) says here; instances added by "
            f"`zeroctl scale` use {name}'s $1")))
        shared = all(e.env == exact[0].env for e in exact)
        for i, settings in enumerate(exact):
            env_name = name if shared else f"{name}@{i}"
            files[f"{name}@{i}"] = describe(origin, _with_env(settings, env_name, files) + after)
        return [name]
    except Unwritable as exc:
        raise ConfError(f"{reader.section.where()}: {exc}") from None


def _instance(template: Settings, index: int) -> Settings:
    """The template as `$1` = `index` would make it (only substituted settings change)."""
    def fill(line: Line) -> Line:
        if line.setting not in SUBSTITUTED:
            return line
        return Line(line.setting, tuple(w.replace(str(_SENTINEL), str(index))
                                        for w in line.words), line.substituted)
    return Settings([fill(line) for line in template.lines], template.env)


def _template_lines(template: Settings, first: Settings) -> list[Line]:
    """The template's substituted settings with `$1`; the others as the first instance has
    them (they cannot use `$1`)."""
    if [l.setting for l in template.lines] != [l.setting for l in first.lines]:
        return list(first.lines)
    lines = []
    for mine, theirs in zip(template.lines, first.lines):
        if mine.setting in SUBSTITUTED and str(_SENTINEL) in " ".join(mine.words):
            lines.append(_Dollar1(mine.setting, mine.words, mine.substituted))
        else:
            lines.append(theirs)
    return lines


class _Dollar1(Line):
    """A line whose words hold the sentinel, written as `$1` (after `$` is escaped)."""

    __slots__ = ()

    def render(self) -> str:
        return Line.render(self).replace(str(_SENTINEL), "$1")


def _with_env(settings: Settings, env_name: str, files: dict[str, str]) -> list[Line]:
    """The lines, with an env-file line after run-as/working-dir when there is an environment."""
    if not settings.env:
        return list(settings.lines)
    relative = f"{ENV_DIR}/{env_name}"
    files[relative] = env_file(f"environment of {env_name} (zeroctl convert)", settings.env)
    at = 2 + sum(1 for l in settings.lines[2:4] if l.setting in ("working-dir", "run-as"))
    return settings.lines[:at] + [Line("env-file", (relative,), True)] + settings.lines[at:]
