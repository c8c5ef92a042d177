"""Hostile input costs nothing (issue 10): value splitting is linear and agrees, on random
input, with the plain character-by-character reading it replaced; control characters from
files are escaped in messages; signals Python has no name for work; the protocol version is
the integer 1, nothing that merely compares equal to it.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from actors.loader.value_words import split_value
from actors.loader.errors import LoadError, printable
from actors.signames import normalise, signal_number
from broker import protocol


def _reference_split(text: str, file: str, line: int) -> tuple[str, ...]:
    """The former splitter, one character at a time (quadratic on long words): the meaning
    the linear one must keep."""
    words: list[str] = []
    word: str | None = None   # None: between words (so `""` still makes an empty word)
    after_space = False       # `#` starts a comment only after whitespace
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            if word is not None:
                words.append(word)
                word = None
            after_space = True
            i += 1
        elif c == "#":
            if not after_space:
                raise LoadError(file, line, None, "'#' starts a comment only after whitespace; "
                                "quote or escape it to use it in a value")
            end = text.find("\n", i)  # a continuation's newline ends the comment
            i = n if end < 0 else end
        elif c in "\"'":
            word = word or ""
            i += 1
            while i < n and text[i] != c:
                if c == '"' and text[i] == "\\" and i + 1 < n:
                    i += 1
                word += text[i]
                i += 1
            if i >= n:
                raise LoadError(file, line, None, "unterminated quoted string")
            i += 1
            after_space = False
        else:
            if c == "\\" and i + 1 < n:
                i += 1
                c = text[i]
            word = (word or "") + c
            i += 1
            after_space = False
    if word is not None:
        words.append(word)
    return tuple(words)


def _outcome(split, text: str):
    try:
        return split(text, "f", 1)
    except LoadError as exc:
        return ("error", exc.message)


@settings(max_examples=600)
@given(st.text(alphabet="ab \t\n#'\"\\", max_size=40))
def test_split_value_keeps_the_meaning_of_the_plain_reading(text):
    assert _outcome(split_value, text) == _outcome(_reference_split, text)


def test_a_megabyte_word_is_one_word():
    word = "a\\b" * 350_000
    assert split_value(f' "{word}" tail', "f", 1) == ("a\\b".replace("\\", "") * 350_000,
                                                     "tail")
    assert split_value("x" * 1_000_000, "f", 1) == ("x" * 1_000_000,)


def test_control_characters_from_a_file_are_escaped():
    error = LoadError("svc", 3, "type", "expected process, got '\x1b[31mred\x07'")
    assert str(error) == "svc:3: type: expected process, got '\\x1b[31mred\\x07'"
    assert printable("a\nb\rc\td\x7f") == "a\\nb\\rc\\td\\x7f"


def test_a_signal_number_without_a_python_name_works():
    assert normalise(33) == normalise("33") == "SIG33"
    assert signal_number("SIG33") == signal_number("33") == 33
    with pytest.raises(ValueError):
        signal_number("SIG999")


@pytest.mark.parametrize("version", [True, 1.0, "1", None])
def test_the_protocol_version_is_the_integer_one(version):
    import msgpack
    frame = msgpack.packb({"v": version, "kind": "list", "id": 1})
    with pytest.raises(protocol.ProtocolError, match="unsupported protocol version"):
        protocol.decode_request(frame)


def test_a_megabyte_description_loads_while_the_root_keeps_answering(sup):
    # A description just under the 1 MiB limit, made of one long value: it loads (the
    # splitting is linear), and the root answers list before and after.
    sup.write("boot", "")
    sup.start()
    value = "a" * ((1 << 20) - 100)
    sup.write("big", f"type = process\ncommand = sleep 1000\nworking-dir = /{value}\n")
    assert sup.ctl("list").code == 0
    result = sup.ctl("--json", "status", "big", timeout=30)
    assert result.code == 0, result.err
    assert sup.ctl("list").code == 0
    too_big = "b" * (1 << 20)
    sup.write("huge", f"type = process\ncommand = sleep 1000 {too_big}\n")
    refused = sup.ctl("start", "huge", timeout=30)
    assert refused.code == 1 and "larger than 1 MiB" in refused.err
