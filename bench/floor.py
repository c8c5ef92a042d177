"""The floor zeroinit is compared with: a Python program that forks one watcher per service,
each watcher forking and exec'ing its service and waiting on it, with no messaging at all.

    python bench/floor.py [--respawn] N COMMAND [ARG...]

It runs until SIGTERM, which it passes to every watcher (which pass it to their service).
With --respawn a watcher starts its service again whenever it dies: the floor of restart
latency, with the same process shape as zeroinit's but no decision to make or message to send.
"""

from __future__ import annotations

import gc
import os
import signal
import sys


def watcher(argv: list[str], respawn: bool) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    stopping = False
    pid = 0

    def stop(*_):
        nonlocal stopping
        stopping = True
        if pid:  # 0 would signal our whole process group
            os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    while True:
        pid = os.fork()
        if pid == 0:
            os.setsid()
            os.execvp(argv[0], argv)
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        if stopping or not respawn:
            os._exit(0)


def main() -> None:
    respawn = sys.argv[1] == "--respawn"
    args = sys.argv[2:] if respawn else sys.argv[1:]
    count, argv = int(args[0]), args[1:]
    gc.freeze()  # the same courtesy the zygote gets
    children = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            watcher(argv, respawn)
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
