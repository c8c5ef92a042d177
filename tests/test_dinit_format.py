"""The dinit syntax: lines, values, includes, and `$VAR` substitution (actors/loader/dinit_syntax.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from actors.loader.dinit_syntax import (
    Setting, expand_command, expand_value, expand_word, logical_lines, parse_line,
    read_description, split_value,
)
from actors.loader.errors import BadValue, LoadError

ENV = {"HOME": "/home/me", "EMPTY": "", "WORDS": "  one two  ", "SPACE": "   ", "X": "x"}


def words(text: str) -> tuple[str, ...]:
    return split_value(text, "f", 1)


def expand(word: str, arg: str | None = None) -> list[str]:
    return expand_word(word, ENV.get, arg)


# --- lines ------------------------------------------------------------------------------------


def test_three_operators_and_surrounding_spaces():
    # `=`, `:` and `+=` with or without spaces around them.
    assert parse_line("type = process", "f", 1) == Setting("type", "=", ("process",), "f", 1)
    assert parse_line("  depends-on:db", "f", 2) == Setting("depends-on", ":", ("db",), "f", 2)
    assert parse_line("command+=-v", "f", 3) == Setting("command", "+=", ("-v",), "f", 3)


def test_blank_comment_and_meta_lines_give_nothing():
    # Blank lines, comments and @meta are skipped.
    for text in ("", "   ", "# a comment", "   # indented comment", "@meta enable-via boot"):
        assert parse_line(text, "f", 1) is None


def test_setting_names_may_hold_dots_and_dashes():
    # `depends-on.d` is one setting name.
    assert parse_line("depends-on.d: deps", "f", 1).name == "depends-on.d"


def test_continuation_joins_lines_and_counts_from_the_first():
    # A trailing backslash continues the value; the line number is the first line's.
    lines = list(logical_lines("command = a \\\n    b\nnext = 1\n", "f"))
    assert lines == [(1, "command = a \n    b"), (3, "next = 1")]
    assert parse_line(lines[0][1], "f", 1).words == ("a", "b")


def test_escaped_backslash_at_the_end_does_not_continue():
    # `\\` at the end of a line is a literal backslash, not a continuation.
    assert list(logical_lines("a = x\\\\\nb = y", "f")) == [(1, "a = x\\\\"), (2, "b = y")]
    assert words("x\\\\") == ("x\\",)


def test_a_comment_ends_at_a_continuation_newline():
    # dinit-service(5): an escaped newline also ends a comment, and the value goes on.
    (line, text), = logical_lines("command = a # note \\\n   b", "f")
    assert parse_line(text, "f", line).words == ("a", "b")


# --- values -----------------------------------------------------------------------------------


def test_whitespace_collapses_and_comments_need_whitespace_before():
    # Runs of whitespace separate words; ` #` starts a comment.
    assert words("  a \t b   c  # the rest is ignored") == ("a", "b", "c")


def test_double_quotes_keep_spaces_and_hash():
    # "..." keeps whitespace and '#' in one word, and may be part of a word.
    assert words('"a  b" c"#d"e') == ("a  b", "c#de")


def test_empty_quotes_make_an_empty_word():
    # "" is an argument of its own, even though it is empty.
    assert words('prog "" x') == ("prog", "", "x")


def test_backslash_escapes_inside_and_outside_quotes():
    # \ makes the next character literal: space, quote, hash, backslash.
    assert words(r'a\ b \"q\" \#h "in \" side"') == ("a b", '"q"', "#h", 'in " side')


def test_single_quotes_are_literal_like_the_shell():
    # zeroinit's addition: 'a; b' is one word, with no escapes inside.
    assert words("sh -c 'echo \"x\" \\n; exit 3'") == ("sh", "-c", 'echo "x" \\n; exit 3')


def test_value_joins_words_with_one_space():
    # Setting.value is dinit's collapsed string.
    setting = parse_line('logfile = /var/log/"my  app".log', "f", 1)
    assert setting.value == "/var/log/my  app.log"


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                               blacklist_characters="\n\r")),
                min_size=1, max_size=5))
def test_any_words_survive_double_quoting(items):
    # Quoting each word (escaping \ and ") gives back exactly those words.
    quoted = " ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in items)
    assert words(quoted) == tuple(items)


# --- substitution -----------------------------------------------------------------------------


def test_plain_and_braced_variables():
    # $NAME and ${NAME} substitute; an unset one is empty.
    assert expand("$HOME/x") == ["/home/me/x"]
    assert expand("${HOME}x") == ["/home/mex"]
    assert expand("<$NOPE>") == ["<>"]


def test_one_variable_gives_one_word():
    # Substitution comes after splitting: spaces in a value stay inside the argument.
    assert expand_command(("echo", "$WORDS"), ENV.get, None) == ("echo", "  one two  ")


def test_unset_variable_keeps_an_empty_argument():
    # dinit-service(5): an undefined variable gives a zero-length argument.
    assert expand_command(("a", "$NOPE", "b"), ENV.get, None) == ("a", "", "b")


@pytest.mark.parametrize("word, result", [
    ("${NOPE:-d}", "d"), ("${EMPTY:-d}", "d"), ("${X:-d}", "x"),
    ("${NOPE-d}", "d"), ("${EMPTY-d}", ""), ("${X-d}", "x"),
    ("${NOPE:+a}", ""), ("${EMPTY:+a}", ""), ("${X:+a}", "a"),
    ("${NOPE+a}", ""), ("${EMPTY+a}", "a"), ("${X+a}", "a"),
])
def test_parameter_expansion_forms(word, result):
    # The four shell forms, for unset, empty and set variables.
    assert expand(word) == [result]


def test_double_dollar_is_a_literal_dollar():
    # $$ gives '$' and is not the start of a variable.
    assert expand("cost: $$HOME $$$X") == ["cost: $HOME $x"]


def test_slash_variable_splits_into_words():
    # $/VAR splits on whitespace; text around it sticks to the first and last words.
    assert expand("pre$/WORDS-post") == ["pre", "one", "two", "-post"]
    assert expand_command(("a", "$/WORDS", "b"), ENV.get, None) == ("a", "one", "two", "b")


def test_slash_variable_collapses_when_blank():
    # An empty or blank $/VAR leaves no argument at all.
    assert expand_command(("a", "$/EMPTY", "$/SPACE", "$/NOPE", "b"), ENV.get, None) == ("a", "b")


def test_service_argument():
    # $1 is the part after '@'; with no argument it is unset.
    assert expand("worker-$1", "3") == ["worker-3"]
    assert expand("${1:-none}", None) == ["none"]
    assert expand("[$1]", None) == ["[]"]


def test_quotes_do_not_stop_substitution():
    # Only $$ does: dinit substitutes after removing quotes.
    assert expand_command(words('"$HOME"'), ENV.get, None) == ("/home/me",)


def test_expand_value_rejoins_split_words():
    # In a one-string value a $/VAR split is joined again with single spaces.
    assert expand_value("x$/WORDS", ENV.get, None) == "x one two"


@pytest.mark.parametrize("word, message", [
    ("${HOME", "unmatched '{' in '${HOME'"),
    ("${HOME:-x", "unmatched '{' in '${HOME:-x'"),
    ("${HOME:x}", "expected '-' or '+' after ':' in '${HOME:x}'"),
    ("a$", "'$' must be followed by a variable name (write '$$' for a literal '$') in 'a$'"),
    ("$-x", "'$' must be followed by a variable name (write '$$' for a literal '$') in '$-x'"),
    ("$2", "only $1 (the service argument) is available, not $2"),
])
def test_malformed_references(word, message):
    # Each malformed reference is refused with a message naming it.
    with pytest.raises(BadValue) as caught:
        expand(word)
    assert str(caught.value) == message


# --- syntax errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ('command = "abc', "unterminated quoted string"),
    ("command = 'abc", "unterminated quoted string"),
    ("command = a#b", "'#' starts a comment only after whitespace; quote or escape it to use "
                      "it in a value"),
    ("just some words", "badly formed line; expected 'setting = value'"),
    ("= value", "badly formed line; expected 'setting = value'"),
    ("-x = 1", "badly formed line; expected 'setting = value'"),
    ("@frobnicate x", "unknown meta-command '@frobnicate'"),
])
def test_line_syntax_errors(text, message):
    # Each syntax error is a LoadError on the line, with no setting part.
    with pytest.raises(LoadError) as caught:
        parse_line(text, "/sd/web", 7)
    assert str(caught.value) == f"/sd/web:7: {message}"


def test_continuation_errors():
    # A continuation at the end of the file, or onto an unindented line, is an error.
    assert [str(e) for e in logical_lines("a = b \\", "/sd/x") if isinstance(e, LoadError)] == \
        ["/sd/x:1: the file ends after a continuation backslash"]
    found = list(logical_lines("a = b \\\nc = d\n", "/sd/x"))
    assert [str(e) for e in found if isinstance(e, LoadError)] == \
        ["/sd/x:2: a line after a continuation backslash must begin with whitespace"]
    assert (2, "c = d") in found  # the next line is still read


# --- includes ---------------------------------------------------------------------------------


def test_include_reads_fragments_relative_to_the_including_file(tmp_path):
    # @include is resolved from the fragment's directory; every setting keeps its own file.
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "common").write_text("restart = no\n@include more\n")
    (tmp_path / "parts" / "more").write_text("nice = 5\n")
    (tmp_path / "web").write_text("type = process\n@include parts/common\n"
                                  "@include-opt parts/absent\ncommand = x\n")
    settings, problems = read_description(str(tmp_path / "web"), lambda p: p)
    assert problems == []
    assert [(s.name, s.file, s.line) for s in settings] == [
        ("type", str(tmp_path / "web"), 1),
        ("restart", str(tmp_path / "parts" / "common"), 1),
        ("nice", str(tmp_path / "parts" / "more"), 1),
        ("command", str(tmp_path / "web"), 4),
    ]


def test_include_path_uses_preload_substitution(tmp_path):
    # The include path goes through the function given (the loader's pre-load substitution).
    (tmp_path / "inc-3").write_text("nice = 3\n")
    (tmp_path / "web").write_text("@include inc-$1\n")
    settings, _ = read_description(str(tmp_path / "web"), lambda p: expand_value(p, {}.get, "3"))
    assert [s.value for s in settings] == ["3"]
