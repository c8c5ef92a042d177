"""The closed vocabularies a service description speaks: service types, restart policies, log
types, link kinds, readiness, and the names of `options`; and the small frozen values some
settings resolve to (`RunAs`, `ReadyNotification`, `Source`).

Pure data, no I/O: the engine reads these as much as the loader writes them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ServiceType(enum.Enum):
    """What a service runs (dinit-service(5), "SERVICE TYPES")."""

    PROCESS = "process"     # a long-running daemon in the foreground; started once executing (or ready)
    SCRIPTED = "scripted"   # `command` runs to completion to start; `stop-command` runs to stop
    INTERNAL = "internal"   # no process: a group or a milestone


class RestartPolicy(enum.Enum):
    """When a service comes back by itself after it stopped without being asked to."""

    YES = "yes"                # always (dinit's build default ALWAYS)
    ON_FAILURE = "on-failure"  # only after an unclean exit (engine/restart.py)
    NO = "no"                  # never


class LogType(enum.Enum):
    """Where a service's stdout and stderr go (dinit-service(5), `log-type`)."""

    NONE = "none"      # discarded (/dev/null)
    FILE = "file"      # appended to `logfile`
    BUFFER = "buffer"  # kept in a ring buffer of `log-buffer-size` bytes, read by `zeroctl logs`
    INHERIT = "inherit"  # zeroinit's addition: the supervisor's own stdout/stderr (used by `main`)


class DepKind(enum.Enum):
    """How one service relates to another (dinit-service(5), "SERVICE DEPENDENCIES"). The value
    is the setting that declares it, as users write it and as `zeroctl tree` shows it."""

    REGULAR = "depends-on"   # hard: started first; its failure fails us; its stop stops us
    MILESTONE = "depends-ms"  # must start first; hard only while we still wait for it
    WAITS_FOR = "waits-for"  # soft: started first and waited for; its failure doesn't matter
    AFTER = "after"          # ordering only: wait for it if it is starting too; never starts it
    BEFORE = "before"        # ordering only, declared on the other side

    @property
    def is_ordering(self) -> bool:
        return self is DepKind.AFTER or self is DepKind.BEFORE


class ReadyKind(enum.Enum):
    """How a process tells it is ready (dinit-service(5), `ready-notification`)."""

    PIPEFD = "pipefd"    # the write end of a pipe is the given file descriptor number
    PIPEVAR = "pipevar"  # the pipe's fd number is put in the given environment variable
    NOTIFY = "notify"    # zeroinit's addition: systemd's sd_notify datagrams on NOTIFY_SOCKET


# `options` flags zeroinit acts on (dinit-service(5), "OPTIONS") ...
OPTION_SIGNAL_PROCESS_ONLY = "signal-process-only"  # signal the process, not its group
OPTION_START_INTERRUPTIBLE = "start-interruptible"  # a start may be cancelled with SIGINT
OPTION_ALWAYS_CHAIN = "always-chain"                # chain-to fires whatever the exit
OPTION_SKIPPABLE = "skippable"                      # scripted: SIGINT during start = skipped
ACTED_ON_OPTIONS = frozenset({OPTION_SIGNAL_PROCESS_ONLY, OPTION_START_INTERRUPTIBLE,
                              OPTION_ALWAYS_CHAIN, OPTION_SKIPPABLE})
# ... and the ones about dinit's console, control socket or host, which mean nothing here.
IGNORED_OPTIONS = frozenset({"runs-on-console", "starts-on-console", "shares-console",
                             "unmask-intr", "starts-rwfs", "starts-log", "pass-cs-fd",
                             "kill-all-on-stop", "no-new-privs"})
# `load-options` (dinit-service(5)): how the description itself is read.
LOAD_OPTIONS = frozenset({"export-passwd-vars", "export-service-name", "sub-vars"})


@dataclass(frozen=True, slots=True)
class ReadyNotification:
    """`ready-notification = pipefd:N`, `pipevar:NAME` or `notify`."""

    kind: ReadyKind
    fd: int = -1        # for PIPEFD: the descriptor number the process writes to
    var: str = ""       # for PIPEVAR: the environment variable that receives the number


@dataclass(frozen=True, slots=True)
class RunAs:
    """`run-as`: the user a process runs as, resolved at load time.

    By name: that user's uid, primary group and supplementary groups (like initgroups). By
    number: that uid, the supervisor's own gid kept and supplementary groups dropped (dinit's
    rule).
    """

    uid: int
    gid: int | None          # None: keep the supervisor's gid
    groups: tuple[int, ...]  # supplementary groups; empty means "drop them"
    name: str = ""           # the user name, when given by name (for HOME/USER and messages)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a spec came from, so errors, `status` and `reload` can point at it."""

    path: str           # the description file (or cinit directory)
    mtime_ns: int = 0   # its modification time when loaded, to warn when it changed since
