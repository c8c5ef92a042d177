"""What every rule writes into: the records, the two work queues, the timers, the count of
active services, and the effects produced. No rule lives here (see `activation.py`,
`rollback.py` and `lifecycle.py`); this is the machinery they share.

`Rules` is the port the lifecycle handlers are given: the dependency rules they may call,
and nothing else of the graph.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Protocol

from actors.engine.model import Effect, Event, Log, LogLevel, Notify, State, TimerKind
from actors.engine.record import ServiceRecord, Timer
from actors.engine.status import snapshot_of


class Core:
    """Records, queues, timers and effects. The queues are drained by `ServiceGraph`."""

    def __init__(self) -> None:
        self.records: dict[str, ServiceRecord] = {}
        self.effects: list[Effect] = []
        self.now = 0.0
        self.active_count = 0
        self.shutting_down = False
        self._prop_queue: deque[ServiceRecord] = deque()
        self._transition_queue: deque[ServiceRecord] = deque()
        self._timer_heap: list[tuple[float, int, ServiceRecord, Timer]] = []
        self._timer_seq = 0
        self._went_idle = False

    # --- the two queues (idempotent: a service already queued is not queued twice) ----------

    def enqueue_prop(self, rec: ServiceRecord) -> None:
        if not rec.in_prop_queue:
            rec.in_prop_queue = True
            self._prop_queue.append(rec)

    def enqueue_transition(self, rec: ServiceRecord) -> None:
        if not rec.in_transition_queue:
            rec.in_transition_queue = True
            self._transition_queue.append(rec)

    # --- the active count ----------------------------------------------------------------------

    def mark_active(self, rec: ServiceRecord) -> None:
        if not rec.active:
            rec.active = True
            self.active_count += 1

    def mark_inactive(self, rec: ServiceRecord) -> None:
        if not rec.active:
            return
        rec.active = False
        self.active_count -= 1
        if self.active_count == 0:
            self._went_idle = True

    # --- timers: one per service; a disarmed timer's heap entry goes stale ------------------

    def arm_timer(self, rec: ServiceRecord, kind: TimerKind, delay: float) -> None:
        timer = Timer(kind, self.now + delay)
        rec.timer = timer
        self._timer_seq += 1
        heapq.heappush(self._timer_heap, (timer.deadline, self._timer_seq, rec, timer))

    def cancel_timer(self, rec: ServiceRecord) -> TimerKind | None:
        """Disarm the service's timer; return what it was."""
        timer, rec.timer = rec.timer, None
        return timer.kind if timer else None

    def next_deadline(self) -> float | None:
        heap = self._timer_heap
        while heap and heap[0][2].timer is not heap[0][3]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due_timer(self) -> tuple[ServiceRecord, TimerKind] | None:
        heap = self._timer_heap
        while heap:
            deadline, _, rec, timer = heap[0]
            if rec.timer is not timer:
                heapq.heappop(heap)
                continue
            if deadline > self.now:
                return None
            heapq.heappop(heap)
            rec.timer = None
            return rec, timer.kind
        return None

    # --- what the actors hear -----------------------------------------------------------------

    def set_state(self, rec: ServiceRecord, state: State) -> None:
        if rec.state is not state:
            rec.state = state
            self.notify(rec, Event(state.value))

    def notify(self, rec: ServiceRecord, event: Event, reason: str = "") -> None:
        self.effects.append(Notify(rec.name, event, snapshot_of(rec), reason))

    def log(self, rec: ServiceRecord, level: LogLevel, message: str) -> None:
        self.effects.append(Log(rec.name, level, message))


class Rules(Protocol):
    """The graph as the lifecycle handlers see it: the shared machinery, and the dependency
    rules a process's news may call for."""

    now: float
    effects: list[Effect]
    shutting_down: bool

    def arm_timer(self, rec: ServiceRecord, kind: TimerKind, delay: float) -> None: ...
    def cancel_timer(self, rec: ServiceRecord) -> TimerKind | None: ...
    def set_state(self, rec: ServiceRecord, state: State) -> None: ...
    def notify(self, rec: ServiceRecord, event: Event, reason: str = "") -> None: ...
    def log(self, rec: ServiceRecord, level: LogLevel, message: str) -> None: ...
    def started(self, rec: ServiceRecord) -> None: ...
    def stopped(self, rec: ServiceRecord) -> None: ...
    def failed_to_start(self, rec: ServiceRecord, dep_failed: bool = False,
                        immediate_stop: bool = True) -> None: ...
    def do_stop(self, rec: ServiceRecord, with_restart: bool = False) -> None: ...
    def unrecoverable_stop(self, rec: ServiceRecord) -> None: ...
    def admit_automatic_restart(self, rec: ServiceRecord) -> bool: ...

