"""dinit's description syntax: from a file's text to `Setting`s, and `$VAR` substitution.

This module owns the syntax and nothing about what settings mean (that is `settings.py`).
The rules, each from dinit-service(5) and dinit's `load-service.h`:

* One setting per line: `name = value`, `name: value` or `name += value`. A line may be a
  comment (`#` first) or a meta-command: `@include PATH` (a missing file is an error),
  `@include-opt PATH` (a missing file is skipped), `@meta ...` (for other tools; ignored).
* A line ending in an odd number of backslashes continues on the next line, which must begin
  with whitespace; the backslash-newline acts as a space, and it also ends a comment.
* In a value, whitespace separates words and collapses; `#` after whitespace starts a comment
  (anywhere else it is an error: dinit refuses `a#b` so a comment is never swallowed by
  accident); double quotes keep whitespace and `#` in one word; a backslash makes the next
  character literal, inside double quotes too. zeroinit's addition: single quotes work as in
  the shell (everything up to the next `'` is literal, backslashes included), so that
  `sh -c 'a; b'` means what it says; dinit would take `'` as an ordinary character.
* Substitution comes after splitting, so one variable gives one word: `$VAR`, `${VAR}`,
  `${VAR:-w}` (w if unset or empty), `${VAR-w}` (w if unset), `${VAR:+w}` (w if set and not
  empty), `${VAR+w}` (w if set), `$$` (a literal `$`), `$/VAR` (the value split into words, none
  if it is blank), `$1` (the service argument). Unset variables give an empty string. Quotes do
  not stop substitution (dinit substitutes after removing them); only `$$` does.

Every `Setting` keeps its file and line so that any later error can point at it. Included
files are read with an explicit stack, never by recursion.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from typing import Callable, Iterator

from actors.loader.errors import BadValue, LoadError
from actors.loader.value_words import split_value

# dinit's read_config_name(): a setting name does not start with '-', '.' or a digit; it holds
# letters, digits, '_', '-', '.' and any non-ASCII character.
# Any character from U+0080 up is allowed; written [^\x00-\x7f] because a class spelled
# \u0080-\U0010ffff takes ~5 ms to compile, at every start of the supervisor.
_SETTING_NAME = re.compile(r"(?:[A-Za-z_]|[^\x00-\x7f])(?:[A-Za-z0-9_.\-]|[^\x00-\x7f])*")
_META_NAME = re.compile(r"[A-Za-z][A-Za-z-]*")
MAX_INCLUDE_DEPTH = 16  # nesting deeper than this is a mistake, not a configuration
MAX_FILE_SIZE = 1 << 20  # a description, fragment, env-file or params file is small text


@dataclass(frozen=True, slots=True)
class Setting:
    """One `name OP value` line, its value split into words (quotes and escapes removed)."""

    name: str                 # as written; aliases are resolved by settings.py
    op: str                   # "=", ":" or "+="
    words: tuple[str, ...]
    file: str                 # the fragment it was read from (the description or an include)
    line: int                 # 1-based, the line where the setting begins

    @property
    def value(self) -> str:
        """The value as one string: words joined by one space (dinit's whitespace collapse)."""
        return " ".join(self.words)

    @property
    def directory(self) -> str:
        """Where relative `.d` and env-file paths of this line resolve (dinit: the fragment's)."""
        return os.path.dirname(self.file)


@dataclass(frozen=True, slots=True)
class _Include:
    path: str
    optional: bool
    file: str
    line: int


# ---------------------------------------------------------------------------------------------
# Files and lines
# ---------------------------------------------------------------------------------------------


def read_text(path: str) -> str:
    """The file's text; LoadError `PATH: cannot read: REASON`, or on a line that is not
    UTF-8 or holds a NUL character."""
    # Never block the supervisor: no waiting on a FIFO's writer, no endless `/dev/zero`.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) or stat.S_ISSOCK(os.fstat(fd).st_mode):
                raise LoadError(path, None, None, "cannot read: not a regular file")
            data = f.read(MAX_FILE_SIZE + 1)
    except OSError as exc:
        raise LoadError(path, None, None, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_SIZE:
        raise LoadError(path, None, None, f"cannot read: larger than {MAX_FILE_SIZE >> 20} MiB")
    # Strings go into msgpack messages, paths and argv later: refuse what they cannot carry
    # here, at the edge.
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise LoadError(path, line, None, "contains a NUL character")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise LoadError(path, line, None, "not valid UTF-8 text") from None


def logical_lines(text: str, file: str) -> Iterator[tuple[int, str] | LoadError]:
    """(first line number, text) for each line, continuation lines joined with a newline."""
    if text.endswith("\n"):
        text = text[:-1]
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    i = 0
    while i < len(lines):
        start, buf = i + 1, lines[i]
        i += 1
        while _continues(buf):
            if i == len(lines):
                yield LoadError(file, start, None, "the file ends after a continuation backslash")
                buf = buf[:-1]
                break
            following = lines[i]
            if not following[:1].isspace():
                yield LoadError(file, i + 1, None,
                                "a line after a continuation backslash must begin with whitespace")
                buf = ""
                break
            buf = buf[:-1] + "\n" + following
            i += 1
        yield start, buf


def _continues(line: str) -> bool:
    """An odd number of trailing backslashes: the last one is not itself escaped."""
    count = len(line) - len(line.rstrip("\\"))
    return count % 2 == 1


def parse_line(text: str, file: str, line: int) -> Setting | _Include | None:
    """One logical line -> a Setting, an include, or None (blank, comment, `@meta`)."""
    stripped = text.lstrip()
    if not stripped or stripped.startswith("#"):
        return None
    if stripped.startswith("@"):
        return _parse_meta(stripped[1:], file, line)
    match = _SETTING_NAME.match(stripped)
    rest = stripped[match.end():].lstrip() if match else ""
    op = next((o for o in ("+=", "=", ":") if rest.startswith(o)), None)
    if match is None or op is None:
        raise LoadError(file, line, None, "badly formed line; expected 'setting = value'")
    words = split_value(rest[len(op):], file, line)
    return Setting(match.group(), op, words, file, line)


def _parse_meta(text: str, file: str, line: int) -> _Include | None:
    match = _META_NAME.match(text)
    command = match.group() if match else ""
    if command == "meta":
        return None  # dinit-service(5): information for other tools (`enable-via`)
    if command not in ("include", "include-opt"):
        shown = command or (text.split() or [""])[0]
        raise LoadError(file, line, None, f"unknown meta-command '@{shown}'")
    words = split_value(text[len(command):], file, line)
    if len(words) != 1:
        raise LoadError(file, line, "@" + command, "expected one path")
    return _Include(words[0], command == "include-opt", file, line)


# ---------------------------------------------------------------------------------------------
# A description with its includes
# ---------------------------------------------------------------------------------------------


def read_description(path: str, expand_path: Callable[[str], str]
                     ) -> tuple[list[Setting], list[LoadError]]:
    """Every setting of `path` and the files it includes, in order, and every syntax error.

    `expand_path` performs pre-load substitution on an include path (BadValue on error).
    Raises LoadError only if `path` itself cannot be read.
    """
    settings: list[Setting] = []
    problems: list[LoadError] = []
    stack = [(path, _items(read_text(path), path))]
    while stack:
        file, items = stack[-1]
        item = next(items, None)
        if item is None:
            stack.pop()
        elif isinstance(item, LoadError):
            problems.append(item)
        elif isinstance(item, Setting):
            settings.append(item)
        else:
            opened = _open_include(item, [f for f, _ in stack], expand_path)
            if isinstance(opened, LoadError):
                problems.append(opened)
            elif opened is not None:
                stack.append(opened)
    return settings, problems


def _items(text: str, file: str) -> Iterator[Setting | _Include | LoadError]:
    for entry in logical_lines(text, file):
        if isinstance(entry, LoadError):
            yield entry
            continue
        try:
            item = parse_line(entry[1], file, entry[0])
        except LoadError as error:
            yield error
        else:
            if item is not None:
                yield item


def _open_include(inc: _Include, open_files: list[str], expand_path: Callable[[str], str]):
    setting = "@include-opt" if inc.optional else "@include"
    try:
        target = expand_path(inc.path)
    except BadValue as exc:
        return LoadError(inc.file, inc.line, setting, str(exc))
    # dinit-service(5): resolved relative to the fragment holding the directive.
    target = os.path.join(os.path.dirname(inc.file), target)
    if any(os.path.realpath(target) == os.path.realpath(f) for f in open_files):
        return LoadError(inc.file, inc.line, setting, f"'{target}' includes itself")
    if len(open_files) > MAX_INCLUDE_DEPTH:
        return LoadError(inc.file, inc.line, setting,
                         f"includes nested more than {MAX_INCLUDE_DEPTH} deep")
    if inc.optional and not os.path.lexists(target):
        return None
    try:
        return target, _items(read_text(target), target)
    except LoadError as error:
        return LoadError(inc.file, inc.line, setting, f"{target}: {error.message}")


# ---------------------------------------------------------------------------------------------
# Substitution
# ---------------------------------------------------------------------------------------------

Lookup = Callable[[str], "str | None"]


def expand_command(words: tuple[str, ...], lookup: Lookup, arg: str | None) -> tuple[str, ...]:
    """Substitute in each word of a command; `$/VAR` may add or remove words."""
    out: list[str] = []
    for word in words:
        out.extend(expand_word(word, lookup, arg))
    return tuple(out)


def expand_value(value: str, lookup: Lookup, arg: str | None) -> str:
    """Substitute in a one-string value (a path, a name); split words are re-joined."""
    return " ".join(expand_word(value, lookup, arg))


def expand_word(word: str, lookup: Lookup, arg: str | None) -> list[str]:
    """One word -> the words it becomes (one, unless `$/VAR` splits or collapses it)."""
    if "$" not in word:
        return [word]
    out: list[str] = []
    cur = ""
    keep = False      # a plain `$VAR` is in the current word: never drop it, even if empty
    collapse = False  # the last variable was `$/VAR`: drop the word if it ends up empty
    i, n = 0, len(word)
    while i < n:
        j = word.find("$", i)
        if j < 0:
            cur += word[i:]
            break
        cur += word[i:j]
        if word[j + 1:j + 2] == "$":
            cur += "$"
            i = j + 2
            continue
        split, value, i = _reference(word, j, lookup, arg)
        if not split:
            cur += value
            keep, collapse = True, False
            continue
        pieces = re.split(r"(\s+)", value)  # words at even indexes, whitespace at odd ones
        for index, piece in enumerate(pieces):
            if index % 2 == 0:
                cur += piece
            elif cur or keep:   # whitespace ends the word; leading blanks just vanish
                out.append(cur)
                cur, keep = "", False
        collapse = not keep
    if cur or not collapse:
        out.append(cur)
    return out


def _reference(word: str, start: int, lookup: Lookup, arg: str | None) -> tuple[bool, str, int]:
    """Read the reference at word[start] == '$': (is `$/`, its value, index after it)."""
    k = start + 1
    split = word[k:k + 1] == "/"
    k += split
    brace = word[k:k + 1] == "{"
    k += brace
    name, k = _variable_name(word, k)
    if not name:
        raise BadValue(f"'$' must be followed by a variable name (write '$$' for a literal '$') "
                       f"in '{word}'")
    if name[0] in "0123456789" and name != "1":
        raise BadValue(f"only $1 (the service argument) is available, not ${name}")
    value = arg if name == "1" else lookup(name)
    if brace:
        colon = word[k:k + 1] == ":"
        k += colon
        mode = word[k:k + 1]
        if colon and mode not in ("-", "+"):
            raise BadValue(f"expected '-' or '+' after ':' in '{word}'")
        if mode in ("-", "+"):
            end = word.find("}", k)
            if end < 0:
                raise BadValue(f"unmatched '{{' in '{word}'")
            alt, k = word[k + 1:end], end
            if mode == "-" and (value is None or (colon and value == "")):
                value = alt
            elif mode == "+":
                value = alt if value is not None and (not colon or value != "") else ""
        if word[k:k + 1] != "}":
            raise BadValue(f"unmatched '{{' in '{word}'")
        k += 1
    return split, value or "", k


def _variable_name(word: str, k: int) -> tuple[str, int]:
    """dinit's variable names: digits (only `1` is valid), or a letter, `_` or non-ASCII
    character followed by those and digits."""
    start = k
    digits = "0123456789"
    if word[k:k + 1] and word[k] in digits:
        while word[k:k + 1] and word[k] in digits:
            k += 1
        return word[start:k], k
    while k < len(word) and _name_char(word[k]):
        k += 1
    return word[start:k], k


def _name_char(c: str) -> bool:
    return c == "_" or (c.isascii() and c.isalnum()) or (ord(c) >= 0x80 and not c.isspace())
