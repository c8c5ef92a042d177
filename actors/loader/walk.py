"""The service loader: names in, frozen `ServiceSpec`s out, with every problem found.

`ServiceLoader` finds descriptions in its directories, reads each one once (a dinit file with
`dinit_service`, a cinit directory with `cinit`), follows the links that load other services,
and judges the lot: which services fail and why. It is the only place that knows about
directories, templates, profiles and pools:

* Directories are searched in order and the first holding the name wins. A file is a dinit
  description; a directory is a cinit service. With a profile P, a directory `NAME.P`
  replaces `NAME` (in the same directory).
* `worker@3` is the file `worker@3` if one exists in any directory, else the template `worker`;
  either way `$1` is `3` and `template_arg` is "3".
* A description with `instances = N` read without an argument is a pool: the internal service
  `pool` depends on `pool@0` ... `pool@N-1`, which are read like any template instance (there
  `instances` is ignored). This is zeroinit's addition.
* `depends-on`, `depends-ms`, `waits-for` and the `.d` directories load what they name;
  `before`, `after` and `chain-to` never load anything (dinit).

Loading is a depth-first walk with an explicit stack, so the result is in dinit's load-begin
order (a service before the dependencies it pulled in) and a 10,000-long chain is no problem.
A service fails if it has an error of its own, needs (hard: `depends-on`, `depends-ms`) one
that failed or does not exist, or is in a dependency cycle (see depgraph). A `waits-for` of
one that failed or does not exist is dropped with a warning instead: a soft dependency that
fails to load stops nothing, as one that fails to start stops nothing (zeroinit's choice;
dinit fails the dependent). Services that fail are never returned; `load` raises
`LoadFailure` with every error when the service asked for is one of them.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

from actors.loader.cinit_dir import read_cinit_service
from actors.loader.cycles import find_cycles, spread_failures
from actors.loader.description import Description, Link, source_of, with_links
from actors.loader.dinit_file import read_dinit_service
from actors.loader.errors import LoadError, LoadFailure, unique
from actors.loader.spec import (
    DepKind, ServiceSpec, ServiceType, is_valid_service_name, split_template_name,
)

_NOTHING: Mapping[str, ServiceSpec] = MappingProxyType({})


@dataclass
class _Outcome:
    specs: list[ServiceSpec] = field(default_factory=list)  # in load-begin order
    failed: set[str] = field(default_factory=set)
    errors: list[LoadError] = field(default_factory=list)   # root causes first
    warnings: list[LoadError] = field(default_factory=list)


class ServiceLoader:
    """Loads service descriptions from `dirs` (searched in order).

    `environ` is the environment for substitution and for the processes (default: this
    process's); `profile` chooses cinit `NAME.PROFILE` directories. `warnings` holds the
    warnings of the last successful `load` or `reload`.
    """

    def __init__(self, dirs: Sequence[str], environ: Mapping[str, str] | None = None,
                 profile: str | None = None) -> None:
        self.dirs = [os.path.abspath(d) for d in dirs]
        self.environ = dict(os.environ if environ is None else environ)
        self.profile = profile or None
        self.warnings: list[LoadError] = []

    # --- the API ------------------------------------------------------------------------------

    def load(self, name: str, loaded: Mapping[str, ServiceSpec] = _NOTHING
             ) -> list[ServiceSpec]:
        """`name` and what it needs that is not in `loaded`, in load-begin order."""
        if name in loaded:
            return []
        return self._checked(name, self._walk([name], loaded, reread=None))

    def reload(self, name: str, loaded: Mapping[str, ServiceSpec]) -> list[ServiceSpec]:
        """Read `name` again (plus new dependencies); cycles are checked against `loaded` with
        the new spec in place of the old one. The new spec of `name` comes first."""
        return self._checked(name, self._walk([name], loaded, reread=name))

    def check(self, names: Iterable[str] | None = None
              ) -> tuple[list[ServiceSpec], list[LoadError]]:
        """For `zeroctl check`: load `names` (default: every service available) and their
        dependencies in one walk (so each cycle and each failure is reported once); every spec
        that loads, then every error, then every warning."""
        roots = list(dict.fromkeys(self.available() if names is None else names))
        outcome = self._walk(roots, _NOTHING, reread=None)
        return outcome.specs, outcome.errors + outcome.warnings

    def available(self) -> list[str]:
        """Every service name found in the directories (not hidden entries, not profile
        variants; a variant for the active profile counts as its base name)."""
        names: set[str] = set()
        for directory in self.dirs:
            try:
                entries = os.listdir(directory)
            except OSError:
                continue
            present = set(entries)
            for entry in entries:
                name = self._listed_name(directory, entry, present)
                if name is not None and is_valid_service_name(name):
                    names.add(name)
        return sorted(names)

    def find(self, name: str) -> tuple[str, bool, str | None] | None:
        """(path, whether it is a cinit directory, the template argument) or None."""
        base, arg = split_template_name(name)
        for candidate in (name, base) if arg is not None else (name,):
            for directory in self.dirs:
                entry = self._entry(directory, candidate)
                if entry is not None:
                    return entry[0], entry[1], arg
        return None

    # --- finding ------------------------------------------------------------------------------

    def _entry(self, directory: str, name: str) -> tuple[str, bool] | None:
        if self.profile:
            variant = os.path.join(directory, f"{name}.{self.profile}")
            if os.path.isdir(variant):
                return variant, True
        path = os.path.join(directory, name)
        try:
            mode = os.stat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None  # dinit: not here (a dangling symlink too); look further
        except OSError:
            return path, False  # here but unreadable: reading it will say why
        return path, stat.S_ISDIR(mode)

    def _listed_name(self, directory: str, entry: str, entries: set[str]) -> str | None:
        if entry.startswith("."):
            return None
        path = os.path.join(directory, entry)
        if os.path.isdir(path):
            stem, dot, profile = entry.rpartition(".")
            if dot and stem and self.profile and profile == self.profile:
                return stem
            if dot and stem in entries:
                return None  # NAME.OTHERPROFILE (or a dinit `NAME.d` directory)
            return entry
        return entry if os.path.isfile(path) else None

    def _read(self, name: str) -> Description:
        if not is_valid_service_name(name):
            return Description(name, None, None, problems=[LoadError(
                name, None, None, f"invalid service name '{name}': use letters, digits, '-', "
                "'_' and '.' (not first), then optionally '@' and an argument", service=name)])
        found = self.find(name)
        if found is None:
            return Description(name, None, None)
        path, is_cinit, arg = found
        reader = read_cinit_service if is_cinit else read_dinit_service
        description = reader(name, path, arg, self.environ)
        for problem in description.problems:
            problem.service = problem.service or name
        return _pool(description) if description.pool else description

    # --- loading and judging ------------------------------------------------------------------

    def _checked(self, name: str, outcome: _Outcome) -> list[ServiceSpec]:
        if name in outcome.failed or not any(s.name == name for s in outcome.specs):
            raise LoadFailure(outcome.errors + outcome.warnings)
        self.warnings = outcome.warnings
        return outcome.specs

    def _walk(self, roots: list[str], loaded: Mapping[str, ServiceSpec],
              reread: str | None) -> _Outcome:
        """Read `roots` and everything they load that is not loaded yet, depth first."""
        read: dict[str, Description] = {}
        order: list[str] = []
        stack = list(reversed(roots))
        while stack:
            name = stack.pop()
            if name in read or (name in loaded and name != reread):
                continue
            description = self._read(name)
            read[name] = description
            order.append(name)
            stack.extend(link.name for link in reversed(description.links) if link.loads)
        return self._judge(read, order, loaded, roots)

    def _judge(self, read: dict[str, Description], order: list[str],
               loaded: Mapping[str, ServiceSpec], roots: list[str]) -> _Outcome:
        outcome = _Outcome()
        needs: dict[str, list[Link]] = {}
        for name in order:
            description = read[name]
            problems = list(description.problems)
            if not description.found and not problems and name in roots:
                problems.append(LoadError(name, None, None, "service description not found in "
                                          + ", ".join(self.dirs), service=name))
            problems += self._missing_links(description, read, loaded)
            problems.sort(key=lambda p: (p.file != description.path, p.file, p.line or 0))
            if any(p.is_error for p in problems) or not description.found:
                outcome.failed.add(name)
            outcome.errors += [p for p in problems if p.is_error]
            outcome.warnings += [p for p in problems if not p.is_error]
            needs[name] = [link for link in description.links if link.loads
                           and link.kind is not DepKind.WAITS_FOR and link.name in read]
        found = {n: d for n, d in read.items() if d.found}
        old = {n: s for n, s in loaded.items() if n not in read}
        together: dict[str, int] = {}
        for number, (members, error) in enumerate(find_cycles(found, old, order)):
            outcome.errors.append(error)
            outcome.failed.update(members)
            together.update((member, number) for member in members)
        # A missing service already has an error on each line naming it: spread from the rest.
        spreading = {n for n in outcome.failed if read[n].found}
        outcome.errors += spread_failures(spreading, needs, together, order)
        outcome.failed |= spreading
        for name in order:
            if name not in outcome.failed:
                outcome.warnings += _drop_failed_soft_links(read[name], outcome.failed)
        outcome.specs = [read[n].spec for n in order if n not in outcome.failed]
        outcome.errors, outcome.warnings = unique(outcome.errors), unique(outcome.warnings)
        return outcome

    @staticmethod
    def _missing_links(description: Description, read: Mapping[str, Description],
                       loaded: Mapping[str, ServiceSpec]) -> list[LoadError]:
        """Errors for links to services that do not exist; links from a `.d` directory to
        them are dropped with a warning instead (dinit)."""
        problems: list[LoadError] = []
        kept: list[Link] = []
        for link in description.links:
            target = read.get(link.name)
            if not link.loads or (target.found if target else link.name in loaded):
                kept.append(link)
            elif link.optional or link.kind is DepKind.WAITS_FOR:
                problems.append(link.error(f"ignoring '{link.name}': service not found",
                                           "warning", description.name))
            else:
                problems.append(link.error(f"service '{link.name}' not found",
                                           service=description.name))
        if len(kept) != len(description.links):
            description.links = kept
            if description.spec is not None:
                description.spec = with_links(description.spec, kept)
        return problems


def _drop_failed_soft_links(description: Description, failed: set[str]) -> list[LoadError]:
    """The `waits-for` links of a service that loads to ones that did not: dropped, each with
    a warning saying that it starts without them."""
    gone = [link for link in description.links
            if link.kind is DepKind.WAITS_FOR and link.name in failed]
    if not gone:
        return []
    description.links = [link for link in description.links if link not in gone]
    if description.spec is not None:
        description.spec = with_links(description.spec, description.links)
    return [link.error(f"ignoring '{link.name}': it could not be loaded, and "
                       f"{description.name} starts without it", "warning", description.name)
            for link in gone]


def _pool(description: Description) -> Description:
    """The internal service standing for a pool, depending on each of its instances."""
    assert description.pool is not None and description.path is not None
    count, line = description.pool
    name, path = description.name, description.path
    links = [Link(DepKind.REGULAR, instance, path, line, "instances")
             for instance in instance_names(name, count)]
    spec = ServiceSpec(name=name, type=ServiceType.INTERNAL, instances=count,
                       source=source_of(path))
    # The file's other settings are the instances'; its problems are reported by them.
    return Description(name, path, with_links(spec, links), links, [])


def pool_of_size(pool: ServiceSpec, count: int) -> ServiceSpec:
    """A pool's internal service resized to `count` instances (`zeroctl scale`; 0 allowed)."""
    assert pool.instances is not None
    return dataclasses.replace(pool, instances=count,
                               depends_on=tuple(instance_names(pool.name, count)))


def instance_names(pool: str, count: int) -> list[str]:
    return [f"{pool}@{i}" for i in range(count)]
