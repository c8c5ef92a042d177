"""Clients the root owes something later: commands waiting for services to reach a state,
`events` subscribers, and `logs -f` followers.

A reply is sent once, when what it waits for has happened; stream messages go out as the
changes happen. A client that has gone away is noticed when a send to it fails (the control
socket is a ROUTER with ROUTER_MANDATORY), and forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from actors.engine import Event, Notify, Snapshot, State

Envelope = tuple[bytes, ...]  # the ROUTER routing frames of one client (and its request id)


@dataclass
class Waiter:
    """A start, stop or restart waiting for each named service to get there (or fail)."""

    envelope: Envelope
    request_id: int
    goal: State                   # STARTED or STOPPED
    names: list[str]
    pending: set[str] = field(default_factory=set)
    failures: dict[str, str] = field(default_factory=dict)

    def on_notify(self, effect: Notify) -> None:
        if effect.service not in self.pending:
            return
        if effect.event.value == self.goal.value:
            self.pending.discard(effect.service)
        elif effect.event is Event.FAILED and self.goal is State.STARTED:
            self.pending.discard(effect.service)
            self.failures[effect.service] = effect.reason or "it failed"

    def settle(self, snapshot_of: Callable[[str], Snapshot]) -> None:
        """Mark as done what is already where it will stay."""
        for name in list(self.pending):
            snap = snapshot_of(name)
            if snap.state is self.goal:
                self.pending.discard(name)
            elif self.goal is State.STARTED and snap.state is State.STOPPED \
                    and snap.target is State.STOPPED:
                self.pending.discard(name)
                self.failures[name] = snap.reason or "it stopped before it started"

    @property
    def done(self) -> bool:
        return not self.pending


@dataclass
class Stream:
    envelope: Envelope
    request_id: int
    service: str | None = None    # for a log follower


class Streams:
    """Event subscribers and log followers, by client."""

    def __init__(self) -> None:
        self.events: list[Stream] = []
        self.followers: list[Stream] = []

    def followed(self, service: str) -> bool:
        return any(s.service == service for s in self.followers)

    def followers_of(self, service: str) -> list[Stream]:
        return [s for s in self.followers if s.service == service]

    def drop_client(self, envelope: Envelope) -> list[Stream]:
        """Forget every stream of a client; returns them (to end them, or stop following)."""
        dropped = [s for s in self.events + self.followers if s.envelope == envelope]
        self.events = [s for s in self.events if s.envelope != envelope]
        self.followers = [s for s in self.followers if s.envelope != envelope]
        return dropped
