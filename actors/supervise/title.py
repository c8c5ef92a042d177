"""A process's title as `ps` shows it (`zeroinit: watch web`), without a compiled module.

`ps` and `top` show two things: the command line (/proc/PID/cmdline, the bytes of the argv
area at the top of the stack) and the 15-byte `comm` (/proc/PID/comm). Both can be written
by the process itself: `comm` directly (proc(5), since Linux 2.6.33), the argv area through
/proc/self/mem at the addresses /proc/self/stat gives (fields 48 and 49, arg_start and
arg_end, since Linux 3.5). That is what the `setproctitle` package does in C; here it costs
two file writes and no import beyond `os`. The title is cut to the space the original
command line had (a forked watcher has the root's, which is always long enough in practice).
Any failure leaves the title as it was: a title is a courtesy, never a reason to fail.
"""

from __future__ import annotations


COMM_BYTES = 15  # TASK_COMM_LEN is 16, with the terminating NUL


def set_title(title: str) -> None:
    data = title.encode(errors="replace")
    try:
        with open("/proc/self/comm", "wb") as f:
            f.write(data[:COMM_BYTES])
    except OSError:
        pass
    try:
        start, end = _argv_area()
        if end - start < 2:
            return
        room = end - start - 1  # keep a NUL at the end: ps reads to the first one
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            mem.write(data[:room].ljust(room + 1, b"\0"))
    except (OSError, ValueError, IndexError):
        pass


def _argv_area() -> tuple[int, int]:
    with open("/proc/self/stat", "rb") as f:
        stat = f.read()
    # Fields after the parenthesised comm (which may hold spaces) start at field 3.
    fields = stat[stat.rindex(b")") + 2:].split()
    return int(fields[47 - 2]), int(fields[48 - 2])
