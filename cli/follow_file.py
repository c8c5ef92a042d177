"""`zeroctl logs -f` of a service with a logfile: tail -F in Python.

The file is read where it lies, and when it is rotated (renamed to path.1, a new file in its
place) reading goes on through each newer file in turn, so nothing written between two looks
is skipped, however many rotations there were.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, BinaryIO

from actors.supervise.rotating_log import rotated_path

POLL = 0.25  # a client-side poll, as tail -f does without inotify


def follow(path: str, write: Callable[[bytes], None],
           start: tuple[int, int, int] | None = None) -> None:
    """Write what is appended to `path`, for ever (the caller interrupts): from `start`
    (device, inode, offset: where the tail the root sent ended, in that file, even if it has
    been rotated since), else from the end."""
    f = _open_at(path, start)
    try:
        while True:
            data = f.read(65536)
            if data:
                write(data)
                continue
            successor = _successor(path, f)
            if successor is None:
                time.sleep(POLL)
                continue
            # Nothing more goes to a file once it is rotated: read it to its end.
            while data := f.read(65536):
                write(data)
            f.close()
            f = successor
    finally:
        f.close()


def _open_at(path: str, start: tuple[int, int, int] | None) -> BinaryIO:
    if start is not None:
        device, inode, offset = start
        for index in range(0, 1000):
            name = rotated_path(path, index)
            try:
                f = open(name, "rb")
            except FileNotFoundError:
                if index:
                    break  # the file has left the rotation: go on from the newest
                raise
            info = os.fstat(f.fileno())
            if (info.st_dev, info.st_ino) == (device, inode):
                f.seek(offset)
                return f
            f.close()
    f = open(path, "rb")
    f.seek(0, os.SEEK_END)
    return f


def _successor(path: str, current: BinaryIO) -> Any:
    """The file written after `current`, opened, once `current` has been rotated away:
    path.(N-1) if `current` is path.N now; path itself if it is not found; else None."""
    def same(name: str) -> bool:
        now, was = os.stat(name), os.fstat(current.fileno())
        return (now.st_dev, now.st_ino) == (was.st_dev, was.st_ino)

    try:
        if same(path):
            return None
    except OSError:
        return None  # between the rename and the new file: look again later
    index, newer = 1, path
    try:
        while not same(rotated_path(path, index)):
            newer, index = rotated_path(path, index), index + 1
    except OSError:
        newer = path  # not among the rotated files (it fell off the end): the newest
    try:
        return open(newer, "rb")
    except OSError:
        return None
