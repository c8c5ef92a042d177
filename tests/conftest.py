"""Fixtures shared by the end-to-end tests.

The pytest worker makes itself a child subreaper, so that whatever a test's supervisor leaves
behind (watchers whose zygote is gone, daemons that double-forked) comes back to the worker;
after each test every process still below the worker is killed, and reaped.
"""

from __future__ import annotations

import ctypes
import os

import pytest

from tests.supervisor import Supervisor, descendants, kill_all

PR_SET_CHILD_SUBREAPER = 36


def pytest_configure(config: pytest.Config) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


@pytest.fixture
def sup(tmp_path):
    supervisor = Supervisor(tmp_path)
    try:
        yield supervisor
    finally:
        supervisor.close()
        _sweep()


def _sweep() -> None:
    """Kill and reap every process left below this worker (a test's leftovers)."""
    me = os.getpid()
    for _ in range(100):
        left = descendants(me)
        if not left:
            return
        kill_all(left)
        for pid in descendants(me, depth=1):
            try:
                os.waitpid(pid, 0)  # SIGKILLed: this returns at once
            except ChildProcessError:
                pass
