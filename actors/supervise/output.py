"""A service's output: where each launch's stdout and stderr go, and what its watcher keeps.

By `log-type` (the `log` map of the root's launch description, actors/root/launch.py):

* `none`: /dev/null. `inherit`: the watcher's own stdout and stderr.
* `file` without `logfile-max-size`: the command appends to the logfile itself; the watcher
  is not in the way at all.
* `file` with `logfile-max-size`, and `buffer`: the command writes into a pipe the watcher
  reads. `buffer` keeps the last `log-buffer-size` bytes (`OutputBuffer`); a rotating file is
  written by the watcher (`RotatingLog`), so it rotates whether or not the root is there.

The pipe is made once and kept for every later launch of the service, so output written by a
process that outlives its command (a daemon's child) still arrives. Nothing here blocks: the
pipe's read end is non-blocking and the watcher's poll says when to read.
"""

from __future__ import annotations

import os
from typing import Any

from actors.supervise.rotating_log import RotatingLog

DEVNULL = "devnull"  # a command's stdin or output goes to /dev/null
READ_SIZE = 65536    # bytes read from the pipe at a time


class OutputBuffer:
    """The last `size` bytes of a service's output (a ring: old output makes way for new)."""

    def __init__(self, size: int, seed: bytes = b""):
        self.size = max(0, size)
        self._data = bytearray(seed[-self.size:] if self.size else b"")
        self.truncated = len(seed) > self.size

    def append(self, data: bytes) -> None:
        self._data += data
        excess = len(self._data) - self.size
        if excess > 0:
            del self._data[:excess]
            self.truncated = True

    def snapshot(self) -> bytes:
        return bytes(self._data)

    def clear(self) -> None:
        self._data.clear()
        self.truncated = False


class ServiceOutput:
    """The output of one service's commands: the pipe, the buffer, the rotating logfile."""

    def __init__(self, log: dict[str, Any], seed: bytes = b""):
        # The root always sends the size (the spec's log-buffer-size): no default here.
        self.buffer = OutputBuffer(log["size"] if log.get("type") == "buffer" else 0, seed)
        self.fd: int | None = None           # read end of the pipe, once there is one
        self._write_end: int | None = None   # its write end, given to every launch
        self.logfile: RotatingLog | None = None  # log-type file with a logfile-max-size

    def targets(self, log: dict[str, Any]) -> tuple[Any, Any, list[int]]:
        """stdin and stdout/stderr for a command (None: inherit; DEVNULL; or an fd), and
        the fds to close once it runs. OSError if the logfile cannot be opened."""
        kind = log.get("type", "none")
        if kind == "inherit":
            return None, None, []
        if kind == "file" and log.get("max_size"):
            self._use_logfile(log)
            return DEVNULL, self._pipe(), []
        self.close_logfile()  # (a reload may have turned rotation off)
        if kind == "file":
            fd = os.open(log["file"], os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                         log.get("mode", 0o600))
            return DEVNULL, fd, [fd]
        if kind == "buffer":
            return DEVNULL, self._pipe(), []
        return DEVNULL, DEVNULL, []

    def read(self) -> bytes:
        """What the pipe holds now (b"" if nothing): kept, and returned for followers."""
        try:
            data = os.read(self.fd, READ_SIZE)
        except BlockingIOError:
            return b""
        self.buffer.append(data)
        if self.logfile is not None:
            self.logfile.write(data)
        return data

    def drain(self) -> None:
        """Read everything waiting in the pipe."""
        if self.fd is not None:
            while self.read():
                pass

    def command_ended(self) -> None:
        """The service's command exited: its last words go to the logfile, even a line
        without its newline."""
        if self.logfile is not None:
            self.drain()
            self.logfile.flush()

    def close_logfile(self) -> None:
        """Write out all output meant for the rotating logfile, and close it."""
        if self.logfile is not None:
            self.drain()
            self.logfile.close()
            self.logfile = None

    def _pipe(self) -> int:
        if self._write_end is None:
            self.fd, self._write_end = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
            os.set_blocking(self._write_end, True)
        return self._write_end

    def _use_logfile(self, log: dict[str, Any]) -> None:
        settings = (log["file"], log.get("mode", 0o600), log["max_size"], log.get("keep", 5))
        if self.logfile is None or self.logfile.settings != settings:
            self.close_logfile()
            self.logfile = RotatingLog(*settings)
