"""The root's re-exec (actors/root/reexec.py): its guard against a crash loop and the command
line it execs with. The exec itself is tested end to end in tests/test_takeback.py and, as
PID 1, in tests/test_pid1.py.
"""

from __future__ import annotations

import pytest

from actors.root import reexec


def test_three_crash_reexecs_in_a_minute_are_allowed_a_fourth_is_not(monkeypatch):
    now = 10_000.0
    monkeypatch.setenv(reexec.HISTORY_ENV, "")
    assert reexec.may_reexec_after_crash(now)
    monkeypatch.setenv(reexec.HISTORY_ENV, f"{now - 50},{now - 20}")
    assert reexec.may_reexec_after_crash(now)
    monkeypatch.setenv(reexec.HISTORY_ENV, f"{now - 50},{now - 20},{now - 1}")
    assert not reexec.may_reexec_after_crash(now)


def test_crashes_older_than_the_window_and_garbage_do_not_count(monkeypatch):
    now = 10_000.0
    monkeypatch.setenv(reexec.HISTORY_ENV,
                       f"{now - 61},{now - 120},junk,,{now + 5},{now - 2}")
    assert reexec.crash_history(now) == [now - 2]
    assert reexec.may_reexec_after_crash(now)


@pytest.mark.parametrize("argv, kept", [
    (["-d", "x", "--ready-fd", "5", "web"], ["-d", "x", "web"]),
    (["--ready-fd=7", "-q"], ["-q"]),
    (["--ready-fd", "3", "--", "sh", "--ready-fd", "9"], ["--", "sh", "--ready-fd", "9"]),
])
def test_the_new_root_is_not_given_the_ready_fd_again(argv, kept):
    # Its reader was told already; the number may name another file in the new root.
    assert reexec.without_ready_fd(argv) == kept
