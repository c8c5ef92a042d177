"""Activation and starting: the rules that make a service wanted, bring it up once its
dependencies are, and fail its dependents when its start fails (dinit's service_record
acquire/release, start, started and failed_to_start).

`required_by` is the activation count (see the package essay): `require` and `release` move it,
and a count moving between 0 and 1 starts or stops the service. Work for other services is
queued (`prop_*` flags), never done by recursion. The stopping half of the rules is
`rollback.py`; `ServiceGraph` (graph.py) combines the two and drains the queues.
"""

from __future__ import annotations

from actors.engine.core import Core
from actors.engine.model import Event, State, StopReason
from actors.engine.record import ServiceRecord

STOPPED, STARTING, STARTED, STOPPING = State.STOPPED, State.STARTING, State.STARTED, State.STOPPING


class Activation(Core):
    """Require and release, start, started, failed to start. (`do_stop`, `stopped` and
    `unrecoverable_stop`, which these call, are `Rollback`'s.)"""

    # --- require and release -------------------------------------------------------------------

    def require(self, rec: ServiceRecord) -> None:
        rec.required_by += 1
        if rec.required_by == 1 and rec.state is not STARTING and rec.state is not STARTED:
            rec.prop_start = True
            self.enqueue_prop(rec)

    def release(self, rec: ServiceRecord, issue_stop: bool = True) -> None:
        rec.required_by -= 1
        if rec.required_by != 0:
            return
        rec.target = STOPPED
        # A require still pending need not be propagated, and then there is nothing to release.
        rec.prop_release = not rec.prop_require
        rec.prop_require = False
        if rec.prop_release:
            self.enqueue_prop(rec)
        if issue_stop and rec.state is not STOPPED and rec.state is not STOPPING:
            rec.stop_reason = StopReason.NORMAL
            self.do_stop(rec)

    def require_dependencies(self, rec: ServiceRecord) -> None:
        for link in rec.deps:
            if not link.is_ordering and not link.holding_acq:
                link.holding_acq = True
                self.require(link.dependency)

    def release_dependencies(self, rec: ServiceRecord) -> None:
        for link in rec.deps:
            if link.holding_acq:
                # Cleared first: the dependency may stop and look at this link again.
                link.holding_acq = False
                self.release(link.dependency)

    def drop_explicit(self, rec: ServiceRecord, issue_stop: bool = False) -> None:
        if rec.explicit:
            rec.explicit = False
            self.release(rec, issue_stop)

    # --- starting ------------------------------------------------------------------------------

    def do_start(self, rec: ServiceRecord) -> None:
        """The target became STARTED: start, or cancel a stop that can still be cancelled."""
        was_active = rec.state is not STOPPED
        was_wanted = rec.target is STARTED
        rec.target = STARTED
        if was_active:
            if not was_wanted:
                # Its dependencies may have been released when it was told to stop (a start
                # that could not be interrupted releases them at once): hold them again.
                # dinit leaves them released.
                self._hold_dependencies_again(rec)
            # Already starting or started; or stopping, which can be turned round only while it
            # is still waiting for its dependents and nothing forces it down.
            if rec.state is not STOPPING or not rec.waiting_for_deps or rec.force_stop:
                return
        else:
            # Soft dependents that are up hold this service again now that it runs (dinit.8:
            # the documented "re-attach" quirk, test_softdep5).
            for link in rec.dependents:
                if link.is_hard or link.is_ordering or link.holding_acq:
                    continue
                dependent = link.dependent
                if dependent.state in (STARTED, STARTING) and dependent.target is STARTED:
                    link.holding_acq = True
                    rec.required_by += 1
            self.mark_active(rec)
            self._hold_dependencies_again(rec)
        self.initiate_start(rec)

    def _hold_dependencies_again(self, rec: ServiceRecord) -> None:
        rec.prop_require = not rec.prop_release
        rec.prop_release = False
        if rec.prop_require:
            self.enqueue_prop(rec)

    def initiate_start(self, rec: ServiceRecord) -> None:
        rec.start_failed = False
        rec.start_skipped = False
        rec.gave_up = False
        rec.lost_to = None
        rec.failure = ""
        self.set_state(rec, STARTING)
        rec.waiting_for_deps = True
        if self._check_dependencies_for_start(rec):
            self.enqueue_transition(rec)

    def _check_dependencies_for_start(self, rec: ServiceRecord) -> bool:
        """Mark the links this service must wait for; True if there are none."""
        ready = True
        for link in rec.deps:
            dep_state = link.dependency.state
            if link.is_ordering and dep_state is not STARTING:
                continue
            if dep_state is not STARTED:
                link.waiting_on = True
                ready = False
        # Services ordered after this one that are starting, and not yet brought up, must now
        # wait for it (dinit marks them even once launched, leaving a stale wait behind).
        for link in rec.dependents:
            dependent = link.dependent
            if (link.is_ordering and not link.waiting_on and dependent.state is STARTING
                    and dependent.waiting_for_deps):
                link.waiting_on = True
        return ready

    def dependency_started(self, rec: ServiceRecord) -> None:
        if (rec.state is STARTING or rec.state is STARTED) and rec.waiting_for_deps:
            self.enqueue_transition(rec)

    def started(self, rec: ServiceRecord) -> None:
        rec.running = True
        self.set_state(rec, STARTED)
        if rec.force_stop or rec.target is STOPPED:
            self.do_stop(rec, with_restart=rec.in_user_restart)
            return
        for link in rec.dependents:
            if link.waiting_on:
                link.waiting_on = False
                self.dependency_started(link.dependent)

    def failed_to_start(self, rec: ServiceRecord, dep_failed: bool = False,
                        immediate_stop: bool = True) -> None:
        """The start failed: fail the hard dependents waiting for it, free the soft ones."""
        rec.target = STOPPED
        self.drop_explicit(rec)
        for link in rec.dependents:
            dependent = link.dependent
            if link.is_hard:
                # (A milestone already reached is not hard any more: that dependent goes on.)
                if dependent.state is STARTING and dependent.waiting_for_deps:
                    # It never ran anything: it fails with us.
                    dependent.prop_failure = True
                    self.enqueue_prop(dependent)
                elif dependent.state is STARTING:
                    # Its command was launched while we were up (before we died and failed to
                    # come back): it must be stopped like any process, for good. dinit marks it
                    # stopped with its process still running.
                    dependent.stop_reason = StopReason.DEP_FAILED
                    dependent.failure = f"dependency {rec.name} failed to start"
                    self.unrecoverable_stop(dependent)
            elif link.waiting_on:
                link.waiting_on = False
                self.dependency_started(dependent)
            # Released now, so the target is STOPPED before `stopped` decides about a restart.
            if link.holding_acq:
                link.holding_acq = False
                self.release(rec, issue_stop=False)
        rec.start_failed = True
        if dep_failed and not rec.failure:
            rec.failure = "a dependency failed to start"
        self.notify(rec, Event.FAILED, rec.failure)
        if immediate_stop:
            self.stopped(rec)
