"""The service graph: the dependency rules put together, the two-phase loop that drains their
queues, the links between services, and the hand-over to the lifecycle table.

`ServiceGraph` is `Activation` (require, release, start) and `Rollback` (stop, stopped) over
one `Core`. What a service does once its dependencies are up, or its dependents are down,
depends on its type and phase: that is `lifecycle.py`'s table, reached through `bring_up`,
`bring_down`, `interrupt_start` and `feed`.

Nothing here recurses over the graph: work for other services is put on one of two queues and
drained by `process_queues`, so a chain of any depth costs no stack.
"""

from __future__ import annotations

from typing import Any

from actors.engine import lifecycle
from actors.engine.activation import Activation
from actors.engine.model import Idle, State, StopReason
from actors.engine.phases import Input
from actors.engine.record import DepLink, ServiceRecord
from actors.engine.rollback import Rollback
from actors.loader.kinds import DepKind

STOPPED, STARTING, STARTED, STOPPING = State.STOPPED, State.STARTING, State.STARTED, State.STOPPING


class ServiceGraph(Activation, Rollback):
    """Every service record and the rules over them; see the package essay."""

    # --- the two phases ------------------------------------------------------------------------

    def process_queues(self) -> None:
        """Phase one to a fixed point, then one transition; repeat until both queues are empty."""
        prop, trans = self._prop_queue, self._transition_queue
        while prop or trans:
            while prop:
                rec = prop.popleft()
                rec.in_prop_queue = False
                self._propagate(rec)
            if trans:
                rec = trans.popleft()
                rec.in_transition_queue = False
                self._execute_transition(rec)
        if self._went_idle:
            self._went_idle = False
            if self.active_count == 0:
                self.effects.append(Idle())

    def _propagate(self, rec: ServiceRecord) -> None:
        if rec.prop_require:
            rec.prop_require = False
            self.require_dependencies(rec)
        if rec.prop_release:
            rec.prop_release = False
            self.release_dependencies(rec)
        if rec.prop_failure:
            rec.prop_failure = False
            rec.stop_reason = StopReason.DEP_FAILED
            self.failed_to_start(rec, dep_failed=True)
        if rec.prop_start:
            rec.prop_start = False
            self.do_start(rec)
        if rec.prop_stop:
            rec.prop_stop = False
            self.do_stop(rec, with_restart=rec.in_user_restart)

    def _execute_transition(self, rec: ServiceRecord) -> None:
        if rec.state is STARTING:
            if rec.links_waited == 0:
                rec.waiting_for_deps = False
                self.feed(rec, Input.BRING_UP)
        elif rec.state is STOPPING:
            if self.dependents_stopped(rec):
                rec.waiting_for_deps = False
                self.feed(rec, Input.BRING_DOWN)
            else:
                # A dependent counted as down when the stop began (it was only waiting for its
                # own dependencies) still holds this service: wait for it to say it stopped.
                # (dinit gets away without this only because its queues are LIFO.)
                rec.waiting_for_deps = True

    # --- the lifecycle -------------------------------------------------------------------------

    def feed(self, rec: ServiceRecord, what: Input, value: Any = None) -> Any:
        return lifecycle.feed(self, rec, what, value)

    def can_interrupt_start(self, rec: ServiceRecord) -> bool:
        return lifecycle.can_interrupt_start(self, rec)

    def interrupt_start(self, rec: ServiceRecord) -> bool:
        """Cancel a start under way; True if it is cancelled already, False if the cancel was
        issued and the end will be reported."""
        return bool(self.feed(rec, Input.INTERRUPT))

    # --- links ---------------------------------------------------------------------------------

    def add_link(self, dependent: ServiceRecord, dependency: ServiceRecord, kind: DepKind) -> DepLink:
        """Link two loaded services; a running dependent acquires a new hard dependency, or a
        soft one that is already up (dinit's add_dep)."""
        link = DepLink(dependent, dependency, kind)
        dependent.deps.append(link)
        dependency.dependents.append(link)
        if not link.is_ordering and (dependent.state is STARTING or dependent.state is STARTED):
            if kind is DepKind.REGULAR or dependency.state in (STARTED, STARTING):
                link.holding_acq = True
                self.require(dependency)
        return link

    def remove_link(self, link: DepLink) -> None:
        link.waiting_on = False
        link.dependent.deps.remove(link)
        link.dependency.dependents.remove(link)
        if link.holding_acq:
            link.holding_acq = False
            self.release(link.dependency)
