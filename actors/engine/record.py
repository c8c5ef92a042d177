"""The engine's mutable per-service state and the links between services.

A `ServiceRecord` is the run-time twin of a frozen `ServiceSpec`. Its fields are changed only
by the dependency rules (`activation.py`, `rollback.py`) and the lifecycle table
(`lifecycle.py`); everything else reads them (the status object is built from them and nothing
else).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from actors.engine.model import ExitStatus, State, StopReason, TimerKind
from actors.engine.phases import Phase
from actors.engine.restart import RestartWindow
from actors.loader.spec import DepKind, ServiceSpec


class DepLink:
    """One edge: `dependent` relies on (or is ordered after) `dependency`.

    `before: X` declared on S is stored like `after: S` declared on X, so every link reads
    "dependent waits for dependency".
    """

    __slots__ = ("dependent", "dependency", "kind", "_waiting_on", "holding_acq")

    def __init__(self, dependent: ServiceRecord, dependency: ServiceRecord, kind: DepKind):
        self.dependent = dependent
        self.dependency = dependency
        self.kind = kind
        self._waiting_on = False
        # Invariant: True iff this link contributes 1 to `dependency.required_by`.
        self.holding_acq = False

    @property
    def waiting_on(self) -> bool:
        """The dependent waits for the dependency to start (or fail) before it can start.
        Invariant: `dependent.links_waited` counts the links where this is True."""
        return self._waiting_on

    @waiting_on.setter
    def waiting_on(self, value: bool) -> None:
        if value != self._waiting_on:
            self._waiting_on = value
            self.dependent.links_waited += 1 if value else -1

    @property
    def is_ordering(self) -> bool:
        return self.kind.is_ordering

    @property
    def is_hard(self) -> bool:
        """A hard link stops its dependent when the dependency stops. A milestone is hard only
        while the dependent still waits for it (dinit's service_dep::is_hard)."""
        return self.kind is DepKind.REGULAR or (self.kind is DepKind.MILESTONE and self.waiting_on)

    def __repr__(self) -> str:
        return f"<{self.dependent.name} -{self.kind.value}-> {self.dependency.name}>"


@dataclass(frozen=True, slots=True)
class NotifyState:
    """What a `notify` service last said of itself (sd_notify STATUS, STOPPING, RELOADING)."""

    status_text: str | None = None
    stopping: bool = False
    reloading: bool = False


@dataclass(eq=False, slots=True)
class Timer:
    kind: TimerKind
    deadline: float


@dataclass(eq=False, slots=True)
class ServiceRecord:
    spec: ServiceSpec
    state: State = State.STOPPED
    target: State = State.STOPPED
    # Whether a command (or the supervisor's command line) asked for this service to run.
    explicit: bool = False
    # Invariant (once queues are drained): explicit + number of links with holding_acq.
    required_by: int = 0
    # Counted in the engine's active total: from a start until it stops for good.
    active: bool = False
    deps: list[DepLink] = field(default_factory=list)
    dependents: list[DepLink] = field(default_factory=list)
    # How many of `deps` it is waiting on (kept by DepLink.waiting_on), so that "can it start
    # now?" costs nothing however many dependencies it has.
    links_waited: int = 0

    # Propagation requests, handled in phase one (see the engine's essay).
    prop_require: bool = False
    prop_release: bool = False
    prop_failure: bool = False
    prop_start: bool = False
    prop_stop: bool = False
    in_prop_queue: bool = False
    in_transition_queue: bool = False

    # STARTING: still waiting for dependencies. STOPPING: still waiting for dependents.
    waiting_for_deps: bool = False
    # It must actually stop (its process died, or a stop was forced): a stop that can't be
    # cancelled by a new start.
    force_stop: bool = False
    # What its start brought up is still there: set when it starts, cleared as soon as it
    # begins to be brought down. A stop turned round before that point needs no new start.
    running: bool = False
    start_failed: bool = False
    start_skipped: bool = False
    in_auto_restart: bool = False
    in_user_restart: bool = False
    stop_reason: StopReason | None = None
    gave_up: bool = False  # the restart limit was exceeded (it stopped as failed)
    # The hard dependency whose unexpected end forced this service down, until it starts again.
    lost_to: ServiceRecord | None = None
    failure: str = ""      # the last failure, in words, for messages

    # The process side (process and scripted services): what its commands are doing (the
    # lifecycle table's row), the running command's pid, and the last exit.
    phase: Phase = Phase.IDLE
    pid: int | None = None
    last_exit: ExitStatus | None = None
    last_start: float = float("-inf")
    window: RestartWindow = field(default_factory=RestartWindow)
    restarts: int = 0               # automatic restarts since last started by command
    timer: Timer | None = None
    # sd_notify (notify.py): what the service said of itself, and why its watchdog fired
    # ("" while it has not; cleared at each launch).
    notify: NotifyState = field(default_factory=NotifyState)
    hung: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    def is_fundamentally_stopped(self) -> bool:
        """Stopped, or starting but still only waiting for dependencies (trivially stoppable)."""
        return self.state is State.STOPPED or (self.state is State.STARTING and self.waiting_for_deps)

    def __repr__(self) -> str:
        return (f"<{self.name} {self.state.value}->{self.target.value} req={self.required_by}"
                f"{' explicit' if self.explicit else ''}>")
