"""`zeroctl logs` of a service with `log-type = file`: the tail of its logfile, read by the root."""

from __future__ import annotations

import os
from typing import Any

LOG_FILE_TAIL = 64 * 1024  # how much of a logfile `logs` shows


class LogfileError(Exception):
    """The logfile cannot be read; the message says why."""


def tail_of_logfile(path: str) -> dict[str, Any]:
    """The last LOG_FILE_TAIL bytes, from a line boundary: {"data", "truncated"}."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - LOG_FILE_TAIL))
            data = f.read()
    except OSError as exc:
        raise LogfileError(f"cannot read logfile {path}: {exc.strerror}") from None
    truncated = size > LOG_FILE_TAIL
    if truncated and b"\n" in data:
        data = data[data.index(b"\n") + 1:]
    return {"data": data, "truncated": truncated}
