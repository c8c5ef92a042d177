"""Splitting one dinit setting's value into words: whitespace, `#` comments, double and single
quotes, backslashes (the rules are in `dinit_syntax.py`'s docstring). Its own module because
it is the one piece a hostile file can make slow: it is linear in the value's length.
"""

from __future__ import annotations

import re

from actors.loader.errors import LoadError

_PLAIN = re.compile(r"[^\s#\"'\\]+")   # a run of characters that mean only themselves
_IN_DOUBLE = re.compile(r'[^"\\]+')    # the same inside double quotes


def split_value(text: str, file: str, line: int) -> tuple[str, ...]:
    """Split a value into words (see the module docstring); LoadError on a syntax error.

    Linear in the length of the value (runs of ordinary characters are taken whole, and each
    word is joined once), so a hostile megabyte-long value costs milliseconds."""
    words: list[str] = []
    parts: list[str] | None = None  # None: between words (so `""` still makes an empty word)
    after_space = False             # `#` starts a comment only after whitespace
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            if parts is not None:
                words.append("".join(parts))
                parts = None
            after_space = True
            i += 1
            continue
        if c == "#":
            if not after_space:
                raise LoadError(file, line, None, "'#' starts a comment only after whitespace; "
                                "quote or escape it to use it in a value")
            end = text.find("\n", i)  # a continuation's newline ends the comment
            i = n if end < 0 else end
            continue
        if parts is None:
            parts = []
        after_space = False
        if c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise LoadError(file, line, None, "unterminated quoted string")
            parts.append(text[i + 1:end])
            i = end + 1
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                run = _IN_DOUBLE.match(text, i)
                if run:
                    parts.append(run.group())
                    i = run.end()
                elif i + 1 < n:   # a backslash: the next character as it is
                    parts.append(text[i + 1])
                    i += 2
                else:
                    parts.append(text[i])
                    i += 1
            if i >= n:
                raise LoadError(file, line, None, "unterminated quoted string")
            i += 1
        elif c == "\\" and i + 1 < n:
            parts.append(text[i + 1])
            i += 2
        else:
            run = _PLAIN.match(text, i)
            if run:
                parts.append(run.group())
                i = run.end()
            else:  # a backslash at the very end
                parts.append(c)
                i += 1
    if parts is not None:
        words.append("".join(parts))
    return tuple(words)
