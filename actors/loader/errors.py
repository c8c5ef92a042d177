"""What the service loaders report: one `LoadError` per problem, and `LoadFailure` carrying them.

Every problem a user can make in a service description becomes a `LoadError` that names where
it is (file, line), which setting it concerns, and what is wrong, and prints as ONE line:

    /etc/zeroinit.d/web:4: restart-delay: expected a number of seconds, got 'abc'
    /etc/zeroinit.d/web:7: unterminated quoted string
    /etc/zeroinit.d/web: cannot read: Permission denied

The parts that do not apply (no line, no setting) are left out. A warning has the same shape
and `severity = "warning"`: it never stops a service from loading. Nothing else the loaders
raise reaches a user; OSError and UnicodeDecodeError are turned into LoadErrors where they occur.
"""

from __future__ import annotations

from typing import Iterable, Literal

Severity = Literal["error", "warning"]
# Control characters from a file are shown escaped, never sent to a terminal as they are (an
# escape sequence in a value must not recolour, retitle or rewrite the user's screen).
_ONE_LINE = str.maketrans({**{chr(c): f"\\x{c:02x}" for c in [*range(32), 127]},
                           "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def printable(text: str) -> str:
    """`text` as one line with its control characters escaped, for messages."""
    return text.translate(_ONE_LINE)


class LoadError(Exception):
    """One problem in one service description (or a warning about one)."""

    def __init__(self, file: str, line: int | None, setting: str | None, message: str,
                 severity: Severity = "error", service: str | None = None) -> None:
        super().__init__(file, line, setting, message)
        self.file = file          # the description file, fragment, env-file or cinit path
        self.line = line          # 1-based; None when the problem is not on one line
        self.setting = setting    # the setting as written (`termsignal`, `@include`), or None
        self.message = message    # what is wrong, naming the bad value
        self.severity = severity
        self.service = service    # the service being loaded when it was found, if known

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [p for p in (where, self.setting) if p]
        # One line, always: a value echoed in a message may hold a (quoted) newline.
        return printable(": ".join([*parts, self.message]))

    def __repr__(self) -> str:
        return f"LoadError({str(self)!r}, severity={self.severity!r})"

    def key(self) -> tuple[str, str]:
        """What makes two reports the same report (to print each once)."""
        return (self.severity, str(self))


class BadValue(ValueError):
    """Raised by a setting's parser or by substitution: the message says what is wrong with
    the value; the caller adds file, line and setting to make a LoadError."""


class LoadFailure(Exception):
    """A service (or one it needs) could not be loaded; `errors` holds every problem found,
    root causes first, then the services that failed because of them, then warnings."""

    def __init__(self, errors: Iterable[LoadError]) -> None:
        self.errors = list(errors)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def unique(problems: Iterable[LoadError]) -> list[LoadError]:
    """`problems` without repeats (a template's error is found once per instance), in order."""
    seen: set[tuple[str, str]] = set()
    kept: list[LoadError] = []
    for problem in problems:
        if problem.key() not in seen:
            seen.add(problem.key())
            kept.append(problem)
    return kept
