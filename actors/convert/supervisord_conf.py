"""Reading supervisord.conf the way supervisord reads it, for `zeroctl convert`.

The facts of the format this module follows (supervisord's documentation, "Configuration
File"):

* It is an INI file read with Python's configparser, raw (no configparser interpolation),
  not strict (a repeated section or key is merged, the later value winning), keys folded to
  lower case. `;` or `#` at the start of a line is a comment; after whitespace they start an
  inline comment (`command = sleep 9 ; a comment`). An indented line continues a value.
* Values are expanded by supervisord itself with Python's `%` formatting against a table of
  names: `%(ENV_X)s` (the variable X of supervisord's environment), `%(here)s` (the directory
  of the file the section was read from), and in program sections `%(program_name)s`,
  `%(group_name)s`, `%(process_num)d` (formats such as `%(process_num)02d` work),
  `%(numprocs)d` and `%(host_node_name)s`. `%%` is a literal `%`. A name that is not in the
  table is an error.
* `[include] files = GLOB...` (space-separated) reads more files, each glob relative to the
  directory of the including file, matches in sorted order. Only the main file's `[include]`
  is followed; a glob matching nothing is a warning.

`read_conf(path)` gives a `Conf`: every section in the order read, each knowing its file and
the line of each key, plus `Note`s about what was skipped. Malformed input raises `ConfError`,
one sentence naming file and line. The small value parsers (booleans, whole numbers, byte
sizes, `KEY=VALUE,...` pairs) raise it too, naming the section and key.
"""

from __future__ import annotations

import configparser
import glob
import os
import re
from dataclasses import dataclass, field
from typing import Mapping

_ONE_LINE = str.maketrans({"\n": "\\n", "\r": "\\r"})


class ConfError(Exception):
    """Malformed or unreadable input: one sentence, already naming where."""


@dataclass(frozen=True, slots=True)
class Where:
    """A place in the input: file, line (if known), section, key (None: the whole section)."""

    file: str
    line: int | None
    section: str
    key: str | None = None

    def __str__(self) -> str:
        place = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{place}: [{self.section}]" + (f" {self.key}" if self.key else "")


@dataclass(frozen=True, slots=True)
class Note:
    """Something in the input that was not converted, and why (one line on stderr)."""

    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}".translate(_ONE_LINE)


@dataclass(slots=True)
class Section:
    """One `[name]` section as supervisord sees it after merging."""

    name: str                    # as written between the brackets: "program:web"
    file: str                    # the file it was (last) read from
    values: dict[str, str] = field(default_factory=dict)  # raw, unexpanded; keys lower case
    lines: dict[str, int] = field(default_factory=dict)   # key -> line; "" -> the header

    @property
    def kind(self) -> str:
        """"program" for `[program:web]`, "supervisord" for `[supervisord]`."""
        return self.name.partition(":")[0]

    @property
    def title(self) -> str:
        """"web" for `[program:web]`."""
        return self.name.partition(":")[2]

    @property
    def here(self) -> str:
        return os.path.dirname(self.file)

    def where(self, key: str | None = None) -> Where:
        return Where(self.file, self.lines.get(key or ""), self.name, key)


@dataclass(slots=True)
class Conf:
    path: str
    sections: list[Section]
    notes: list[Note]

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)


def read_conf(path: str, environ: Mapping[str, str]) -> Conf:
    """The main file, then what its `[include]` names; ConfError if any file is unreadable or
    malformed."""
    path = os.path.abspath(path)
    merged: dict[str, Section] = {}
    notes: list[Note] = []
    _read_into(path, merged)
    include = merged.get("include")
    if include is not None:
        if "files" not in include.values:
            raise ConfError(f"{include.where()}: has no 'files' setting")
        here, where = include.here, include.where("files")  # before includes merge into it
        patterns = expand(include.values["files"], expansions(environ, here=here), where)
        for pattern in patterns.split():
            full = os.path.join(here, pattern)
            matches = sorted(glob.glob(full))
            if not matches:
                notes.append(Note(where, f"no file matches '{full}'"))
            for match in matches:
                for section in _read_into(match, merged):
                    if section == "include":
                        notes.append(Note(merged["include"].where(), "not followed: only the "
                                          "main file's [include] is read (as supervisord does)"))
    return Conf(path, list(merged.values()), notes)


def _read_into(path: str, merged: dict[str, Section]) -> list[str]:
    """Merge the sections of one file into `merged`; the names of the sections it had."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise ConfError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfError(f"cannot read {path}: not UTF-8 text") from None
    # supervisord's parser: raw values, not strict, inline comments after whitespace.
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    try:
        parser.read_string(text, source=path)
    except configparser.MissingSectionHeaderError as exc:
        raise ConfError(f"{path}:{exc.lineno}: a setting before any [section] header") from None
    except configparser.ParsingError as exc:
        lineno = exc.errors[0][0]
        line = text.splitlines()[lineno - 1].strip()
        raise ConfError(f"{path}:{lineno}: cannot parse {line!r}; expected "
                        "'key = value' or a [section] header") from None
    except configparser.Error as exc:
        raise ConfError(f"{path}: {str(exc).splitlines()[0]}") from None
    lines = _line_numbers(text)
    for name in parser.sections():
        section = merged.setdefault(name, Section(name, path))
        section.file = path
        for key, value in parser.items(name, raw=True):
            section.values[key] = value
            section.lines[key] = lines.get((name, key), 0) or section.lines.get(key, 0)
        section.lines[""] = lines.get((name, ""), 0)
    return parser.sections()


_HEADER = re.compile(r"\[(?P<name>[^]]+)\]")
_KEY = re.compile(r"(?P<key>[^\s=:;#\[][^=:]*?)\s*[=:]")


def _line_numbers(text: str) -> dict[tuple[str, str], int]:
    """(section, key) -> the line that last set it; (section, "") -> its header's line."""
    found: dict[tuple[str, str], int] = {}
    section = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            section = header.group("name")
            found.setdefault((section, ""), number)
            continue
        key = _KEY.match(line)
        if key and section is not None:
            found[(section, key.group("key").lower())] = number
    return found


# ---------------------------------------------------------------------------------------------
# Expansions
# ---------------------------------------------------------------------------------------------


def expansions(environ: Mapping[str, str], **names: object) -> dict[str, object]:
    """The table `%(name)s` expands from: `ENV_X` for each variable, plus `names`."""
    table: dict[str, object] = {f"ENV_{k}": v for k, v in environ.items()}
    table.update(names)
    return table


def expand(text: str, names: Mapping[str, object], where: Where) -> str:
    """`text` with its `%(name)s` expansions done; ConfError naming the bad one."""
    if "%" not in text:
        return text
    try:
        return text % names
    except KeyError as exc:
        name = exc.args[0]
        hint = " (unset in this environment)" if str(name).startswith("ENV_") else ""
        raise ConfError(f"{where}: cannot expand '%({name})': unknown name{hint}") from None
    except (ValueError, TypeError) as exc:
        raise ConfError(f"{where}: bad '%' expansion in {text!r} ({exc}); write '%%' for a "
                        "literal '%'") from None


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

TRUE_WORDS = frozenset({"yes", "true", "on", "1"})
FALSE_WORDS = frozenset({"no", "false", "off", "0"})


def parse_bool(text: str, where: Where) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfError(f"{where}: expected true or false, got {text!r}")


def parse_int(text: str, where: Where, low: int = 0) -> int:
    word = text.strip()
    if not re.fullmatch(r"-?\d{1,12}", word) or int(word) < low:
        raise ConfError(f"{where}: expected a whole number{' ≥ ' + str(low) if low else ''}, "
                        f"got {text!r}")
    return int(word)


_SIZE = re.compile(r"(\d{1,15})\s*(kb|mb|gb)?", re.IGNORECASE)
_UNITS = {None: 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3}


def parse_size(text: str, where: Where) -> int:
    """`50MB` -> 52428800 (supervisord's units are powers of 1024)."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise ConfError(f"{where}: expected a size in bytes (with KB, MB or GB), got {text!r}")
    unit = match.group(2).lower() if match.group(2) else None
    return int(match.group(1)) * _UNITS[unit]


def parse_list(text: str) -> list[str]:
    """`a, b,c` -> ["a", "b", "c"]."""
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_env_pairs(text: str, where: Where) -> dict[str, str]:
    """`A="1,2",B=x` -> {"A": "1,2", "B": "x"}: comma-separated KEY=VALUE pairs, a value in
    double or single quotes may hold commas."""
    pairs: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        eq = text.find("=", i)
        key = text[i:eq].strip() if eq >= 0 else ""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", key):
            raise ConfError(f"{where}: expected KEY=VALUE pairs separated by commas, got "
                            f"{text[i:].strip()!r}")
        i = eq + 1
        while i < n and text[i] in " \t\n":
            i += 1
        if i < n and text[i] in "\"'":
            end = text.find(text[i], i + 1)
            if end < 0:
                raise ConfError(f"{where}: unterminated quote in the value of {key}")
            value, i = text[i + 1:end], end + 1
            rest = text.find(",", i)
            if text[i:rest if rest >= 0 else n].strip():
                raise ConfError(f"{where}: unexpected text after the quoted value of {key}")
        else:
            rest = text.find(",", i)
            value = text[i:rest if rest >= 0 else n].strip()
        pairs[key] = value
        i = n if rest < 0 else rest + 1
        while i < n and text[i] in " \t\n":
            i += 1
    return pairs
