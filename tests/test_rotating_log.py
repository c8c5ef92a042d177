"""The rotating logfile (actors/supervise/rotating_log.py) and the watcher's output plumbing
around it (actors/supervise/output.py): exact file contents after many writes, partial lines,
the keep limit, a limit smaller than one line, failures that must not lose output, and the
tail read across rotated files."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from actors.supervise.output import ServiceOutput
from actors.supervise.rotating_log import PENDING_LIMIT, RotatingLog, read_tail


def numbered(first: int, last: int) -> bytes:
    return b"".join(b"%d\n" % n for n in range(first, last + 1))


def files(directory) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def packed(lines: list[bytes], limit: int) -> list[bytes]:
    """The reference: whole lines, greedily, a new file whenever the next line would pass
    the limit (a line longer than the limit alone in its file). Oldest file first."""
    out = [b""]
    for line in lines:
        if out[-1] and len(out[-1]) + len(line) > limit:
            out.append(b"")
        out[-1] += line
    return out


def as_rotated(chunks: list[bytes], name: str = "log") -> dict[str, bytes]:
    """The files expected for `chunks` (oldest first): name.N ... name.1, name."""
    count = len(chunks)
    return {(name if i == count - 1 else f"{name}.{count - 1 - i}"): c
            for i, c in enumerate(chunks)}


def test_many_writes_in_random_pieces_give_exactly_the_packed_files(tmp_path):
    # 3000 numbered lines arrive in pieces cut anywhere: the files are exactly the lines
    # packed whole into files of at most 100 bytes, newest in `log`, none lost or repeated.
    data = numbered(1, 3000)
    log = RotatingLog(str(tmp_path / "log"), 0o600, 100, 200)
    rng = random.Random(7)
    pos = 0
    while pos < len(data):
        step = rng.randint(1, 300)
        log.write(data[pos:pos + step])
        pos += step
    log.close()
    expected = packed(data.splitlines(keepends=True), 100)
    assert files(tmp_path) == as_rotated(expected)
    assert all(len(content) <= 100 for content in files(tmp_path).values())


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"") + b"\n"),
                      max_size=40),
       limit=st.integers(1, 80), cuts=st.lists(st.integers(0, 1200), max_size=20))
def test_any_chunking_gives_the_packed_files(tmp_path_factory, lines, limit, cuts):
    # Whatever the lines, the limit and where the pipe cut the stream: the reference packing.
    directory = tmp_path_factory.mktemp("log")
    data = b"".join(lines)
    log = RotatingLog(str(directory / "log"), 0o600, limit, 100)
    previous = 0
    for cut in sorted(c for c in cuts if c < len(data)) + [len(data)]:
        log.write(data[previous:cut])
        previous = cut
    log.close()
    expected = packed(lines, limit) if lines else [b""]
    assert files(directory) == as_rotated(expected)


def test_a_partial_line_waits_for_its_newline(tmp_path):
    # Bytes after the last newline are not written until their newline comes.
    path = tmp_path / "log"
    log = RotatingLog(str(path), 0o600, 1000, 5)
    log.write(b"one\ntw")
    assert path.read_bytes() == b"one\n"
    log.write(b"o and")
    assert path.read_bytes() == b"one\n"
    log.write(b" more\nthree")
    assert path.read_bytes() == b"one\ntwo and more\n"
    log.close()  # closing writes out what is pending
    assert path.read_bytes() == b"one\ntwo and more\nthree"


def test_a_flushed_partial_line_is_finished_in_the_same_file(tmp_path):
    # A partial line written out (its command exited) is not split by a rotation: the rest
    # of the line follows it in the same file, and the next line rotates.
    path = tmp_path / "log"
    log = RotatingLog(str(path), 0o600, 10, 5)
    log.write(b"12345\nabc")
    log.flush()
    assert path.read_bytes() == b"12345\nabc"
    log.write(b"defghij\nnext\n")
    log.close()
    assert files(tmp_path) == {"log": b"next\n", "log.1": b"12345\nabcdefghij\n"}


def test_a_flushed_partial_line_that_does_not_fit_starts_a_new_file(tmp_path):
    # A partial line starts at a line boundary, so it may rotate before it is written.
    log = RotatingLog(str(tmp_path / "log"), 0o600, 10, 5)
    log.write(b"12345678\nabcdef")
    log.flush()
    log.close()
    assert files(tmp_path) == {"log": b"abcdef", "log.1": b"12345678\n"}


def test_a_line_longer_than_the_pending_limit_is_written_in_pieces_into_one_file(tmp_path):
    # Past PENDING_LIMIT without a newline the bytes are written out (in a new file: they
    # start a line, and do not fit); the line stays whole in that one file however far past
    # the size it goes.
    log = RotatingLog(str(tmp_path / "log"), 0o600, 1000, 5)
    log.write(b"before\n")
    long = b"x" * (PENDING_LIMIT + 10)
    log.write(long[:PENDING_LIMIT // 2])
    assert files(tmp_path) == {"log": b"before\n"}
    log.write(long[PENDING_LIMIT // 2:])
    assert files(tmp_path) == {"log": long, "log.1": b"before\n"}
    log.write(b"end\nafter\n")
    log.close()
    assert files(tmp_path) == {"log": b"after\n", "log.1": long + b"end\n",
                               "log.2": b"before\n"}


def test_keep_limits_the_old_files_to_the_newest(tmp_path):
    # keep = 3: log, log.1, log.2, log.3 and nothing else; they hold the newest lines.
    log = RotatingLog(str(tmp_path / "log"), 0o600, 6, 3)
    log.write(numbered(1, 30))  # "N\n" is 2 or 3 bytes: 3 lines, then 2 lines a file
    log.close()
    expected = packed(numbered(1, 30).splitlines(keepends=True), 6)[-4:]
    assert files(tmp_path) == as_rotated(expected)
    assert (files(tmp_path)["log.1"], files(tmp_path)["log"]) == (b"28\n29\n", b"30\n")


def test_keep_zero_keeps_no_old_file(tmp_path):
    # keep = 0: a rotation starts the logfile afresh and no .1 is made.
    log = RotatingLog(str(tmp_path / "log"), 0o600, 4, 0)
    log.write(b"aa\nbb\ncc\n")
    log.close()
    assert files(tmp_path) == {"log": b"cc\n"}


def test_a_limit_smaller_than_one_line_gives_each_line_its_own_file(tmp_path):
    # Every line is longer than the 3-byte limit: one line a file, each line whole.
    log = RotatingLog(str(tmp_path / "log"), 0o600, 3, 10)
    log.write(b"first line\nsecond line\nthird\n")
    log.close()
    assert files(tmp_path) == {"log": b"third\n", "log.1": b"second line\n",
                               "log.2": b"first line\n"}


def test_an_existing_logfile_counts_toward_the_size(tmp_path):
    # Output from an earlier run is still in the file: it counts, and it rotates first.
    path = tmp_path / "log"
    path.write_bytes(b"old run\n")
    log = RotatingLog(str(path), 0o600, 10, 5)
    log.write(b"new run\n")
    log.close()
    assert files(tmp_path) == {"log": b"new run\n", "log.1": b"old run\n"}


def test_an_existing_logfile_ending_mid_line_is_finished_first(tmp_path):
    # The file ends in a partial line (a previous watcher wrote it out): the first line that
    # comes finishes it in the same file, whatever the size.
    path = tmp_path / "log"
    path.write_bytes(b"0123456789partial")
    log = RotatingLog(str(path), 0o600, 10, 5)
    log.write(b" end\nnext\n")
    log.close()
    assert files(tmp_path) == {"log": b"next\n", "log.1": b"0123456789partial end\n"}


def test_rotated_files_move_up_and_the_new_logfile_has_the_mode(tmp_path):
    # A rotation renames log -> log.1 -> log.2 and creates log with logfile-permissions.
    path = tmp_path / "log"
    log = RotatingLog(str(path), 0o640, 4, 5)
    log.write(b"aa\nbb\ncc\n")
    log.close()
    assert files(tmp_path) == {"log": b"cc\n", "log.1": b"bb\n", "log.2": b"aa\n"}
    assert os.stat(path).st_mode & 0o777 == 0o640 & ~_umask()


def test_a_rotation_that_cannot_rename_writes_on_and_loses_nothing(tmp_path, capfd):
    # log.1 is a non-empty directory, so `log` cannot be renamed over it: every line still
    # goes to `log`, and stderr says why it grows.
    (tmp_path / "log.1").mkdir()
    (tmp_path / "log.1" / "x").write_text("")
    log = RotatingLog(str(tmp_path / "log"), 0o600, 4, 1)
    log.write(b"aa\nbb\ncc\n")
    log.close()
    assert (tmp_path / "log").read_bytes() == b"aa\nbb\ncc\n"
    assert "cannot rotate" in capfd.readouterr().err


def test_writes_after_the_logfile_was_removed_by_hand_go_to_a_new_one(tmp_path):
    # Someone deleted `log`: the next rotation creates a new one instead of failing.
    path = tmp_path / "log"
    log = RotatingLog(str(path), 0o600, 4, 2)
    log.write(b"aa\n")
    path.unlink()
    log.write(b"bb\n")
    log.close()
    assert files(tmp_path) == {"log": b"bb\n"}


def test_a_logfile_that_is_not_a_regular_file_is_never_renamed(tmp_path):
    # logfile -> /dev/null (think of /dev/console): written, never rotated away.
    (tmp_path / "log").symlink_to(os.devnull)
    log = RotatingLog(str(tmp_path / "log"), 0o600, 4, 2)
    log.write(numbered(1, 100))
    log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log"]
    assert os.readlink(tmp_path / "log") == os.devnull


def test_a_writer_finding_its_logfile_rotated_by_another_reopens_it(tmp_path):
    # Two services share a logfile. A rotates it; B, still writing into the old file (now
    # log.1), finds at its own rotation that the logfile was already rotated, and writes on
    # in the new one instead of rotating it again.
    path = str(tmp_path / "log")
    a, b = RotatingLog(path, 0o600, 10, 5), RotatingLog(path, 0o600, 10, 5)
    a.write(b"a1\na2\na3\n")
    b.write(b"b1\n")
    a.write(b"a4\n")  # A: 9 + 3 bytes would pass 10: rotates
    b.write(b"b2\nb3\nb4\nb5\n")  # B: b2, b3 fit its count; b4 finds the file rotated
    a.close()
    b.close()
    assert files(tmp_path) == {"log.1": b"a1\na2\na3\nb1\nb2\nb3\n", "log": b"a4\nb4\nb5\n"}


# --- reading the tail across rotated files ----------------------------------------------------


def test_read_tail_joins_the_rotated_files_oldest_first(tmp_path):
    # log.2, log.1, log in that order; nothing left out, so not truncated.
    (tmp_path / "log.2").write_bytes(b"1\n2\n")
    (tmp_path / "log.1").write_bytes(b"3\n4\n")
    (tmp_path / "log").write_bytes(b"5\n")
    assert read_tail(str(tmp_path / "log"), 5, 1000) == (b"1\n2\n3\n4\n5\n", False)
    assert read_tail(str(tmp_path / "log"), 1, 1000) == (b"3\n4\n5\n", False)


def test_read_tail_cuts_at_a_line_boundary(tmp_path):
    # The limit falls inside log.1's "33\n": that part-line is left out; truncated.
    (tmp_path / "log.1").write_bytes(b"11\n22\n33\n")
    (tmp_path / "log").write_bytes(b"44\n")
    assert read_tail(str(tmp_path / "log"), 5, 5) == (b"44\n", True)
    # Exactly at a boundary: the whole line is kept.
    assert read_tail(str(tmp_path / "log"), 5, 6) == (b"33\n44\n", True)
    # Exactly the newest file: older files are left out.
    assert read_tail(str(tmp_path / "log"), 5, 3) == (b"44\n", True)


def test_read_tail_skips_missing_rotated_files_and_the_same_file_twice(tmp_path):
    # A gap (no log.1) is skipped; a file seen twice (as during a rotation) is read once.
    (tmp_path / "log").write_bytes(b"new\n")
    (tmp_path / "log.2").write_bytes(b"old\n")
    os.link(tmp_path / "log.2", tmp_path / "log.3")
    assert read_tail(str(tmp_path / "log"), 5, 1000) == (b"old\nnew\n", False)


def test_read_tail_of_a_missing_logfile_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_tail(str(tmp_path / "log"), 5, 1000)


def test_read_tail_matches_what_the_writer_wrote(tmp_path):
    # Written with rotation, read back in full: the very same bytes.
    data = numbered(1, 500)
    log = RotatingLog(str(tmp_path / "log"), 0o600, 64, 100)
    log.write(data)
    log.close()
    assert read_tail(str(tmp_path / "log"), 100, 1 << 20) == (data, False)


# --- the watcher's output plumbing ------------------------------------------------------------


def test_a_rotating_logfile_is_fed_through_the_pipe_and_flushed_when_the_command_ends(tmp_path):
    # log-type file with a max size: the command's stdout is the watcher's pipe; what is read
    # rotates; the command's last partial line is written once it has ended.
    path = tmp_path / "log"
    log = {"type": "file", "file": str(path), "mode": 0o600, "size": 4096,
           "max_size": 8, "keep": 5}
    output = ServiceOutput(log)
    stdin, out, to_close = output.targets(log)
    assert isinstance(out, int) and to_close == []
    subprocess.run([sys.executable, "-c",
                    "import sys; sys.stdout.write('aaaa\\nbbbb\\ncccc\\nno newline')"],
                   stdout=out, check=True)
    output.drain()
    assert files(tmp_path) == {"log": b"cccc\n", "log.1": b"bbbb\n", "log.2": b"aaaa\n"}
    output.command_ended()
    # "cccc\n" + "no newline" would pass 8 bytes, and a partial line starts a line: it rotates.
    assert files(tmp_path) == {"log": b"no newline", "log.1": b"cccc\n", "log.2": b"bbbb\n",
                               "log.3": b"aaaa\n"}
    output.close_logfile()


def test_a_logfile_without_max_size_is_written_by_the_command_itself(tmp_path):
    # No rotation: the command gets the logfile's own fd, no pipe and no writer.
    log = {"type": "file", "file": str(tmp_path / "log"), "mode": 0o600, "size": 4096,
           "max_size": None, "keep": 5}
    output = ServiceOutput(log)
    _, out, to_close = output.targets(log)
    assert to_close == [out] and output.fd is None and output.logfile is None
    os.close(out)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
