"""`zeroctl logs` of a service with `log-type = file`: the tail of its logfile, read by the root."""

from __future__ import annotations

from typing import Any

from actors.supervise.rotating_log import read_tail_at

LOG_FILE_TAIL = 64 * 1024  # how much of a logfile `logs` shows


class LogfileError(Exception):
    """The logfile cannot be read; the message says why."""


def tail_of_logfile(path: str, keep: int = 0) -> dict[str, Any]:
    """The last LOG_FILE_TAIL bytes, from a line boundary, read on from the `keep` rotated
    files where the logfile itself is shorter: {"data", "truncated", "end"}; `end` is
    [device, inode, offset] of the logfile where the tail stops, for `logs -f` to go on from."""
    try:
        data, truncated, end = read_tail_at(path, keep, LOG_FILE_TAIL)
    except OSError as exc:
        raise LogfileError(f"cannot read logfile {path}: {exc.strerror}") from None
    return {"data": data, "truncated": truncated, "end": list(end)}
