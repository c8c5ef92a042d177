"""The frozen description of one service, as the loaders produce it and the engine reads it.

A `ServiceSpec` is validated once, by the loader, and trusted everywhere after that: nothing
past the loader re-checks a spec. It holds no open files and no live objects, so specs can be
compared (for `reload`), copied into messages, and built by hand in tests.

This module is also the one place for the defaults that come from dinit (dinit-service(5)); each
is cited where it is defined. It imports nothing with I/O, because the engine imports it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------------------------
# Enumerations
# ---------------------------------------------------------------------------------------------


class ServiceType(enum.Enum):
    """What a service runs (dinit-service(5), "SERVICE TYPES")."""

    PROCESS = "process"     # a long-running daemon in the foreground; started once executing (or ready)
    SCRIPTED = "scripted"   # `command` runs to completion to start; `stop-command` runs to stop
    INTERNAL = "internal"   # no process: a group or a milestone


class RestartPolicy(enum.Enum):
    """When a service comes back by itself after it stopped without being asked to."""

    YES = "yes"                # always (dinit's build default ALWAYS)
    ON_FAILURE = "on-failure"  # only after an unclean exit; see `exit_is_clean` in the engine
    NO = "no"                  # never


class LogType(enum.Enum):
    """Where a service's stdout and stderr go (dinit-service(5), `log-type`)."""

    NONE = "none"      # discarded (/dev/null)
    FILE = "file"      # appended to `logfile`
    BUFFER = "buffer"  # kept in a ring buffer of `log-buffer-size` bytes, read by `zeroctl logs`
    INHERIT = "inherit"  # zeroinit's addition: the supervisor's own stdout/stderr (used by `main`)


class DepKind(enum.Enum):
    """How one service relates to another (dinit-service(5), "SERVICE DEPENDENCIES")."""

    REGULAR = "depends-on"   # hard: started first; its failure fails us; its stop stops us
    MILESTONE = "depends-ms"  # must start first; hard only while we still wait for it
    WAITS_FOR = "waits-for"  # soft: started first and waited for; its failure doesn't matter
    AFTER = "after"          # ordering only: wait for it if it is starting too; never starts it
    BEFORE = "before"        # ordering only, declared on the other side


class ReadyKind(enum.Enum):
    """How a process tells it is ready (dinit-service(5), `ready-notification`)."""

    PIPEFD = "pipefd"    # the write end of a pipe is the given file descriptor number
    PIPEVAR = "pipevar"  # the pipe's fd number is put in the given environment variable


# ---------------------------------------------------------------------------------------------
# Defaults (one place for each)
# ---------------------------------------------------------------------------------------------

DEFAULT_TYPE = ServiceType.INTERNAL           # dinit: a description without `type` is internal
DEFAULT_RESTART = RestartPolicy.YES           # dinit's build default DEFAULT_AUTO_RESTART=ALWAYS
DEFAULT_RESTART_DELAY = 0.2                   # dinit-service(5): restart-delay, seconds
DEFAULT_RESTART_LIMIT_INTERVAL = 10.0         # dinit-service(5): restart-limit-interval, seconds
DEFAULT_RESTART_LIMIT_COUNT = 3               # dinit-service(5): restart-limit-count (0 = no limit)
DEFAULT_START_TIMEOUT = 60.0                  # dinit's build default DEFAULT_START_TIMEOUT (0 = none)
DEFAULT_STOP_TIMEOUT = 10.0                   # dinit's build default DEFAULT_STOP_TIMEOUT (0 = none)
DEFAULT_TERM_SIGNAL = "SIGTERM"               # dinit-service(5): term-signal defaults to TERM
DEFAULT_LOG_BUFFER_SIZE = 4096                # dinit load-service.h: log_buffer_max default
DEFAULT_LOGFILE_MODE = 0o600                  # dinit-service(5): logfile-permissions default 600

# Signals after which `restart = on-failure` does not restart: the process was asked to go
# (dinit PR #338; dinit-service(5), `restart`).
CLEAN_EXIT_SIGNALS = frozenset({"SIGHUP", "SIGINT", "SIGTERM", "SIGUSR1", "SIGUSR2"})

# `options` flags zeroinit acts on (dinit-service(5), "OPTIONS").
OPTION_SIGNAL_PROCESS_ONLY = "signal-process-only"  # signal the process, not its group
OPTION_START_INTERRUPTIBLE = "start-interruptible"  # a start may be cancelled with SIGINT
OPTION_ALWAYS_CHAIN = "always-chain"                # chain-to fires whatever the exit
OPTION_SKIPPABLE = "skippable"                      # scripted: SIGINT during start = skipped


# ---------------------------------------------------------------------------------------------
# Value types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadyNotification:
    """`ready-notification = pipefd:N` or `pipevar:NAME`."""

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


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """Everything the supervisor knows about one service, validated and frozen.

    Dependency fields hold service names; the engine links them to records. Timeouts and delays
    are seconds (float); 0 means "no limit" for the two timeouts, as in dinit.
    """

    name: str
    type: ServiceType = DEFAULT_TYPE
    command: tuple[str, ...] = ()
    stop_command: tuple[str, ...] = ()
    working_dir: str | None = None
    env: tuple[tuple[str, str], ...] = ()  # from env-file (and load options); applied over the inherited environment
    env_clear: bool = False            # env-file `!clear`: start from an empty environment, not the inherited one
    env_unset: tuple[str, ...] = ()    # env-file `!unset`: inherited variables to remove (before `env` applies)
    run_as: RunAs | None = None
    term_signal: str | None = DEFAULT_TERM_SIGNAL  # a name like "SIGTERM"; None for `term-signal = none`

    depends_on: tuple[str, ...] = ()
    depends_ms: tuple[str, ...] = ()
    waits_for: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    chain_to: str | None = None

    restart: RestartPolicy = DEFAULT_RESTART
    smooth_recovery: bool = False
    restart_delay: float = DEFAULT_RESTART_DELAY
    restart_limit_interval: float = DEFAULT_RESTART_LIMIT_INTERVAL
    restart_limit_count: int = DEFAULT_RESTART_LIMIT_COUNT
    start_timeout: float = DEFAULT_START_TIMEOUT
    stop_timeout: float = DEFAULT_STOP_TIMEOUT

    logfile: str | None = None
    logfile_mode: int = DEFAULT_LOGFILE_MODE
    log_type: LogType = LogType.NONE
    log_buffer_size: int = DEFAULT_LOG_BUFFER_SIZE
    ready_notification: ReadyNotification | None = None

    options: frozenset[str] = frozenset()
    # Applied by the service's watcher to itself before it starts the process, so the process
    # inherits them (the watcher serves this one service only).
    nice: int | None = None
    oom_score_adj: int | None = None
    rlimits: tuple[tuple[str, int, int], ...] = ()  # ("nofile", soft, hard); -1 = unlimited
    instances: int | None = None  # zeroinit's addition: this service is a pool of N instances
    template_arg: str | None = None  # the `arg` of `name@arg`, substituted for $1
    source: Source | None = field(default=None, compare=False)

    def dependencies(self) -> list[tuple[DepKind, str]]:
        """Every declared link, in a fixed order: hard, milestone, soft, then ordering."""
        links: list[tuple[DepKind, str]] = []
        links += [(DepKind.REGULAR, n) for n in self.depends_on]
        links += [(DepKind.MILESTONE, n) for n in self.depends_ms]
        links += [(DepKind.WAITS_FOR, n) for n in self.waits_for]
        links += [(DepKind.AFTER, n) for n in self.after]
        links += [(DepKind.BEFORE, n) for n in self.before]
        return links

    def requires(self) -> tuple[str, ...]:
        """The services this one activates when it starts (everything but ordering links)."""
        return self.depends_on + self.depends_ms + self.waits_for

    @property
    def has_process(self) -> bool:
        return self.type is not ServiceType.INTERNAL


def split_template_name(name: str) -> tuple[str, str | None]:
    """`worker@3` -> ("worker", "3"); `web` -> ("web", None)."""
    base, sep, arg = name.partition("@")
    return (base, arg) if sep else (name, None)


def is_valid_service_name(name: str) -> bool:
    """dinit-service(5): non-empty, not starting with '.', alphanumerics, '.', '-', '_',
    bytes >= 0x80; an argument after '@' may additionally hold any of those."""
    if not name or name.startswith(".") or "/" in name:
        return False
    base, arg = split_template_name(name)
    if not base:
        return False
    allowed = lambda c: c.isalnum() or c in "._-" or ord(c) >= 0x80  # noqa: E731
    if not all(allowed(c) for c in base):
        return False
    return arg is None or all(allowed(c) or c in "@:+" for c in arg)
