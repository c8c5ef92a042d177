"""The dependency engine: dinit's service activation model, with no I/O.

Events go in (a command, a report from a process, the passing of time), each with `now`, the
monotonic time in seconds; effects come out (`Spawn`, `Signal`, `Kill`, `Retire`, `Chain`,
`Notify`, `Log`, `Rejected`, `Idle`). No sockets, processes, clocks, threads or files: the
actors carry the effects out, and a test walks this package's imports to keep it so.

Where each rule lives: `activation.py` (require, release, start, a start's failure) and
`rollback.py` (stop, rollback of dependents, restart decisions) are the dependency rules, put
together with their two queues in `graph.py`; `lifecycle.py` is the table of what each service
type does with its processes, phase by phase (handlers in `process.py`, `scripted.py` and, for
what an sd_notify service says beyond READY=1 and for its watchdog, `notify.py`);
`restart.py` the restart policy and rate limit; `engine.py` the public face.

States
------
Each service has a current state and a target. The state is STOPPED, STARTING, STARTED or
STOPPING; the target is only STOPPED or STARTED. Together:

    STOPPED/STOPPED    stopped, and staying so
    STARTING/STARTED   starting: waiting for dependencies, for its exec, or to be ready
    STARTING/STOPPED   starting, and will stop as soon as it has started (a start that can't
                       be interrupted: its process is running and not ready yet)
    STARTED/STARTED    running
    STOPPING/STOPPED   stopping: waiting for dependents to stop, then for its process to end
    STOPPING/STARTED   stopping, and will start again once stopped (a restart)

Activation
----------
`required_by` counts why a service should run: 1 if it is explicitly activated (`start`, or
named on the supervisor's command line) plus 1 for every dependent holding an acquisition of it
through a link — hard and soft links alike, never ordering links (`before`/`after`). When the
count goes from 0 to 1 the service starts and acquires its own dependencies; when it falls to 0
its target becomes STOPPED, it releases them, and it stops. So starting a service starts its
dependency closure, and stopping it stops exactly what nothing else keeps alive.

A target of STOPPED also means "do not restart": a stop by command sets it on the service and
on every hard dependent it takes down, and removes their explicit activation, so nothing in the
stopped sub-tree comes back by itself.

Two phases
----------
Work is done in two phases, and never by recursion over the graph. In the propagation phase,
acquisitions and releases, start and stop requests, and start failures are passed between
services through a queue (`prop_*` flags), until no service has anything left to pass on. Only
then is one transition executed from the second queue: a STARTING service whose dependencies
are all up is brought up, a STOPPING service whose hard dependents are all down is brought
down. Then propagation runs again. Because counts settle before any service reaches STOPPED,
the decision to restart is made on the right count (dinit's service.h explains the bug this
prevents). Queuing a service that is already queued does nothing.

Stop order and rollback
-----------------------
A stopping service waits until every hard dependent is down, so services stop in reverse
dependency order; its `stop-timeout` is counted only from then. When a process dies
unexpectedly, the service is force-stopped: its hard dependents are rolled back first (reverse
order); then it restarts if its `restart` policy and the restart limit allow, and each
dependent comes back by its own policy. A dependent that comes back requires its dependency
again, so it can bring back a dependency whose own policy is `no`. If the service will not come
back, its hard dependents stop with reason dep-failed and stay down. A process aborted by its
watchdog is such a crash too, with stop reason `watchdog`. Soft links (`waits-for`,
a `depends-ms` already satisfied) are broken when the dependency stops for good, and kept over
a restart. A start failure fails the hard and still-waiting milestone dependents that were
starting; `waits-for` never fails anything.

Pools
-----
A pool is an internal service with a hard link to each instance. `resize` gives it new links
in any state (unlike `reload`): a new link of an active pool acquires at once, so new
instances start together; a dropped one is removed, highest index first, and its instance
stopped for good. `remove` then forgets a stopped service that nothing depends on.

Time
----
Each service has at most one deadline (start, stop or restart delay). `next_deadline()` gives
the earliest; the actor sleeps until then and calls `advance(now)`, which fires what is due.
"""

from actors.engine.engine import ACCEPTED, Engine, Outcome, UnknownService
from actors.engine.record import NotifyState
from actors.engine.model import (Chain, Effect, Event, ExitStatus, Idle, Kill, Log, LogLevel,
                                 Notify, Rejected, Retire, Role, Signal, Snapshot, Spawn, State,
                                 StopReason, TimerKind)

__all__ = [
    "ACCEPTED", "Chain", "Effect", "Engine", "Event", "ExitStatus", "Idle", "Kill", "Log",
    "LogLevel", "Notify", "NotifyState", "Outcome", "Rejected", "Retire", "Role", "Signal", "Snapshot", "Spawn",
    "State", "StopReason", "TimerKind", "UnknownService",
]
