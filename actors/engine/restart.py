"""Restart decisions as small pure functions: whether an exit calls for a restart, and whether
the restart rate limit allows one more.

The rate limit is dinit's (process_service::check_restart): restarts are counted in a window
that opens at the first restart after `restart-limit-interval` has passed; once
`restart-limit-count` restarts happened inside the window, the next one is refused. A start by
command opens a fresh window.
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.engine.model import ExitStatus
from actors.loader.spec import RestartPolicy, ServiceSpec, ServiceType


@dataclass(frozen=True, slots=True)
class RestartWindow:
    """Restarts counted since `opened` (monotonic seconds)."""

    opened: float = 0.0
    count: int = 0


def policy_wants_restart(spec: ServiceSpec, last_exit: ExitStatus | None) -> bool:
    """Whether the service's `restart` setting asks for a restart after it stopped unasked.

    `on-failure` applies to process services only and means `no` for the others (dinit issue
    #564 records that this is dinit's behaviour, surprising as it is).
    """
    if spec.restart is RestartPolicy.YES:
        return True
    if spec.restart is RestartPolicy.NO or spec.type is not ServiceType.PROCESS:
        return False
    return last_exit is not None and not last_exit.clean_for_on_failure


def admit_restart(window: RestartWindow, now: float, spec: ServiceSpec) -> RestartWindow | None:
    """The window after one more automatic restart at `now`, or None if the limit refuses it.

    Internal services are never limited: only a process can restart too quickly.
    """
    if spec.type is ServiceType.INTERNAL or spec.restart_limit_count == 0:
        return RestartWindow(window.opened, window.count + 1)
    if now - window.opened < spec.restart_limit_interval:
        if window.count >= spec.restart_limit_count:
            return None
        return RestartWindow(window.opened, window.count + 1)
    return RestartWindow(now, 1)
