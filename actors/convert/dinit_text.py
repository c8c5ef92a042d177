"""Writing dinit service description text: settings as lines, values quoted so that zeroinit's
loader reads back exactly the words that were meant.

The loader's rules (docs/services.md, "Syntax"): whitespace separates words, `#` after
whitespace starts a comment, double quotes keep spaces and `#` in one word, a backslash makes
the next character literal inside double quotes too, and `$` starts a substitution in the
settings that have one (`command`, `working-dir`, `logfile`, `env-file`...) whether quoted or
not; only `$$` is a literal `$`. So a word is written bare when it holds only harmless
characters, else in double quotes with `\\` and `"` escaped, and `$` doubled where the setting
substitutes. A newline cannot be written in a value at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BARE = re.compile(r"[A-Za-z0-9_@%+=:,./~^-]+")


class Unwritable(ValueError):
    """A value that a service description cannot hold (it contains a newline or a NUL)."""


def word(text: str, substituted: bool = True) -> str:
    """One word as the loader will read it back: `a b` -> `"a b"`, `$HOME` -> `$$HOME`."""
    if any(c in text for c in "\n\r\0"):
        raise Unwritable(f"{text!r} holds a line break, which a service file cannot hold")
    escaped = text.replace("$", "$$") if substituted else text
    if _BARE.fullmatch(text):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True, slots=True)
class Line:
    """One `setting = value` line; `words` unquoted, `substituted`: whether the loader
    substitutes `$` in this setting."""

    setting: str
    words: tuple[str, ...]
    substituted: bool = False

    def render(self) -> str:
        return f"{self.setting} = " + " ".join(word(w, self.substituted) for w in self.words)


def describe(comment: str, lines: list[Line]) -> str:
    """A whole description: a comment line, then one line per setting."""
    return "".join([f"# {comment}\n", *(line.render() + "\n" for line in lines)])


def env_file(comment: str, env: dict[str, str]) -> str:
    """An env-file: `NAME=VALUE` lines, values taken literally (dinit's format)."""
    for name, value in env.items():
        if any(c in value for c in "\n\r\0"):
            raise Unwritable(f"the value of {name} holds a line break, which an env-file "
                             "cannot hold")
    return "".join([f"# {comment}\n", *(f"{k}={v}\n" for k, v in env.items())])
