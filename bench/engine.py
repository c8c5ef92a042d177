"""Engine benchmark: the cost of the dependency engine's decisions, without any process.

    python bench/engine.py [--services 10000] [--events-graph 1000]

Measures, for 10,000 services (a flat set under one group, and a random DAG):
  * load: `Engine.add` of every spec (and, when a services directory is given with
    --load-dir, the loader reading those files);
  * start-all: `start` of the group until every service is started (every exec reported);
and, on a 1,000-service random DAG with everything up, the median and 99th percentile cost of
one event (a process crash with its rollback and restart decisions, then its exec report).
Targets (issue #3): load + start-all <= 1 s each, one event <= 50 us median.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.engine import Engine, ExitStatus, Kill, Signal, Spawn  # noqa: E402
from actors.loader.spec import ServiceSpec, ServiceType  # noqa: E402


def flat(n: int) -> list[ServiceSpec]:
    specs = [ServiceSpec("boot", ServiceType.INTERNAL,
                         depends_on=tuple(f"s{i}" for i in range(n)))]
    specs += [ServiceSpec(f"s{i}", ServiceType.PROCESS, command=("x",)) for i in range(n)]
    return specs


def dag(n: int, seed: int = 1) -> list[ServiceSpec]:
    """Each service depends on up to 3 earlier ones (hard) and 1 soft; boot needs the tops."""
    rng = random.Random(seed)
    specs, depended = [], set()
    for i in range(n):
        hard = tuple(sorted({f"s{rng.randrange(i)}" for _ in range(rng.randint(0, 3))})) if i else ()
        soft = (f"s{rng.randrange(i)}",) if i > 10 and rng.random() < 0.3 else ()
        soft = tuple(s for s in soft if s not in hard)
        depended.update(hard + soft)
        specs.append(ServiceSpec(f"s{i}", ServiceType.PROCESS, command=("x",),
                                 depends_on=hard, waits_for=soft))
    tops = tuple(s.name for s in specs if s.name not in depended)
    return [ServiceSpec("boot", ServiceType.INTERNAL, depends_on=tops)] + specs


def start_all(engine: Engine, now: float) -> int:
    """Start boot and answer every spawn with an exec report until nothing is pending."""
    engine.start("boot", now)
    pid, spawns = 1000, 0
    pending = [e.service for e in engine.take_effects() if isinstance(e, Spawn)]
    while pending:
        spawns += len(pending)
        batch, pending = pending, []
        for name in batch:
            pid += 1
            engine.on_spawned(name, pid, now)
            pending += [e.service for e in engine.take_effects() if isinstance(e, Spawn)]
    return spawns


def measure_load_and_start(label: str, specs: list[ServiceSpec]) -> tuple[float, float]:
    engine = Engine()
    t0 = time.perf_counter()
    engine.add(specs)
    t1 = time.perf_counter()
    spawns = start_all(engine, 0.0)
    t2 = time.perf_counter()
    assert spawns == len(specs) - 1, spawns
    assert all(s["state"] == "started" for s in engine.statuses())
    print(f"  {label:<14} add {len(specs):>6} services: {(t1 - t0) * 1000:8.1f} ms   "
          f"start all: {(t2 - t1) * 1000:8.1f} ms")
    return t1 - t0, t2 - t1


def measure_events(n: int, rounds: int = 2000) -> list[float]:
    engine = Engine()
    engine.add(dag(n, seed=7))
    start_all(engine, 0.0)
    rng = random.Random(3)
    names = [f"s{i}" for i in range(n)]
    costs = []
    now = 100.0
    for _ in range(rounds):
        name = rng.choice(names)
        now += 50.0  # past restart delays and limits: each crash restarts
        t0 = time.perf_counter()
        engine.on_exited(name, ExitStatus(code=1), now)
        costs.append(time.perf_counter() - t0)
        # Play the processes' part: the rolled-back dependents exit when signalled, and the
        # spawns execute; each of those reports is an event too.
        pid = 10_000_000
        pending = engine.take_effects()
        while pending:
            batch, pending = pending, []
            for effect in batch:
                t0 = time.perf_counter()
                if isinstance(effect, Spawn):
                    pid += 1
                    engine.on_spawned(effect.service, pid, now)
                elif isinstance(effect, (Signal, Kill)):
                    engine.on_exited(effect.service, ExitStatus(signal="SIGTERM"), now)
                else:
                    continue
                costs.append(time.perf_counter() - t0)
                pending += engine.take_effects()
    assert all(s["state"] == "started" for s in engine.statuses())
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--events-graph", type=int, default=1_000)
    args = parser.parse_args()
    print(f"engine benchmark, Python {sys.version.split()[0]}")
    results = {}
    for label, specs in (("flat", flat(args.services)), ("random DAG", dag(args.services))):
        results[label] = measure_load_and_start(label, specs)
    costs = measure_events(args.events_graph)
    median, p99 = statistics.median(costs), sorted(costs)[int(len(costs) * 0.99)]
    print(f"  one event on a {args.events_graph}-service DAG ({len(costs)} events): "
          f"median {median * 1e6:.1f} us, p99 {p99 * 1e6:.1f} us")
    worst = max(max(r) for r in results.values())
    print(f"targets: load and start-all <= 1000 ms each (worst {worst * 1000:.0f} ms: "
          f"{'met' if worst <= 1 else 'MISSED'}); one event <= 50 us median "
          f"({'met' if median <= 50e-6 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
