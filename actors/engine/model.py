"""The engine's vocabulary: states, stop reasons, events, process exits, timers and effects.

Everything here is a small immutable value. Signals are carried by name ("SIGTERM"), never by
number, so that the engine needs no `signal` module; the actors translate names to numbers.
Events and log levels are `StrEnum`s: typed inside, and their own words at the protocol edge.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

# Signals after which `restart = on-failure` does not restart: the process was asked to go
# (dinit PR #338; dinit-service(5), `restart`).
CLEAN_EXIT_SIGNALS = frozenset({"SIGHUP", "SIGINT", "SIGTERM", "SIGUSR1", "SIGUSR2"})


class State(enum.Enum):
    """Where a service is. A target (desired state) is always STOPPED or STARTED."""

    STOPPED = "stopped"    # not running; nothing held
    STARTING = "starting"  # waiting for dependencies, for its process to execute, or to be ready
    STARTED = "started"    # up; dependents may rely on it
    STOPPING = "stopping"  # waiting for dependents to stop, or for its process to end


class StopReason(enum.Enum):
    """Why a service last stopped (dinit's stopped_reason_t)."""

    NORMAL = "normal"             # stopped by command or because nothing needs it any more
    DEP_RESTART = "dep-restart"   # a hard dependency is being restarted by command
    DEP_FAILED = "dep-failed"     # a hard dependency failed or stopped for good
    FAILED = "failed"             # its start failed: exited before ready, or the command failed
    EXEC_FAILED = "exec-failed"   # its command could not be executed
    TIMED_OUT = "timed-out"       # its start took longer than start-timeout
    TERMINATED = "terminated"     # its process ended unexpectedly while it was started
    WATCHDOG = "watchdog"         # it was started, missed its watchdog deadline and was aborted


# Stop reasons of a process that ended while started: a crash, handled alike (its dependents
# come back with it when its policy restarts it).
CRASH_REASONS = frozenset({StopReason.TERMINATED, StopReason.WATCHDOG})

# Stop reasons that count as a failure of the service itself or of what it needs.
FAILURE_REASONS = frozenset({StopReason.DEP_FAILED, StopReason.FAILED, StopReason.EXEC_FAILED,
                             StopReason.TIMED_OUT})


class Event(enum.StrEnum):
    """What happened to a service, as `Notify` and the `events` stream say it."""

    STARTING = "starting"  # its state became STARTING
    STARTED = "started"    # ... STARTED
    STOPPING = "stopping"  # ... STOPPING
    STOPPED = "stopped"    # ... STOPPED
    FAILED = "failed"      # a start failed, or it gave up restarting (the reason says why)


class LogLevel(enum.StrEnum):
    INFO = "info"          # what the supervisor is doing; not shown with --quiet
    WARNING = "warning"    # something went wrong and was handled
    ERROR = "error"        # something failed


class Role(enum.Enum):
    """Which of a service's commands a process runs."""

    START = "start"  # `command`
    STOP = "stop"    # `stop-command`


class TimerKind(enum.Enum):
    """The one deadline a service can be waiting for (s6-supervise style: one at a time)."""

    START = "start"      # start-timeout: counted once dependencies are up
    STOP = "stop"        # stop-timeout: counted once dependents are down; then SIGKILL
    RESTART = "restart"  # restart-delay before an automatic relaunch


@dataclass(frozen=True, slots=True)
class ExitStatus:
    """How a process ended: an exit code, or the name of the signal that killed it."""

    code: int | None = None
    signal: str | None = None

    @property
    def clean(self) -> bool:
        """Exit 0 (dinit's did_exit_clean)."""
        return self.code == 0 and self.signal is None

    @property
    def clean_for_on_failure(self) -> bool:
        """Whether `restart = on-failure` leaves this exit alone: exit 0, or a signal that asks
        a process to go (HUP, INT, TERM, USR1, USR2; dinit PR #338)."""
        if self.signal is not None:
            return self.signal in CLEAN_EXIT_SIGNALS
        return self.code == 0

    def describe(self) -> str:
        if self.signal is not None:
            return f"killed by {self.signal}"
        return f"exited with code {self.code}"

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "signal": self.signal}


# ---------------------------------------------------------------------------------------------
# Effects: what the engine asks the actors to do. Each names the service it concerns.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spawn:
    """Run one of the service's commands (the daemon, the start script, or the stop command).

    `kill_after`: for a stop command, the stop-timeout after which the watcher itself kills
    whatever of the service still runs (0: never), so a stop completes even without the root.
    """

    service: str
    role: Role = Role.START
    kill_after: float = 0.0


@dataclass(frozen=True, slots=True)
class Signal:
    """Send a signal to the service's process, or to its whole process group.

    `kill_after`: when the signal is a stop, the watcher sends SIGKILL to every process group
    of the service that is still there after that many seconds (0: no escalation), as
    s6-supervise does: the stop completes even if the root dies meanwhile.
    """

    service: str
    signal: str
    group: bool = True
    kill_after: float = 0.0


@dataclass(frozen=True, slots=True)
class Kill:
    """SIGKILL to every process group the service has (its process and its stop command)."""

    service: str


@dataclass(frozen=True, slots=True)
class Retire:
    """The service stopped and will not restart: its watcher may go."""

    service: str


@dataclass(frozen=True, slots=True)
class Chain:
    """`chain-to`: load (if needed) and start `target`, because `service` finished by itself."""

    service: str
    target: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A service as it is at one moment: what a status object is built from (status.py).

    Typed and cheap (the spec is shared, not copied); the dict is built only at the protocol
    edge, for the clients that ask.
    """

    spec: Any                     # the ServiceSpec (immutable)
    state: State
    target: State
    explicit: bool
    pid: int | None
    failed: bool
    stop_reason: StopReason | None
    last_exit: ExitStatus | None
    restarts: int
    reason: str                   # the last failure in words, or ""
    notify: Any = None            # a `notify` service's NotifyState (record.py), else None

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True, slots=True)
class Notify:
    """A state change (or a failure), with the service as it is just after it.

    `reason` says why, in words, for failures.
    """

    service: str
    event: Event
    status: Snapshot
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Log:
    """Something worth a line in the supervisor's log that is not a state change."""

    service: str
    level: LogLevel
    message: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input the lifecycle table marks impossible for the service's phase (a report no
    watcher of ours would send then, or a rule calling in the wrong phase): nothing was done;
    the actor logs `what` and `why`."""

    service: str
    what: str
    why: str


@dataclass(frozen=True, slots=True)
class Idle:
    """No service is active any more: the supervisor may exit."""


Effect = Spawn | Signal | Kill | Retire | Chain | Notify | Log | Rejected | Idle
