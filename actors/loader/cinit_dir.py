"""cinit-style service directories -> the same `Description` as a dinit file.

A service is a directory NAME/ (or NAME.PROFILE/, chosen by the loader's profile):

    run        the program: an executable file, or a symlink to one
    params     optional: its arguments, one per line
    needs/     entries' names are hard dependencies (depends-on)
    wants/     entries' names are soft dependencies (waits-for)
    respawn    present: a long-running `process`, restarted whenever it dies (restart = yes)
    wait       present: a one-shot (`scripted`): started once `run` exits with status 0
    env        optional: NAME=VALUE lines (the env-file format) for the process

With neither `respawn` nor `wait`, `run` is a `process` that is not restarted; without `run`,
the directory is an internal service (a group of its needs and wants). The working directory
is the service directory. Problems name the path inside the directory they concern.
"""

from __future__ import annotations

import os
from typing import Mapping

from actors.loader.description import Description, Link, source_of, with_links
from actors.loader.dinit_syntax import read_text
from actors.loader.env_file import Environment, apply, read_env_file
from actors.loader.errors import LoadError
from actors.loader.spec import DepKind, RestartPolicy, ServiceSpec, ServiceType, is_valid_service_name


def read_cinit_service(name: str, directory: str, arg: str | None,
                       environ: Mapping[str, str]) -> Description:
    """Read the cinit directory `directory` as service `name`; never raises."""
    found = _Found(name, directory)
    links = found.links("needs", DepKind.REGULAR) + found.links("wants", DepKind.WAITS_FOR)
    kind, restart, command = found.program()
    env = found.environment(environ)
    description = Description(name, directory, None, links, found.problems)
    if not description.has_errors:
        env_vars, env_clear, env_unset = env.difference() if env else ((), False, ())
        spec = ServiceSpec(name=name, type=kind, command=command, working_dir=directory,
                           env=env_vars, env_clear=env_clear, env_unset=env_unset,
                           restart=restart, template_arg=arg, source=source_of(directory))
        description.spec = with_links(spec, links)
    return description


class _Found:
    """The entries of one service directory, and the problems found reading them."""

    def __init__(self, name: str, directory: str) -> None:
        self.name, self.directory = name, directory
        self.problems: list[LoadError] = []

    def path(self, entry: str) -> str:
        return os.path.join(self.directory, entry)

    def present(self, entry: str) -> bool:
        return os.path.lexists(self.path(entry))

    def problem(self, path: str, line: int | None, message: str, severity: str = "error"):
        self.problems.append(LoadError(path, line, None, message, severity,  # type: ignore[arg-type]
                                       self.name))

    def links(self, entry: str, kind: DepKind) -> list[Link]:
        path = self.path(entry)
        if not self.present(entry):
            return []
        try:
            names = sorted(n for n in os.listdir(path) if not n.startswith("."))
        except OSError as exc:
            self.problem(path, None, f"cannot read: {exc.strerror or exc}")
            return []
        for bad in (n for n in names if not is_valid_service_name(n)):
            self.problem(os.path.join(path, bad), None, f"invalid service name '{bad}'")
        return [Link(kind, n, self.directory, None, entry) for n in names
                if is_valid_service_name(n)]

    def program(self) -> tuple[ServiceType, RestartPolicy, tuple[str, ...]]:
        respawn, wait = self.present("respawn"), self.present("wait")
        if not self.present("run"):
            for entry in ("params", "respawn", "wait"):
                if self.present(entry):
                    self.problem(self.path(entry), None, "ignored: there is no 'run'", "warning")
            return ServiceType.INTERNAL, RestartPolicy.YES, ()
        run = self.path("run")
        if not os.path.isfile(run):
            self.problem(run, None, "not a file (or a symlink to one)")
        elif not os.access(run, os.X_OK):
            self.problem(run, None, "not executable")
        if respawn and wait:
            self.problem(self.directory, None, "both 'respawn' and 'wait' are present; keep one")
        command = (run, *self.params())
        if wait:
            return ServiceType.SCRIPTED, RestartPolicy.NO, command
        return ServiceType.PROCESS, RestartPolicy.YES if respawn else RestartPolicy.NO, command

    def params(self) -> list[str]:
        if not self.present("params"):
            return []
        try:
            text = read_text(self.path("params"))
        except LoadError as error:
            self.problems.append(error)
            return []
        if text.endswith("\n"):
            text = text[:-1]
        return [line.removesuffix("\r") for line in text.split("\n")] if text else []

    def environment(self, environ: Mapping[str, str]) -> Environment | None:
        if not self.present("env"):
            return None
        try:
            parsed, warnings = read_env_file(self.path("env"))
        except LoadError as error:
            self.problems.append(error)
            return None
        self.problems.extend(warnings)
        env = Environment.over(environ)
        apply(parsed, env)
        return env
