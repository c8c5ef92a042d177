"""The metrics in Prometheus' text exposition format, version 0.0.4: pure, no I/O.

The metric names are the contract's (shared/DESIGN.md, "Readiness, health, logs and metrics",
the Metrics bullet). Per service, labelled `service="NAME"`:

    zeroinit_service_up                   gauge    1 when started, else 0
    zeroinit_service_restarts_total       counter  restarts after a crash
    zeroinit_service_start_time_seconds   gauge    Unix time it last became started
    zeroinit_service_cpu_seconds_total    counter  user + system CPU of its process tree
    zeroinit_service_memory_bytes         gauge    resident memory of its process tree
    zeroinit_service_healthy              gauge    1 healthy, 0 not (only with a check)

and the supervisor's own `zeroinit_services`, `zeroinit_watchers` and
`zeroinit_root_cpu_seconds_total`. What is not known (a service without a process has no
memory; one never started has no start time) is left out rather than written as 0, so a
graph shows a gap and not a false value.

The format (https://prometheus.io/docs/instrumenting/exposition_formats/): each family is one
`# HELP` line, one `# TYPE` line, then its samples, and a name appears in one family only. In
a label value `\\`, `"` and a newline are escaped; in HELP text `\\` and a newline. The
caller gathers the numbers (metrics.py reads /proc and the clock); this module only writes.

    render([ServiceSample(snapshot, start_time=1.7e9, cpu_seconds=0.5,
                          memory_bytes=4096)], SupervisorSample(1, 1, 0.25))
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from actors.engine import Snapshot, State

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True, slots=True)
class ServiceSample:
    """One service at one moment: its engine snapshot and what was measured of it."""

    snapshot: Snapshot
    start_time: float | None = None     # Unix time it last became started; None: never
    cpu_seconds: float | None = None    # its process tree's CPU; None: no process
    memory_bytes: int | None = None     # its process tree's resident memory; None: no process
    healthy: bool | None = None         # None: no health check


@dataclass(frozen=True, slots=True)
class SupervisorSample:
    services: int          # services loaded
    watchers: int          # watcher processes the root knows
    root_cpu_seconds: float


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: name, type (gauge or counter), help, and (labels, value) samples."""

    name: str
    type: str
    help: str
    samples: tuple[tuple[tuple[tuple[str, str], ...], float], ...]


def render(services: Iterable[ServiceSample], supervisor: SupervisorSample) -> str:
    """The whole exposition: the per-service families, then the supervisor's."""
    return render_families(families(list(services), supervisor))


def families(services: list[ServiceSample], supervisor: SupervisorSample) -> list[Family]:
    def per_service(name: str, kind: str, text: str, value_of) -> Family:
        samples = []
        for sample in services:
            value = value_of(sample)
            if value is not None:
                samples.append(((("service", sample.snapshot.spec.name),), value))
        return Family(name, kind, text, tuple(samples))

    found = [
        per_service("zeroinit_service_up", "gauge", "1 when the service is started, else 0.",
                    lambda s: 1 if s.snapshot.state is State.STARTED else 0),
        per_service("zeroinit_service_restarts_total", "counter",
                    "Restarts of the service after its process ended unexpectedly.",
                    lambda s: s.snapshot.restarts),
        per_service("zeroinit_service_start_time_seconds", "gauge",
                    "Unix time at which the service last became started.",
                    lambda s: s.start_time),
        per_service("zeroinit_service_cpu_seconds_total", "counter",
                    "User and system CPU time of the service's process tree, in seconds.",
                    lambda s: s.cpu_seconds),
        per_service("zeroinit_service_memory_bytes", "gauge",
                    "Resident memory of the service's process tree, in bytes.",
                    lambda s: s.memory_bytes),
    ]
    if any(s.healthy is not None for s in services):
        found.append(per_service("zeroinit_service_healthy", "gauge",
                                 "1 when the service's health check passes, else 0.",
                                 lambda s: None if s.healthy is None else int(s.healthy)))
    return found + [
        Family("zeroinit_services", "gauge", "Services loaded by the supervisor.",
               (((), supervisor.services),)),
        Family("zeroinit_watchers", "gauge", "Watcher processes of the supervisor.",
               (((), supervisor.watchers),)),
        Family("zeroinit_root_cpu_seconds_total", "counter",
               "User and system CPU time of the supervisor's root process, in seconds.",
               (((), supervisor.root_cpu_seconds),)),
    ]


def render_families(found: Iterable[Family]) -> str:
    lines = []
    for family in found:
        lines.append(f"# HELP {family.name} {escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.type}")
        for labels, value in family.samples:
            lines.append(f"{family.name}{render_labels(labels)} {render_value(value)}")
    return "\n".join(lines) + "\n"


def render_labels(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{escape_label(value)}"' for name, value in labels) + "}"


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def render_value(value: float) -> str:
    """Integers as integers; floats as Go's ParseFloat reads them (NaN, +Inf, -Inf)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))
