"""The contract's status object, built from a service record and nothing else.

See shared/DESIGN.md, "Commands": the fields below are the ones scripts rely on; the extras
(`depends_ms`, `after`, `before`, `reason`) only add to them.
"""

from __future__ import annotations

from typing import Any

from actors.engine.model import FAILURE_REASONS, State, StopReason
from actors.engine.record import ServiceRecord


def is_failed(rec: ServiceRecord) -> bool:
    """True when the last start failed, or the service stopped through a failure."""
    if rec.start_failed or rec.gave_up:
        return True
    if rec.state is not State.STOPPED:
        return False
    if rec.stop_reason in FAILURE_REASONS:
        return True
    # A process told to go (HUP, INT, TERM, USR1, USR2) did not fail, whoever told it.
    return (rec.stop_reason is StopReason.TERMINATED and rec.last_exit is not None
            and not rec.last_exit.clean_for_on_failure)


def status_of(rec: ServiceRecord) -> dict[str, Any]:
    spec = rec.spec
    return {
        "name": spec.name,
        "type": spec.type.value,
        "state": rec.state.value,
        "target": rec.target.value,
        "explicit": rec.explicit,
        "pid": rec.pid,
        "failed": is_failed(rec),
        "stop_reason": rec.stop_reason.value if rec.stop_reason else None,
        "exit": rec.last_exit.as_json() if rec.last_exit else None,
        "restarts": rec.restarts,
        "depends_on": list(spec.depends_on),
        "waits_for": list(spec.waits_for),
        "depends_ms": list(spec.depends_ms),
        "after": list(spec.after),
        "before": list(spec.before),
        "reason": rec.failure or None,
    }
