"""Pools at run time: `zeroctl scale`, and the sizes that outlive a reload and a take-back.

A pool (`instances = N`; see actors/loader/walk.py) is an internal service NAME that depends
on NAME@0 ... NAME@N-1. Scaling it to M:

* growing loads NAME@N ... NAME@M-1 (each read like the others, with `$1` its index) and
  gives the pool its new links (`Engine.resize`): if the pool is active, they all start at
  once, in parallel;
* shrinking drops the links to the highest indexes: those instances stop, highest first, and
  once stopped they are removed from the engine (`forget_stopped`, after every step), so
  `list` no longer shows them.

The size set by `scale` is a run-time fact, kept in `sizes`: a reload of the pool keeps it
(rather than going back to the file's `instances`), and the state file carries it to the
next root, which applies it when it loads the pool (`sized`).
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable

from actors.engine import Engine, State
from actors.loader.spec import ServiceSpec, split_template_name
from actors.loader.walk import ServiceLoader, instance_names, pool_of_size

MAX_INSTANCES = 10_000  # a bound on one command's work: 10,000 watcher processes is plenty


class ScaleRefused(Exception):
    """A scale that cannot be done; the message is the one sentence for the user."""


class Pools:
    def __init__(self, engine: Engine, loader: ServiceLoader):
        self.engine, self.loader = engine, loader
        # Pools sized at run time (by `scale`, or by the previous root): name -> instances.
        self.sizes: dict[str, int] = {}
        # Instances dropped from their pool that have not stopped yet; removed once stopped.
        self.leaving: set[str] = set()

    def scale(self, name: str, count: int, now: float) -> None:
        """Resize the pool `name` (loaded) to `count` instances. Raises `ScaleRefused`, or
        the loader's `LoadFailure` when a new instance cannot be loaded (nothing changed)."""
        spec = self.engine.spec(name)
        if spec.instances is None:
            raise ScaleRefused(f"{name} is not a pool (its description sets no `instances`); "
                               f"only a pool can be scaled")
        if not 0 <= count <= MAX_INSTANCES:
            raise ScaleRefused(f"cannot scale {name} to {count}: a pool has 0 to "
                               f"{MAX_INSTANCES} instances")
        wanted = instance_names(name, count)
        self.engine.add(self._load(wanted, {}))
        outcome = self.engine.resize(pool_of_size(spec, count), now)
        if not outcome.ok:
            raise ScaleRefused(outcome.message)
        self.sizes[name] = count
        kept = set(wanted)
        self.leaving = (self.leaving - kept) | (set(spec.depends_on) - kept)

    def sized(self, specs: list[ServiceSpec]) -> list[ServiceSpec]:
        """`specs`, just loaded, with each pool that has a run-time size at that size: its
        instances beyond it left out (unless another of `specs` needs one), the missing ones
        loaded. Raises `LoadFailure` when one of those cannot be loaded."""
        for pool in [s for s in specs if s.instances is not None and s.name in self.sizes]:
            size = self.sizes[pool.name]
            if size == pool.instances:
                continue
            resized = pool_of_size(pool, size)
            beyond = set(pool.depends_on) - set(resized.depends_on)
            needed = {dep for s in specs if s.name != pool.name for dep in s.requires()}
            specs = [resized if s is pool else s for s in specs
                     if s.name not in beyond or s.name in needed]
            specs += self._load(resized.depends_on, {s.name: s for s in specs})
        return specs

    def forget_stopped(self) -> None:
        """Remove the instances shrunk away that have stopped (after every step)."""
        for name in list(self.leaving):
            if name not in self.engine or self.engine.state(name) is State.STOPPED:
                self.leaving.discard(name)
                if name in self.engine:
                    self.engine.remove(name)  # refused if something else needs it: kept

    def leaving_from(self, pool: str) -> int:
        return sum(1 for name in self.leaving if split_template_name(name)[0] == pool)

    def _load(self, names: Iterable[str], batch: dict[str, ServiceSpec]) -> list[ServiceSpec]:
        """The specs of those of `names` not loaded yet (nor in `batch`), with what they need."""
        loaded = ChainMap(batch, self.engine.specs())
        new: list[ServiceSpec] = []
        for name in names:
            if name in loaded:
                continue
            for spec in self.loader.load(name, loaded):
                batch[spec.name] = spec
                new.append(spec)
        return new
