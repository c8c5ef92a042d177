"""The loaded services: the loader reads descriptions on demand and the engine gets them, with
each pool at its run-time size (`pools.py`); the status objects handed to clients are built
here (the engine's, plus a pool's summary).

Every failure is one sentence for the user: the first error, with file and line, and how many
more there are.
"""

from __future__ import annotations

import time

from collections.abc import Callable
from typing import Any

from actors.engine import Engine, Notify
from actors.loader.errors import LoadFailure
from actors.loader.walk import ServiceLoader
from actors.root.pools import Pools, ScaleRefused


class Services:
    def __init__(self, engine: Engine, loader: ServiceLoader,
                 warn: Callable[[str], None] = lambda message: None):
        self.engine = engine
        self.loader = loader
        self.warn = warn  # the loader's warnings (a soft dependency dropped, ...), said once
        self.since: dict[str, float] = {}
        self.pools = Pools(engine, loader)

    def ensure_loaded(self, name: str) -> str | None:
        """Load `name` (and what it needs) if it isn't yet; an error sentence, or None."""
        if name in self.engine:
            return None
        try:
            specs = self.pools.sized(self.loader.load(name, self.engine.specs()))
        except LoadFailure as failure:
            return one_sentence(failure)
        for warning in self.loader.warnings:
            self.warn(str(warning))
        self.engine.add(specs)
        return None

    def reload(self, name: str, now: float) -> str | None:
        """Re-read a description; an error sentence (load error or refusal), or None."""
        if name not in self.engine:
            return self.ensure_loaded(name)
        try:
            specs = self.pools.sized(self.loader.reload(name, self.engine.specs()))
        except LoadFailure as failure:
            return f"cannot reload {name}: {one_sentence(failure)}"
        self.engine.add(spec for spec in specs if spec.name != name)
        new = next(spec for spec in specs if spec.name == name)
        outcome = self.engine.reload(new, now)
        return None if outcome.ok else outcome.message

    def scale(self, name: str, count: int, now: float) -> str | None:
        """Resize a loaded pool; an error sentence (not a pool, a bad size, a refusal, an
        instance that cannot be loaded), or None."""
        try:
            self.pools.scale(name, count, now)
        except ScaleRefused as refusal:
            return str(refusal)
        except LoadFailure as failure:
            return f"cannot scale {name} to {count}: {one_sentence(failure)}"
        return None

    def on_notify(self, effect: Notify) -> None:
        """A state change: when it happened, in wall-clock time (the engine keeps no wall
        clock), for the status object's `since`."""
        self.since[effect.service] = time.time()

    def status(self, name: str) -> dict[str, Any]:
        status = self.engine.status(name)
        # Unix seconds of its last state change; null before one was seen by this root.
        status["since"] = self.since.get(name)
        spec = self.engine.spec(name)
        if spec.instances is not None:
            # total (= wanted) and started count the pool's instances; leaving, those a
            # shrink dropped that have not stopped yet.
            states = [self.engine.state(dep).value for dep in spec.depends_on]
            status["instances"] = {"total": len(states), "wanted": spec.instances,
                                   "started": states.count("started"),
                                   "leaving": self.pools.leaving_from(name)}
        return status

    def tree(self, root: str | None) -> list[dict[str, Any]]:
        """The rows of `zeroctl tree`: from `root`, else from every service nothing depends
        on, depth first, each with its depth and the kind of link that leads to it."""
        if root is not None:
            roots = [root]
        else:
            depended = {dep for spec in self.engine.specs().values() for dep in spec.requires()}
            roots = [name for name in self.engine.names() if name not in depended]
        rows = []
        for top in roots:
            stack: list[tuple[str, int, str | None]] = [(top, 0, None)]
            while stack:
                name, depth, link = stack.pop()
                status = self.status(name)
                rows.append({"name": name, "depth": depth, "link": link,
                             "state": status["state"], "target": status["target"],
                             "failed": status["failed"]})
                children = [(dep, kind) for kind, dep in self.engine.spec(name).dependencies()
                            if not kind.is_ordering]
                for child, kind in reversed(children):
                    stack.append((child, depth + 1, kind.value))
        return rows

    def initial(self, named: list[str] | None, container_mode: bool) -> list[str]:
        """What to start: the services named, else `boot`; a cinit tree without `boot` starts
        `init`; in a container, `main` may also run alone."""
        if named is not None:
            return list(named)
        available = set(self.loader.available())
        if "boot" not in available and "init" in available:
            return ["init"]
        if container_mode and "boot" not in available:
            return []
        return ["boot"]


def one_sentence(failure: LoadFailure) -> str:
    errors = [e for e in failure.errors if getattr(e, "severity", "error") == "error"]
    if not errors:
        return str(failure)
    first, more = str(errors[0]), len(errors) - 1
    if more:
        first += f" (and {more} more error{'s' if more > 1 else ''}; run zeroctl check)"
    return first
