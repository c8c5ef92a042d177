"""A logfile that rotates at line boundaries (`logfile-max-size`, `logfile-keep`), and the
reader that shows its tail across the rotated files.

The watcher owns the writing, so rotation goes on while the root is away: a service whose
logfile rotates writes into a pipe, and its watcher feeds what it reads to `RotatingLog.write`.

The rules, for a limit of `max_size` bytes:

* Output is written in whole lines. The bytes after the last newline of a chunk stay pending
  until their newline arrives; they are written as they are (a partial line) only when the
  command exits, when the watcher retires, or when more than `PENDING_LIMIT` bytes are pending
  (a "line" that long is written in pieces, all into the same file).
* A line that would take the file past `max_size` goes to a fresh file instead: `logfile`
  becomes `logfile.1`, `.1` becomes `.2` ... `.N-1` becomes `.N` (the old `.N` is gone),
  N = `keep`; with `keep = 0` the old file is simply removed. So a file passes the limit only
  when one line alone is longer than the limit, and then it holds that one line (or, after a
  partial line was written out, the one line in progress). Rotation never happens in the
  middle of a line, so no line is split across files, and none is written twice.
* A failed rename or open (a read-only directory, say) does not lose output: writing goes on
  in the current file, and rotation is tried again after another `max_size` bytes. Bytes the
  file itself refuses (disk full) cannot be kept anywhere; a line on stderr says so, once
  until a write succeeds again.

Only a regular file is rotated (a logfile that is a device or a fifo is written, never
renamed). Several services may share one logfile: a writer that finds the file already
rotated by another reopens it instead of rotating again, so nothing is lost, but each writer
counts only its own bytes, so the limit is then kept only roughly.

No imports beyond `os`, `stat` and `sys`: the zygote imports this for every watcher.
"""

from __future__ import annotations

import os
import stat
import sys

PENDING_LIMIT = 64 * 1024  # bytes of a line without newline held back before writing them
_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC


def rotated_path(path: str, index: int) -> str:
    """`path` itself for 0, else the index-th rotated file (`path.1` is the newest)."""
    return path if index == 0 else f"{path}.{index}"


class RotatingLog:
    """Writes a service's output to `path`, rotating past `max_size` bytes, keeping `keep`
    old files. `write` takes chunks as they come from the pipe; `flush` writes out a pending
    partial line. Opening the file may raise OSError; nothing after that does."""

    def __init__(self, path: str, mode: int, max_size: int, keep: int):
        self.path, self.mode, self.max_size, self.keep = path, mode, max_size, keep
        self._pending = bytearray()  # the start of a line whose newline has not come yet
        self._failing = False        # a write failed; said on stderr, not again until one works
        # The current file: its fd, its size as far as rotation counts, and whether it ends
        # in the middle of a line (then the next bytes finish that line, in this file).
        self.fd, self.size, self.mid_line = self._open()

    @property
    def settings(self) -> tuple[str, int, int, int]:
        return (self.path, self.mode, self.max_size, self.keep)

    def write(self, data: bytes) -> None:
        """Take a chunk of output: its whole lines are written, the rest waits."""
        end = data.rfind(b"\n") + 1
        if end:
            if self._pending:
                self._pending += data[:end]
                lines, self._pending = bytes(self._pending), bytearray(data[end:])
            else:
                lines, self._pending = data[:end], bytearray(data[end:])
            self._write_lines(lines)
        else:
            self._pending += data
        if len(self._pending) > PENDING_LIMIT:
            self.flush()

    def flush(self) -> None:
        """Write out the pending partial line (the command ended, or it grew too long)."""
        if not self._pending:
            return
        data, self._pending = bytes(self._pending), bytearray()
        if not self.mid_line and self.size and self.size + len(data) > self.max_size:
            self._rotate()  # a line starts here: it may go to a fresh file
        self._append(data)
        self.mid_line = True

    def close(self) -> None:
        self.flush()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    # --- inside -------------------------------------------------------------------------------

    def _write_lines(self, lines: bytes) -> None:
        """Write `lines` (which end with a newline): as many whole lines per file as fit."""
        view, pos, end = memoryview(lines), 0, len(lines)
        while pos < end:
            if self.mid_line:
                # Finish the line in progress where it started, whatever the size.
                cut = lines.index(b"\n", pos) + 1
                self.mid_line = False
            else:
                room = self.max_size - self.size
                cut = lines.rfind(b"\n", pos, pos + room) + 1 if room > 0 else 0
                if cut <= pos:  # not even the next line fits
                    if self.size:
                        self._rotate()
                        continue
                    cut = lines.index(b"\n", pos) + 1  # a line longer than the limit, alone
            self._append(view[pos:cut])
            pos = cut

    def _append(self, data) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.fd, view)
            except OSError as exc:
                if not self._failing:
                    self._failing = True
                    print(f"zeroinit watcher: cannot write to {self.path}: {exc.strerror}; "
                          f"output is lost until it can", file=sys.stderr, flush=True)
                return
            self._failing = False
            self.size += written
            view = view[written:]

    def _rotate(self) -> None:
        try:
            if not self._still_at_path():
                # Not a regular file (never renamed: think of /dev/console), or another
                # writer of the same logfile rotated it: count afresh, or write on in theirs.
                return self._reopen()
            for index in range(self.keep - 1, 0, -1):
                try:
                    os.rename(rotated_path(self.path, index), rotated_path(self.path, index + 1))
                except FileNotFoundError:
                    pass  # fewer old files than `keep` so far
            if self.keep:
                os.rename(self.path, rotated_path(self.path, 1))
            else:
                os.unlink(self.path)
        except FileNotFoundError:
            pass  # the logfile was removed by hand: start a new one
        except OSError as exc:
            return self._cannot_rotate(exc)
        try:
            fd, size, mid_line = self._open()
        except OSError as exc:  # the old file (now .1) stays open: nothing is lost
            return self._cannot_rotate(exc)
        os.close(self.fd)
        self.fd, self.size, self.mid_line = fd, size, mid_line

    def _still_at_path(self) -> bool:
        """Whether our file is a regular file still at `path` (OSError if `path` is gone)."""
        ours, there = os.fstat(self.fd), os.stat(self.path)
        return stat.S_ISREG(ours.st_mode) and \
            (ours.st_dev, ours.st_ino) == (there.st_dev, there.st_ino)

    def _reopen(self) -> None:
        if stat.S_ISREG(os.fstat(self.fd).st_mode):
            fd, size, mid_line = self._open()
            os.close(self.fd)
            self.fd, self.size, self.mid_line = fd, size, mid_line
        else:
            self.size = 0

    def _cannot_rotate(self, exc: OSError) -> None:
        print(f"zeroinit watcher: cannot rotate {self.path}: {exc.strerror}; writing on",
              file=sys.stderr, flush=True)
        self.size = 0  # try again after another max_size bytes, not at every line

    def _open(self) -> tuple[int, int, bool]:
        """Open (or create) the logfile: its fd, its size, and whether it ends mid-line (a
        partial line written before this watcher took over)."""
        fd = os.open(self.path, _OPEN_FLAGS, self.mode)
        size = os.fstat(fd).st_size
        return fd, size, size > 0 and _last_byte(self.path, size) != b"\n"


def _last_byte(path: str, size: int) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:  # write-only for us: take it as ending with a whole line
        return b"\n"
    try:
        return os.pread(fd, 1, size - 1)
    except OSError:  # not a regular file (a fifo, say): the same
        return b"\n"
    finally:
        os.close(fd)


def read_tail(path: str, keep: int, limit: int) -> tuple[bytes, bool]:
    """The last `limit` bytes of the log, across `path` and its rotated files `path.1` ..
    `path.keep`, oldest first; and whether older output was left out (then the data starts at
    a line boundary). A missing rotated file is skipped; a missing `path` raises OSError.

    Files are opened newest first and one seen twice is skipped, so a rotation happening
    while they are read does not show the same lines twice.
    """
    data, truncated, _ = read_tail_at(path, keep, limit)
    return data, truncated


def read_tail_at(path: str, keep: int, limit: int
                 ) -> tuple[bytes, bool, tuple[int, int, int]]:
    """`read_tail`, and where the tail ends: (device, inode, offset) of `path` as read, so
    that a follower can go on from exactly there (`cli/follow_file.py`)."""
    end = (0, 0, 0)
    chunks: list[bytes] = []
    seen: set[tuple[int, int]] = set()
    wanted = limit
    truncated = cut_in_a_line = False
    for index in range(keep + 1):
        try:
            f = open(rotated_path(path, index), "rb")
        except FileNotFoundError:
            if index == 0:
                raise
            continue
        with f:
            stat = os.fstat(f.fileno())
            if (stat.st_dev, stat.st_ino) in seen:
                continue
            seen.add((stat.st_dev, stat.st_ino))
            size = f.seek(0, os.SEEK_END)
            if index == 0:
                end = (stat.st_dev, stat.st_ino, size)
            if wanted <= 0:
                truncated = size > 0
                if truncated:
                    break
                continue
            start = max(0, size - wanted)
            f.seek(max(0, start - 1))
            data = f.read(wanted + 1 if start else wanted)
        if start:  # this file is cut: it is the oldest one read
            truncated, cut_in_a_line = True, data[:1] != b"\n"
            chunks.append(data[1:])
            break
        chunks.append(data)
        wanted -= len(data)
    data = b"".join(reversed(chunks))
    if cut_in_a_line and b"\n" in data:
        data = data[data.index(b"\n") + 1:]
    return data, truncated, end
