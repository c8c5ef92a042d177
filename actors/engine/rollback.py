"""Stopping and rollback: the rules that take a service down, its hard dependents first, decide
on settled counts whether it comes back, and say why its dependents went down (dinit's
service_record stop, do_stop, stop_dependents, stopped).

A stop by command removes explicit activation and sets the target to STOPPED on the whole
sub-tree it takes down, so none of it restarts. A process that dies is force-stopped: its hard
dependents are rolled back, then it restarts if its policy and the restart limit allow, and
each dependent comes back by its own policy. The starting half of the rules is
`activation.py`; `ServiceGraph` (graph.py) combines the two and drains the queues.
"""

from __future__ import annotations

from actors.engine.core import Core
from actors.engine.model import CRASH_REASONS, Chain, Event, LogLevel, Retire, State, StopReason
from actors.engine.record import ServiceRecord
from actors.engine.restart import admit_restart, policy_wants_restart
from actors.loader.kinds import OPTION_ALWAYS_CHAIN

STOPPED, STARTING, STARTED, STOPPING = State.STOPPED, State.STARTING, State.STARTED, State.STOPPING


class Rollback(Core):
    """Stop, force stop, stopped, and the user restart. (`release`, `drop_explicit`,
    `dependency_started`, `initiate_start` and `failed_to_start`, which these call, are
    `Activation`'s; `can_interrupt_start` and `interrupt_start` are the lifecycle's.)"""

    # --- asking for a stop ---------------------------------------------------------------------

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

    def restart(self, rec: ServiceRecord) -> bool:
        """Stop and start again, keeping activation; hard dependents come back afterwards."""
        if rec.state is not STARTED:
            return False
        rec.stop_reason = StopReason.NORMAL
        rec.force_stop = True
        self.do_stop(rec, with_restart=True)
        return True

    # --- the stop itself -----------------------------------------------------------------------

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
                for_restart = self.admit_automatic_restart(rec)
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
                if not dependents_down or not self.can_interrupt_start(rec):
                    # Deferred: remember whether it is a restart by command, for `started`.
                    # (dinit forgets, and the deferred stop then counts as an automatic one.)
                    rec.in_user_restart = with_restart
                    return
                if not self.interrupt_start(rec):
                    return  # the interruption is under way; the type reports the end
        elif rec.state is not STARTED:
            return  # already stopping or stopped
        self.set_state(rec, STOPPING)
        rec.waiting_for_deps = not dependents_down
        if dependents_down:
            self.enqueue_transition(rec)

    def admit_automatic_restart(self, rec: ServiceRecord) -> bool:
        """Count one more automatic restart, if the restart limit allows it; if not, the
        service gives up (it stops as failed)."""
        window = admit_restart(rec.window, self.now, rec.spec)
        if window is None:
            rec.target = STOPPED
            rec.gave_up = True
            count = rec.spec.restart_limit_count
            rec.failure = (f"restarted {count} time{'s' if count != 1 else ''} within "
                           f"{rec.spec.restart_limit_interval:g} s; giving up")
            self.log(rec, LogLevel.ERROR, "restarting too quickly; stopping")
            self.notify(rec, Event.FAILED, rec.failure)
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
                    self._force_dependent_down(rec, dependent)
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

    def _force_dependent_down(self, rec: ServiceRecord, dependent: ServiceRecord) -> None:
        """`rec` must really stop: so must its hard dependent, for good if `rec` won't come
        back (and then why), else until `rec` does."""
        if rec.target is STOPPED:
            # After a stop by command nothing failed, so their reason stays "normal" (dinit
            # would say dep-failed); any other cause is a failure for them.
            dependent.lost_to = None  # its reason is decided here
            if rec.stop_reason is StopReason.NORMAL:
                dependent.stop_reason = StopReason.NORMAL
            elif dependent.state is not STOPPED and \
                    dependent.stop_reason is not StopReason.DEP_FAILED:
                dependent.stop_reason = StopReason.DEP_FAILED
                dependent.failure = f"dependency {rec.name} stopped: {rec.failure}"
                self.notify(dependent, Event.FAILED, dependent.failure)
            self.unrecoverable_stop(dependent)
            return
        # It comes back once we do, if its own policy says so. We died, or were ourselves
        # taken down by a dependency that died.
        if (rec.stop_reason in CRASH_REASONS or rec.lost_to is not None) \
                and dependent.state is not STOPPED:
            dependent.lost_to = rec
        self.forced_stop(dependent)

    # --- being stopped -------------------------------------------------------------------------

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
            self.mark_inactive(rec)
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
            self.notify(rec, Event.FAILED, rec.failure)
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
