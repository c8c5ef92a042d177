"""The frozen description of one service, as the loaders produce it and the engine reads it.

A `ServiceSpec` is validated once, by the loader, and trusted everywhere after that: nothing
past the loader re-checks a spec. It holds no open files and no live objects, so specs can be
compared (for `reload`), copied into messages, and built by hand in tests. Its defaults are the
settings' defaults, written once in `settings.py`. Pure: the engine imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from actors.loader.kinds import (  # noqa: F401 - re-exported: the spec's vocabulary
    OPTION_ALWAYS_CHAIN, OPTION_SIGNAL_PROCESS_ONLY, OPTION_SKIPPABLE,
    OPTION_START_INTERRUPTIBLE, DepKind, LogType, ReadyKind, ReadyNotification, RestartPolicy,
    RunAs, ServiceType, Source)
from actors.loader.settings import default


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """Everything the supervisor knows about one service, validated and frozen.

    Dependency fields hold service names; the engine links them to records. Timeouts and delays
    are seconds (float); 0 means "no limit" for the two timeouts, as in dinit.
    """

    name: str
    type: ServiceType = default("type")
    command: tuple[str, ...] = ()
    stop_command: tuple[str, ...] = ()
    working_dir: str | None = None
    env: tuple[tuple[str, str], ...] = ()  # from env-file (and load options); applied over the inherited environment
    env_clear: bool = False            # env-file `!clear`: start from an empty environment, not the inherited one
    env_unset: tuple[str, ...] = ()    # env-file `!unset`: inherited variables to remove (before `env` applies)
    run_as: RunAs | None = None
    term_signal: str | None = default("term-signal")  # a name like "SIGTERM"; None for `term-signal = none`

    depends_on: tuple[str, ...] = ()
    depends_ms: tuple[str, ...] = ()
    waits_for: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    chain_to: str | None = None

    restart: RestartPolicy = default("restart")
    smooth_recovery: bool = default("smooth-recovery")
    restart_delay: float = default("restart-delay")
    restart_limit_interval: float = default("restart-limit-interval")
    restart_limit_count: int = default("restart-limit-count")
    start_timeout: float = default("start-timeout")
    stop_timeout: float = default("stop-timeout")

    logfile: str | None = None
    logfile_mode: int = default("logfile-permissions")
    logfile_max_size: int | None = default("logfile-max-size")  # bytes; None: never rotated
    logfile_keep: int = default("logfile-keep")  # rotated files kept: logfile.1 .. logfile.N
    log_type: LogType = default("log-type")
    log_buffer_size: int = default("log-buffer-size")
    ready_notification: ReadyNotification | None = None
    # Seconds between the WATCHDOG=1 a `notify` service must send once ready; 0: no watchdog.
    watchdog_timeout: float = default("watchdog-timeout")

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

    @property
    def signals_group(self) -> bool:
        """Whether signals go to the process's whole group (dinit's default) rather than to the
        process alone (`options = signal-process-only`)."""
        return OPTION_SIGNAL_PROCESS_ONLY not in self.options


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
    if arg == "":
        return False  # `worker@`: a template named with nothing to fill it
    return arg is None or all(allowed(c) or c in "@:+" for c in arg)
