"""The contract's status object: a `Snapshot` taken from a service record, and the dict built
from it at the protocol edge.

See shared/DESIGN.md, "Commands": the fields below are the ones scripts rely on; the extras
(`depends_ms`, `after`, `before`, `reason`, and sd_notify's `status_text` and `notify`) only
add to them.
"""

from __future__ import annotations

from typing import Any

from actors.engine.model import CRASH_REASONS, FAILURE_REASONS, Snapshot, State
from actors.engine.record import ServiceRecord
from actors.loader.kinds import ReadyKind


def is_failed(rec: ServiceRecord) -> bool:
    """True when the last start failed, or the service stopped through a failure."""
    if rec.start_failed or rec.gave_up:
        return True
    if rec.state is not State.STOPPED:
        return False
    if rec.stop_reason in FAILURE_REASONS:
        return True
    # A process told to go (HUP, INT, TERM, USR1, USR2) did not fail, whoever told it.
    return (rec.stop_reason in CRASH_REASONS and rec.last_exit is not None
            and not rec.last_exit.clean_for_on_failure)


def snapshot_of(rec: ServiceRecord) -> Snapshot:
    ready = rec.spec.ready_notification
    notify = rec.notify if ready is not None and ready.kind is ReadyKind.NOTIFY else None
    return Snapshot(rec.spec, rec.state, rec.target, rec.explicit, rec.pid, is_failed(rec),
                    rec.stop_reason, rec.last_exit, rec.restarts, rec.failure, notify)


def status_object(snap: Snapshot) -> dict[str, Any]:
    """The status object of the contract (a msgpack/JSON-ready dict)."""
    spec = snap.spec
    return {
        "name": spec.name,
        "type": spec.type.value,
        "state": snap.state.value,
        "target": snap.target.value,
        "explicit": snap.explicit,
        "pid": snap.pid,
        "failed": snap.failed,
        "stop_reason": snap.stop_reason.value if snap.stop_reason else None,
        "exit": snap.last_exit.as_json() if snap.last_exit else None,
        "restarts": snap.restarts,
        "depends_on": list(spec.depends_on),
        "waits_for": list(spec.waits_for),
        "depends_ms": list(spec.depends_ms),
        "after": list(spec.after),
        "before": list(spec.before),
        "reason": snap.reason or None,
        # shared/DESIGN.md, sd_notify: STATUS=... as "status_text"; STOPPING=1 and RELOADING=1
        # under "notify" (null for a service that does not speak sd_notify).
        "status_text": snap.notify.status_text if snap.notify else None,
        "notify": {"stopping": snap.notify.stopping, "reloading": snap.notify.reloading}
        if snap.notify else None,
    }
