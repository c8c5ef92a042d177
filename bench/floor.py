"""The floor zeroinit is compared with: a Python program that forks one watcher per service,
each watcher forking and exec'ing its service and waiting on it, with no messaging at all.

    python bench/floor.py N COMMAND [ARG...]

It runs until SIGTERM, which it passes to every watcher (which pass it to their service).
"""

from __future__ import annotations

import gc
import os
import signal
import sys


def watcher(argv: list[str]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        os.execvp(argv[0], argv)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGTERM))
    while True:
        try:
            os.waitpid(pid, 0)
            os._exit(0)
        except InterruptedError:
            continue


def main() -> None:
    count, argv = int(sys.argv[1]), sys.argv[2:]
    gc.freeze()  # the same courtesy the zygote gets
    children = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            watcher(argv)
        children.append(pid)
    signal.signal(signal.SIGTERM, lambda *_: [os.kill(c, signal.SIGTERM) for c in children])
    for _ in children:
        while True:
            try:
                os.wait()
                break
            except InterruptedError:
                continue


if __name__ == "__main__":
    main()
