"""The loaded services: the loader reads descriptions on demand and the engine gets them; the
status objects handed to clients are built here (the engine's, plus a pool's summary).

Every failure is one sentence for the user: the first error, with file and line, and how many
more there are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actors.engine import Engine
from actors.loader.errors import LoadFailure
from actors.loader.walk import ServiceLoader


class Services:
    def __init__(self, engine: Engine, loader: ServiceLoader,
                 warn: Callable[[str], None] = lambda message: None):
        self.engine = engine
        self.loader = loader
        self.warn = warn  # the loader's warnings (a soft dependency dropped, ...), said once

    def ensure_loaded(self, name: str) -> str | None:
        """Load `name` (and what it needs) if it isn't yet; an error sentence, or None."""
        if name in self.engine:
            return None
        try:
            specs = self.loader.load(name, self.engine.specs())
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
            specs = self.loader.reload(name, self.engine.specs())
        except LoadFailure as failure:
            return f"cannot reload {name}: {one_sentence(failure)}"
        self.engine.add(spec for spec in specs if spec.name != name)
        new = next(spec for spec in specs if spec.name == name)
        outcome = self.engine.reload(new, now)
        return None if outcome.ok else outcome.message

    def status(self, name: str) -> dict[str, Any]:
        status = self.engine.status(name)
        spec = self.engine.spec(name)
        if spec.instances:
            states = [self.engine.state(dep).value for dep in spec.depends_on]
            status["instances"] = {"total": len(states), "started": states.count("started")}
        return status

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
