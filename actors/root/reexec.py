"""The root replacing itself in place: `zeroctl reexec` (a new version after `pip install -U`
takes over) and the way out of an unexpected error in the root's loop.

The root execs a fresh interpreter running `cli.zeroinit` with the arguments it was started
with (less `--ready-fd`, whose reader has been told already). Its pid does not change, so as
PID 1 it stays PID 1, and as a child subreaper it stays one (the flag survives exec); its
watchers keep their daemons and reconnect, and the new root takes them back from the state
file (`takeback.py`). Signals are blocked across the exec, so none that arrives meanwhile is
lost or kills a root without handlers: the new root unblocks them once its handlers are in.

An unexpected error re-executes the root the same way, but at most `MAX_CRASHES` times in
`WINDOW` seconds (the times travel in `ZEROINIT_REEXECS`): past that the fault is not a
hiccup, and the root shuts down in order instead of looping.
"""

from __future__ import annotations

import os
import signal
import sys
import time

HISTORY_ENV = "ZEROINIT_REEXECS"
MAX_CRASHES, WINDOW = 3, 60.0
BLOCKED = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1,
           signal.SIGUSR2, signal.SIGWINCH, signal.SIGCHLD)

# The arguments zeroinit was started with (set by cli/zeroinit.py).
arguments: list[str] = []


def crash_history(now: float | None = None) -> list[float]:
    """The wall-clock times of the crash re-execs within the window."""
    now = time.time() if now is None else now
    times = []
    for field in os.environ.get(HISTORY_ENV, "").split(","):
        try:
            value = float(field)
        except ValueError:
            continue
        if now - WINDOW <= value <= now:
            times.append(value)
    return times


def may_reexec_after_crash(now: float | None = None) -> bool:
    return len(crash_history(now)) < MAX_CRASHES


def without_ready_fd(argv: list[str]) -> list[str]:
    kept, skip = [], False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "--":
            return kept + argv[i:]
        if arg == "--ready-fd":
            skip = True
            continue
        if arg.startswith("--ready-fd="):
            continue
        kept.append(arg)
    return kept


def exec_root(crashed: bool) -> None:
    """Become a new root. Returns only if the exec failed (the caller carries on)."""
    env = dict(os.environ)
    history = crash_history()
    if crashed:
        history.append(time.time())
    env[HISTORY_ENV] = ",".join(f"{t:.3f}" for t in history)
    argv = [sys.executable, "-m", "cli.zeroinit", *without_ready_fd(arguments)]
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, BLOCKED)
    try:
        os.execve(sys.executable, argv, env)
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        raise


def unblock_signals() -> None:
    """In a new root, once its handlers are installed: let the signals in (those that came
    during the exec are delivered now)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, BLOCKED)
