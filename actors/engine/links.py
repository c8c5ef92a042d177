"""The links a service's spec declares, made and unmade as services are added, reloaded,
resized or removed.

A spec names its dependencies; the engine turns each into a `DepLink` between two records.
Ordering links (`before`, `after`) may name a service that is not loaded yet: they wait here,
by the missing name, and form when it loads (dinit: ordering links never load anything). A
service removed from the engine leaves the ordering links others declared towards it waiting
here again, so they form anew if it is loaded again.
"""

from __future__ import annotations

from collections import defaultdict

from actors.engine.graph import ServiceGraph
from actors.engine.record import DepLink, ServiceRecord
from actors.loader.spec import DepKind


class DeclaredLinks:
    def __init__(self, graph: ServiceGraph) -> None:
        self._g = graph
        # Ordering links to services not loaded yet, by the missing name:
        # name -> services that declared `after: name` / `before: name`.
        self._pending_after: dict[str, list[str]] = defaultdict(list)
        self._pending_before: dict[str, list[str]] = defaultdict(list)

    def link(self, rec: ServiceRecord) -> None:
        """Create the links `rec`'s spec declares, and those others declared towards it."""
        g, records, name = self._g, self._g.records, rec.name
        for kind, dep in rec.spec.dependencies():
            if kind is DepKind.BEFORE:
                if dep in records:
                    g.add_link(records[dep], rec, DepKind.BEFORE)
                else:
                    self._pending_before[dep].append(name)
            elif kind is DepKind.AFTER and dep not in records:
                self._pending_after[dep].append(name)
            else:
                g.add_link(rec, records[dep], kind)
        for waiter in self._pending_after.pop(name, ()):
            if waiter in records:
                g.add_link(records[waiter], rec, DepKind.AFTER)
        for first in self._pending_before.pop(name, ()):
            if first in records:
                g.add_link(rec, records[first], DepKind.BEFORE)

    def detach(self, rec: ServiceRecord) -> list[DepLink]:
        """The links `rec`'s spec declared (not those others declared towards it), for the
        caller to remove; pending ordering links by `rec` are forgotten at once."""
        declared = [link for link in rec.deps if link.kind is not DepKind.BEFORE]
        declared += [link for link in rec.dependents if link.kind is DepKind.BEFORE]
        for pending, names in ((self._pending_after, rec.spec.after),
                               (self._pending_before, rec.spec.before)):
            for other in names:
                if rec.name in pending.get(other, ()):
                    pending[other].remove(rec.name)
        return declared

    def unlink(self, rec: ServiceRecord) -> None:
        """Remove every link of `rec`, which is leaving the engine: its own, and the ordering
        links others declared towards it (kept pending, by its name). The caller has checked
        that nothing holds it."""
        g = self._g
        for link in self.detach(rec):
            g.remove_link(link)
        for link in list(rec.dependents):  # `after: rec`, declared by the dependent
            self._pending_after[rec.name].append(link.dependent.name)
            g.remove_link(link)
        for link in list(rec.deps):        # `before: rec`, declared by the dependency
            self._pending_before[rec.name].append(link.dependency.name)
            g.remove_link(link)
