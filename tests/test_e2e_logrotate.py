"""End to end, with a real zeroinit: a service writing numbered lines fast into a logfile with
`logfile-max-size`: every line exactly once across logfile, logfile.1 ..., in order, no file
past the limit, `zeroctl logs` reading across them (and `-f` following through them, from the
tail on); and the same while the root is SIGKILLed in the middle of the stream (the watcher
rotates, not the root)."""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

from tests.supervisor import DEFAULT_WAIT, ZEROCTL

LIMIT = 4096
KEEP = 200  # more than the test writes: nothing falls off, so every line can be counted


def numbered(first: int, last: int) -> bytes:
    return b"".join(b"%d\n" % n for n in range(first, last + 1))


def log_files(logfile: Path) -> list[Path]:
    """logfile.N ... logfile.1, logfile: oldest first."""
    rotated = sorted((p for p in logfile.parent.glob(logfile.name + ".*")
                      if p.suffix[1:].isdigit()), key=lambda p: -int(p.suffix[1:]))
    return rotated + [logfile]


def ends_with_line(logfile: Path, last: int) -> bool:
    try:
        data = logfile.read_bytes()
    except FileNotFoundError:
        return False  # between a rotation's rename and the new file
    return data == b"%d\n" % last or data.endswith(b"\n%d\n" % last)


def assert_every_line_once_and_no_file_too_big(logfile: Path, last: int) -> list[Path]:
    paths = log_files(logfile)
    contents = [p.read_bytes() for p in paths]
    # In order, once each: the files joined are exactly the lines written.
    assert b"".join(contents) == numbered(1, last)
    for path, content in zip(paths, contents):
        # Each line is far shorter than the limit, so no file passes it at all, and every
        # file ends with a whole line.
        assert 0 < len(content) <= LIMIT and content.endswith(b"\n"), path.name
    return paths


def write_service(sup, name: str, logfile: Path, command: str) -> None:
    sup.write(name, f"""
        type = process
        command = {command}
        logfile = {logfile}
        logfile-max-size = 4K
        logfile-keep = {KEEP}
        restart = no
    """)


def test_numbered_lines_written_fast_rotate_with_none_lost_split_or_repeated(sup):
    # 30000 lines from `seq` (which writes 4 KiB blocks, cutting lines anywhere) rotate into
    # 4 KiB files; `zeroctl logs` shows the last 64 KiB across several of them.
    last = 30000
    logfile = sup.base / "out.log"
    writer = sup.script("writer.sh", f"seq 1 {last}\nexec sleep 1000\n")
    write_service(sup, "writer", logfile, str(writer))
    sup.start("writer")
    sup.wait_state("writer", "started")
    sup.poll(lambda: ends_with_line(logfile, last), "the last line in the logfile")
    paths = assert_every_line_once_and_no_file_too_big(logfile, last)
    assert len(paths) > 30
    assert os.stat(logfile).st_mode & 0o777 == 0o600
    shown = sup.ctl("logs", "writer", check=True).out.encode()
    everything = numbered(1, last)
    # The tail, from a line boundary, longer than any one file: read across rotated files.
    assert everything.endswith(shown) and everything[-len(shown) - 1:][:1] == b"\n"
    assert 16 * LIMIT - 10 <= len(shown) <= 16 * LIMIT


def test_rotation_goes_on_while_the_root_is_killed(sup):
    # The root is SIGKILLed between the first and second half of the stream: the watcher
    # keeps reading and rotating on its own, and no line is lost, split or repeated.
    half, last = 10000, 20000
    logfile = sup.base / "out.log"
    gate = sup.base / "go-on"
    writer = sup.script("writer.sh", f"""
        seq 1 {half}
        while [ ! -e {gate} ]; do sleep 0.02; done
        seq {half + 1} {last}
        exec sleep 1000
    """)
    write_service(sup, "writer", logfile, str(writer))
    sup.start("writer")
    pid = sup.wait_state("writer", "started")["pid"]
    sup.poll(lambda: ends_with_line(logfile, half), "the first half in the logfile")
    files_before = len(log_files(logfile))
    sup.proc.kill()
    sup.proc.wait()
    gate.touch()  # the second half is written with no root at all
    sup.poll(lambda: ends_with_line(logfile, last), "the second half in the logfile")
    paths = assert_every_line_once_and_no_file_too_big(logfile, last)
    assert len(paths) > files_before + 10  # rotated many times while the root was dead
    os.kill(pid, 0)  # the same service process wrote it all, still running


def test_logs_follow_reads_on_through_every_rotated_file(sup):
    # `zeroctl logs -f` shows the tail, then follows the logfile through dozens of rotations
    # between two of its looks: the lines it prints are every line, once, in order.
    first, last = 100, 20000
    logfile = sup.base / "out.log"
    gate = sup.base / "go-on"
    writer = sup.script("writer.sh", f"""
        seq 1 {first}
        while [ ! -e {gate} ]; do sleep 0.02; done
        seq {first + 1} {last}
        exec sleep 1000
    """)
    write_service(sup, "writer", logfile, str(writer))
    sup.start("writer")
    sup.wait_state("writer", "started")
    sup.poll(lambda: ends_with_line(logfile, first), "the first lines in the logfile")
    follower = subprocess.Popen([*ZEROCTL, "-s", sup.socket, "logs", "-f", "writer"],
                                stdout=subprocess.PIPE)
    try:
        seen = read_until(follower, numbered(1, first))  # the tail comes first
        gate.touch()
        seen = read_until(follower, b"\n%d\n" % last, seen)
        assert seen == numbered(1, last)
    finally:
        follower.kill()
        follower.wait()


def test_logs_follow_once_at_the_end_of_the_logfile_misses_no_rotated_file(sup):
    # The same, with the writer held until the follower has opened the logfile and stands at
    # its end: from there on, reading through dozens of rotations between two looks loses,
    # splits or repeats no line. (The test above also covers the moment between the tail the
    # root sends and the follower's own open of the file.)
    first, last = 100, 20000
    logfile = sup.base / "out.log"
    gate = sup.base / "go-on"
    writer = sup.script("writer.sh", f"""
        seq 1 {first}
        while [ ! -e {gate} ]; do sleep 0.02; done
        seq {first + 1} {last}
        exec sleep 1000
    """)
    write_service(sup, "writer", logfile, str(writer))
    sup.start("writer")
    sup.wait_state("writer", "started")
    sup.poll(lambda: ends_with_line(logfile, first), "the first lines in the logfile")
    follower = subprocess.Popen([*ZEROCTL, "-s", sup.socket, "logs", "-f", "writer"],
                                stdout=subprocess.PIPE)
    try:
        seen = read_until(follower, numbered(1, first))  # the tail comes first
        size = logfile.stat().st_size
        sup.poll(lambda: reading_at(follower.pid, logfile) == size,
                 "zeroctl logs -f at the end of the logfile")
        gate.touch()
        seen = read_until(follower, b"\n%d\n" % last, seen)
        assert seen == numbered(1, last)
        assert len(log_files(logfile)) > 20
    finally:
        follower.kill()
        follower.wait()


def reading_at(pid: int, path: Path) -> int | None:
    """Where process `pid` stands in the file at `path` it has open, if it has."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        for fd in fds.iterdir():
            try:
                if os.readlink(fd) == str(path):
                    info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                    return int(info.split("pos:")[1].split()[0])
            except OSError:
                continue  # closed meanwhile
    except OSError:
        pass
    return None


def read_until(proc: subprocess.Popen, ending: bytes, seen: bytes = b"") -> bytes:
    deadline = time.monotonic() + DEFAULT_WAIT
    fd = proc.stdout.fileno()
    while not seen.endswith(ending):
        left = deadline - time.monotonic()
        assert left > 0 and select.select([fd], [], [], left)[0], \
            f"no {ending[-20:]!r} from zeroctl logs -f; got {seen[-100:]!r}"
        chunk = os.read(fd, 65536)
        assert chunk, f"zeroctl logs -f ended; got {seen[-100:]!r}"
        seen += chunk
    return seen
