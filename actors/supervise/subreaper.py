"""Becoming a child subreaper (Linux `prctl(PR_SET_CHILD_SUBREAPER)`): a process whose parent
dies is then re-parented to its nearest subreaper ancestor instead of to init, so the root
reaps what escapes its watchers, and each watcher what its service's processes leave behind.

`prctl` is resolved once, at import: the zygote imports this before forking, so a watcher calls
it without loading anything.
"""

from __future__ import annotations

import ctypes

PR_SET_CHILD_SUBREAPER = 36

try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None  # not Linux: orphans go to init, which reaps them


def become_subreaper() -> None:
    if _prctl is not None:
        _prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
