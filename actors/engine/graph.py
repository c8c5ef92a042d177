"""The dependency rules: activation counts, the two-phase queues, start, stop and rollback.

This is dinit's service_record logic (see the essay in `actors/engine/__init__.py`), written as
methods on one `Graph` that owns every record. What a service does once its dependencies are
up, or once its dependents are down, depends on its type and lives in `lifecycle.py`; this
module calls it through `bring_up`, `bring_down`, `can_interrupt_start` and `interrupt_start`.

Nothing here recurses over the graph: work for other services is put on one of two queues and
drained by `process_queues`, so a chain of any depth costs no stack.
"""

from __future__ import annotations

import heapq
from collections import deque

from actors.engine import lifecycle
from actors.engine.model import (Chain, Effect, Idle, Log, Notify, Retire, State, StopReason,
                                 TimerKind)
from actors.engine.record import DepLink, ServiceRecord, Timer
from actors.engine.restart import admit_restart, policy_wants_restart
from actors.engine.status import status_of
from actors.loader.spec import OPTION_ALWAYS_CHAIN, DepKind, ServiceType

STOPPED, STARTING, STARTED, STOPPING = State.STOPPED, State.STARTING, State.STARTED, State.STOPPING


class Graph:
    """Every service record, the two work queues, the timers, and the effects produced."""

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
        self._lifecycles = {
            ServiceType.INTERNAL: lifecycle.Internal(self),
            ServiceType.PROCESS: lifecycle.Process(self),
            ServiceType.SCRIPTED: lifecycle.Scripted(self),
        }

    def lifecycle(self, rec: ServiceRecord) -> lifecycle.Internal:
        return self._lifecycles[rec.spec.type]

    # -----------------------------------------------------------------------------------------
    # Queues
    # -----------------------------------------------------------------------------------------

    def enqueue_prop(self, rec: ServiceRecord) -> None:
        if not rec.in_prop_queue:
            rec.in_prop_queue = True
            self._prop_queue.append(rec)

    def enqueue_transition(self, rec: ServiceRecord) -> None:
        if not rec.in_transition_queue:
            rec.in_transition_queue = True
            self._transition_queue.append(rec)

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
            for link in rec.deps:
                if not link.is_ordering and not link.holding_acq:
                    link.holding_acq = True
                    self.require(link.dependency)
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
                self.lifecycle(rec).bring_up(rec)
        elif rec.state is STOPPING:
            if self.dependents_stopped(rec):
                rec.waiting_for_deps = False
                self.lifecycle(rec).bring_down(rec)
            else:
                # A dependent counted as down when the stop began (it was only waiting for its
                # own dependencies) still holds this service: wait for it to say it stopped.
                # (dinit gets away without this only because its queues are LIFO.)
                rec.waiting_for_deps = True

    # -----------------------------------------------------------------------------------------
    # Activation: require and release
    # -----------------------------------------------------------------------------------------

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

    def _mark_active(self, rec: ServiceRecord) -> None:
        if not rec.active:
            rec.active = True
            self.active_count += 1

    def _mark_inactive(self, rec: ServiceRecord) -> None:
        if rec.active:
            rec.active = False
            self.active_count -= 1
            if self.active_count == 0:
                self._went_idle = True

    # -----------------------------------------------------------------------------------------
    # Starting
    # -----------------------------------------------------------------------------------------

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
                rec.prop_require = not rec.prop_release
                rec.prop_release = False
                if rec.prop_require:
                    self.enqueue_prop(rec)
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
            self._mark_active(rec)
            rec.prop_require = not rec.prop_release
            rec.prop_release = False
            if rec.prop_require:
                self.enqueue_prop(rec)
        self.initiate_start(rec)

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
        self.notify(rec, "failed", rec.failure)
        if immediate_stop:
            self.stopped(rec)

    # -----------------------------------------------------------------------------------------
    # Stopping
    # -----------------------------------------------------------------------------------------

    def stop(self, rec: ServiceRecord, bring_down: bool = True) -> None:
        """Remove explicit activation; with `bring_down`, also stop it and keep it stopped."""
        if rec.explicit:
            rec.explicit = False
            rec.required_by -= 1
        if bring_down or rec.required_by == 0:
            rec.target = STOPPED  # inhibits restart, and is passed on to hard dependents
        if rec.required_by == 0:
            bring_down = True
            rec.prop_release = not rec.prop_require
            rec.prop_require = False
            if rec.prop_release:
                self.enqueue_prop(rec)
        if bring_down and rec.state is not STOPPED:
            # Even when already stopping: a restart of dependents may need interrupting.
            rec.stop_reason = StopReason.NORMAL
            rec.lost_to = None  # stopped by command, whatever else was going on
            self.do_stop(rec)

    def forced_stop(self, rec: ServiceRecord) -> None:
        if rec.state is not STOPPED:
            rec.force_stop = True
            rec.prop_stop = True
            self.enqueue_prop(rec)

    def unrecoverable_stop(self, rec: ServiceRecord) -> None:
        rec.target = STOPPED
        self.forced_stop(rec)

    def do_stop(self, rec: ServiceRecord, with_restart: bool = False) -> None:
        """Definitely stop; whether it restarts afterwards is decided here, on settled counts.

        To inhibit an automatic restart, the caller sets the target to STOPPED first.
        """
        # A stop under way may be asked for again (one request per dependency being rolled
        # back): its automatic restart was decided, and counted, when it began.
        already_stopping = rec.state is STOPPING or rec.state is STOPPED
        previous_auto = rec.in_auto_restart
        rec.in_auto_restart = False
        rec.in_user_restart = False
        for_restart = with_restart or (rec.target is STARTED
                                       and policy_wants_restart(rec.spec, rec.last_exit))
        if for_restart and not with_restart:
            if already_stopping:
                rec.in_auto_restart = previous_auto
            else:
                for_restart = self._admit_automatic_restart(rec)
                rec.in_auto_restart = for_restart
        if not for_restart:
            self.drop_explicit(rec)

        dependents_down = self._stop_dependents(rec, for_restart, restart_deps=with_restart)

        if rec.state is STARTING:
            # Waiting only for dependencies: cancel at once. Otherwise ask the type, and wait
            # for hard dependents to go down first (a dependent whose own start couldn't be
            # cancelled may still be up); if it can't be cancelled, the stop happens once
            # started (see `started`), or when the last dependent stops (`dependent_stopped`).
            if not rec.waiting_for_deps:
                if not dependents_down or not self.lifecycle(rec).can_interrupt_start(rec):
                    # Deferred: remember whether it is a restart by command, for `started`.
                    # (dinit forgets, and the deferred stop then counts as an automatic one.)
                    rec.in_user_restart = with_restart
                    return
                if not self.lifecycle(rec).interrupt_start(rec):
                    return  # the interruption is under way; the type reports the end
        elif rec.state is not STARTED:
            return  # already stopping or stopped
        self.set_state(rec, STOPPING)
        rec.waiting_for_deps = not dependents_down
        if dependents_down:
            self.enqueue_transition(rec)

    def _admit_automatic_restart(self, rec: ServiceRecord) -> bool:
        window = admit_restart(rec.window, self.now, rec.spec)
        if window is None:
            rec.target = STOPPED
            rec.gave_up = True
            count = rec.spec.restart_limit_count
            rec.failure = (f"restarted {count} time{'s' if count != 1 else ''} within "
                           f"{rec.spec.restart_limit_interval:g} s; giving up")
            self.log(rec, "error", "restarting too quickly; stopping")
            self.notify(rec, "failed", rec.failure)
            return False
        rec.window = window
        rec.restarts += 1
        return True

    def _stop_dependents(self, rec: ServiceRecord, for_restart: bool, restart_deps: bool) -> bool:
        """Stop what must stop with `rec`; True if every hard dependent is already down."""
        all_down = True
        for link in rec.dependents:
            dependent = link.dependent
            if link.is_hard:
                if not dependent.is_fundamentally_stopped():
                    all_down = False
                if rec.force_stop:
                    if rec.target is STOPPED:
                        # It won't come back, so neither may they. After a stop by command
                        # nothing failed, so their reason stays "normal" (dinit would say
                        # dep-failed); any other cause is a failure for them.
                        by_command = rec.stop_reason is StopReason.NORMAL
                        dependent.lost_to = None  # its reason is decided here
                        if by_command:
                            dependent.stop_reason = StopReason.NORMAL
                        elif dependent.state is not STOPPED and \
                                dependent.stop_reason is not StopReason.DEP_FAILED:
                            dependent.stop_reason = StopReason.DEP_FAILED
                            dependent.failure = f"dependency {rec.name} stopped: {rec.failure}"
                            self.notify(dependent, "failed", dependent.failure)
                        self.unrecoverable_stop(dependent)
                    else:
                        # It comes back once we do, if its own policy says so.
                        # Died, or was itself taken down by a dependency that died.
                        if (rec.stop_reason is StopReason.TERMINATED or rec.lost_to is not None) \
                                and dependent.state is not STOPPED:
                            dependent.lost_to = rec
                        self.forced_stop(dependent)
                if dependent.state is not STOPPED:
                    if rec.target is STOPPED:
                        if dependent.target is not STOPPED:
                            dependent.target = STOPPED
                            self.drop_explicit(dependent, issue_stop=True)
                            dependent.prop_stop = True
                            self.enqueue_prop(dependent)
                    elif restart_deps and dependent.state is not STOPPING:
                        dependent.stop_reason = StopReason.DEP_RESTART
                        dependent.in_user_restart = True
                        dependent.prop_stop = True
                        self.enqueue_prop(dependent)
            elif not for_restart:
                # A soft link breaks when its dependency stops for good; kept over a restart.
                # (An ordering link only stops waiting: it never holds anything.)
                if link.waiting_on:
                    link.waiting_on = False
                    self.dependency_started(dependent)
                if link.holding_acq:
                    link.holding_acq = False
                    self.release(rec, issue_stop=False)
        return all_down

    def dependents_stopped(self, rec: ServiceRecord) -> bool:
        """Whether every hard dependent is down: stopped, or only waiting for its dependencies
        (one waiting for `rec` is restarting).

        dinit asks instead whether a hard dependent still *holds* `rec`; but a dependent whose
        start could not be interrupted releases its dependencies at once while its process
        still runs, and `rec` must not stop under it.
        """
        return all(link.dependent.is_fundamentally_stopped()
                   for link in rec.dependents if link.is_hard)

    def dependent_stopped(self, rec: ServiceRecord) -> None:
        if rec.state is STOPPING and rec.waiting_for_deps:
            self.enqueue_transition(rec)
        elif rec.state is STARTING and rec.target is STOPPED and not rec.waiting_for_deps:
            # A start that was to be cancelled once its dependents were down: try again.
            rec.prop_stop = True
            self.enqueue_prop(rec)

    def stopped(self, rec: ServiceRecord) -> None:
        """The service is down (its dependents too, unless its process died unexpectedly)."""
        rec.force_stop = False
        rec.running = False
        will_restart = rec.target is STARTED
        if not will_restart:
            for link in rec.dependents:
                if link.is_hard:
                    continue
                if link.waiting_on:
                    link.waiting_on = False
                    self.dependency_started(link.dependent)
                if link.holding_acq:
                    link.holding_acq = False
                    self.release(rec, issue_stop=False)
        for link in rec.deps:
            self.dependent_stopped(link.dependency)
        if not will_restart and rec.lost_to is not None and not rec.start_failed:
            self._blame(rec, rec.lost_to)
        self.set_state(rec, STOPPED)
        if will_restart:
            # A restart needs its dependencies like any start: hold again the soft links that
            # broke meanwhile (hard ones were kept). dinit would wait forever for them instead.
            rec.prop_require = True
            self.enqueue_prop(rec)
            self.initiate_start(rec)
        else:
            if rec.explicit:
                self.drop_explicit(rec)
            # Normally released already when its count fell to 0; this makes sure a service
            # that stopped for good holds nothing, whatever acquired a link meanwhile.
            self.release_dependencies(rec)
            self._mark_inactive(rec)
            if rec.spec.has_process:
                self.effects.append(Retire(rec.name))
        if not rec.start_failed:
            self._chain_if_finished(rec, will_restart)

    def _blame(self, rec: ServiceRecord, dependency: ServiceRecord) -> None:
        """A service taken down when a dependency ended unexpectedly, and not coming back:
        say why (dinit leaves its stop reason as it was). By the time it has stopped, the
        dependency's target has settled."""
        if dependency.target is STOPPED:
            rec.stop_reason = StopReason.DEP_FAILED
            rec.failure = f"dependency {dependency.name} stopped" + (
                f": {dependency.failure}" if dependency.failure else "")
            self.notify(rec, "failed", rec.failure)
        else:
            rec.stop_reason = StopReason.DEP_RESTART

    def _chain_if_finished(self, rec: ServiceRecord, will_restart: bool) -> None:
        target = rec.spec.chain_to
        if target is None or self.shutting_down:
            return
        finished = (rec.stop_reason is StopReason.TERMINATED and rec.last_exit is not None
                    and rec.last_exit.clean and not will_restart)
        if finished or OPTION_ALWAYS_CHAIN in rec.spec.options:
            self.effects.append(Chain(rec.name, target))

    # -----------------------------------------------------------------------------------------
    # User restart
    # -----------------------------------------------------------------------------------------

    def restart(self, rec: ServiceRecord) -> bool:
        """Stop and start again, keeping activation; hard dependents come back afterwards."""
        if rec.state is not STARTED:
            return False
        rec.stop_reason = StopReason.NORMAL
        rec.force_stop = True
        self.do_stop(rec, with_restart=True)
        return True

    # -----------------------------------------------------------------------------------------
    # Timers, state changes, output
    # -----------------------------------------------------------------------------------------

    def arm_timer(self, rec: ServiceRecord, kind: TimerKind, delay: float) -> None:
        timer = Timer(kind, self.now + delay)
        rec.timer = timer
        self._timer_seq += 1
        heapq.heappush(self._timer_heap, (timer.deadline, self._timer_seq, rec, timer))

    def cancel_timer(self, rec: ServiceRecord) -> TimerKind | None:
        """Disarm the service's timer (its heap entry goes stale); return what it was."""
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

    def set_state(self, rec: ServiceRecord, state: State) -> None:
        if rec.state is not state:
            rec.state = state
            self.notify(rec, state.value)

    def notify(self, rec: ServiceRecord, event: str, reason: str = "") -> None:
        self.effects.append(Notify(rec.name, event, status_of(rec), reason))

    def log(self, rec: ServiceRecord, level: str, message: str) -> None:
        self.effects.append(Log(rec.name, level, message))

    # -----------------------------------------------------------------------------------------
    # Links
    # -----------------------------------------------------------------------------------------

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
