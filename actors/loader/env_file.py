"""Environment files (`env-file` in a description, `env` in a cinit directory).

The format is dinit's (dinit(8), "FILES"; parsed as in dinit's `read_env_file_inline`):

    # a comment
    NAME=VALUE          the value is everything after '=', spaces included
    !clear              forget everything inherited and set so far
    !unset NAME...      remove variables (inherited ones too)
    !import NAME...     after !clear: take these back from the supervisor's environment

A file is read into an `EnvFile`: the commands in order. `apply()` plays them over a parent
environment, giving the environment used both for substitution at load time and for the
process (dinit-service(5), "VARIABLE SUBSTITUTION": the two are the same). A malformed line is
ignored with a warning, as dinit does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from actors.loader.dinit_syntax import read_text
from actors.loader.errors import LoadError


@dataclass(frozen=True, slots=True)
class EnvFile:
    """The commands of one environment file, in order: ("set", NAME, VALUE), ("clear",),
    ("unset", NAME) or ("import", NAME)."""

    path: str
    commands: tuple[tuple[str, ...], ...] = ()


@dataclass(slots=True)
class Environment:
    """An environment built over a parent, remembering how it differs from it, so a spec can
    carry only the difference (`env`, `env_clear`, `env_unset`)."""

    parent: Mapping[str, str]
    values: dict[str, str] = field(default_factory=dict)
    cleared: bool = False
    touched: dict[str, None] = field(default_factory=dict)  # names set or unset, in order

    @classmethod
    def over(cls, parent: Mapping[str, str]) -> "Environment":
        return cls(parent, dict(parent))

    def set(self, name: str, value: str) -> None:
        self.values[name] = value
        self.touched[name] = None

    def unset(self, name: str) -> None:
        self.values.pop(name, None)
        self.touched[name] = None

    def clear(self) -> None:
        self.values.clear()
        self.touched.clear()
        self.cleared = True

    def lookup(self, name: str) -> str | None:
        return self.values.get(name)

    def difference(self) -> tuple[tuple[tuple[str, str], ...], bool, tuple[str, ...]]:
        """(variables to set, whether to start empty, variables to remove) over the parent."""
        env = tuple((n, self.values[n]) for n in self.touched if n in self.values)
        unset = () if self.cleared else tuple(n for n in self.touched if n not in self.values)
        return env, self.cleared, unset


def read_env_file(path: str) -> tuple[EnvFile, list[LoadError]]:
    """Parse `path`; LoadError if it cannot be read; warnings for lines that are ignored."""
    text = read_text(path)
    commands: list[tuple[str, ...]] = []
    warnings: list[LoadError] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            command, *args = line[1:].split() or [""]
            if command == "clear":
                commands.append(("clear",))
            elif command in ("unset", "import"):
                commands.extend((command, name) for name in args)
            else:
                warnings.append(_ignored(path, number, f"unknown command '!{command}'"))
            continue
        name, eq, value = line.partition("=")
        name = name.rstrip()
        if not eq or not name or any(c.isspace() for c in name):
            warnings.append(_ignored(path, number, "expected NAME=VALUE"))
            continue
        commands.append(("set", name, value.removesuffix("\r")))
    return EnvFile(path, tuple(commands)), warnings


def apply(env_file: EnvFile, env: Environment) -> None:
    """Play the file's commands over `env`."""
    for command in env_file.commands:
        if command[0] == "set":
            env.set(command[1], command[2])
        elif command[0] == "clear":
            env.clear()
        elif command[0] == "unset":
            env.unset(command[1])
        elif command[1] in env.parent:   # import
            env.set(command[1], env.parent[command[1]])
        else:
            env.unset(command[1])


def _ignored(path: str, line: int, why: str) -> LoadError:
    return LoadError(path, line, None, f"line ignored: {why}", severity="warning")
