"""What reading one service gives the loader, whatever the format (dinit file or cinit directory).

A `Description` is the spec (None if the service has errors of its own), every link it
declares with the place it was declared (so that a missing dependency or a cycle can be
reported on the right line), and its problems. The loader joins descriptions into a graph;
only it decides whether a service with no errors of its own still fails (a dependency failed,
or it is in a cycle).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Iterable

from actors.loader.errors import LoadError
from actors.loader.spec import DepKind, ServiceSpec, Source

_LINK_FIELDS = {DepKind.REGULAR: "depends_on", DepKind.MILESTONE: "depends_ms",
                DepKind.WAITS_FOR: "waits_for", DepKind.AFTER: "after", DepKind.BEFORE: "before"}


@dataclass(frozen=True, slots=True)
class Link:
    """One declared relation: `name` is the other service."""

    kind: DepKind
    name: str
    file: str
    line: int | None
    setting: str              # as written, for messages (`depends-on`, `waits-for.d`, `needs`)
    optional: bool = False    # from a `*.d` directory: a missing service is skipped (dinit)

    @property
    def loads(self) -> bool:
        """Whether it makes the other service load (ordering links never do)."""
        return self.kind not in (DepKind.AFTER, DepKind.BEFORE)

    def error(self, message: str, severity: str = "error", service: str | None = None
              ) -> LoadError:
        return LoadError(self.file, self.line, self.setting, message, severity, service)  # type: ignore[arg-type]


@dataclass(slots=True)
class Description:
    name: str
    path: str | None                  # the file or directory read; None: not found
    spec: ServiceSpec | None          # None when `problems` holds an error
    links: list[Link] = field(default_factory=list)
    problems: list[LoadError] = field(default_factory=list)
    pool: tuple[int, int] | None = None  # (`instances`, its line) when read without an argument

    @property
    def found(self) -> bool:
        return self.path is not None

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)


def with_links(spec: ServiceSpec, links: Iterable[Link]) -> ServiceSpec:
    """`spec` with its five link fields set from `links` (each name once per kind, in order)."""
    names: dict[DepKind, dict[str, None]] = {kind: {} for kind in _LINK_FIELDS}
    for link in links:
        names[link.kind][link.name] = None
    return dataclasses.replace(spec, **{_LINK_FIELDS[k]: tuple(v) for k, v in names.items()})


def source_of(path: str) -> Source:
    """Where a spec came from, with the modification time it had when read."""
    try:
        return Source(path, os.stat(path).st_mtime_ns)
    except OSError:
        return Source(path)
