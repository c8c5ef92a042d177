"""What `zeroctl metrics` and `zeroinit --metrics` report: the numbers, gathered in the root.

`Metrics` keeps the one thing the engine cannot know, the wall-clock time at which each
service last became started (the engine's clock is monotonic, and it has no business with
the wall): the root hands it every `Notify`, and a `started` one records `time.time()`. A
service already started when this root began (a re-executed root takes its watchers back)
has no such record; its start time is then its daemon's, from /proc.

A service's CPU and memory are its whole process tree's: the daemon and every descendant,
read from /proc at the moment of asking. CPU is `utime + stime + cutime + cstime` of each
process in the tree (proc(5)): the children it has already reaped are counted through their
parent's `cutime`/`cstime`, the living ones through their own. Memory is the resident set,
`statm`'s second field times the page size. A process that ends while it is read is left
out. The text itself is written by exposition.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from actors.engine import Engine, Event, Notify, Snapshot
from actors.root.exposition import ServiceSample, SupervisorSample, render

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class Metrics:
    """The root's metrics: start times recorded as they happen, the rest read when asked."""

    def __init__(self, engine: Engine, watchers: Callable[[], int], proc: str = "/proc"):
        self.engine = engine
        self.watchers = watchers          # how many watchers the root has now
        self.proc = proc
        self.start_times: dict[str, float] = {}  # service -> Unix time it last became started

    def on_notify(self, effect: Notify) -> None:
        if effect.event is Event.STARTED:
            self.start_times[effect.service] = time.time()

    def text(self) -> str:
        snapshots = [self.engine.snapshot(name) for name in self.engine.names()]
        table = ProcessTable.read(self.proc)
        samples = [self._sample(snap, table) for snap in snapshots]
        times = os.times()
        return render(samples, SupervisorSample(len(snapshots), self.watchers(),
                                                times.user + times.system))

    def _sample(self, snap: Snapshot, table: ProcessTable) -> ServiceSample:
        name = snap.spec.name
        if snap.pid is None:
            return ServiceSample(snap, self.start_times.get(name))
        tree = table.tree(snap.pid)
        start = self.start_times.get(name)
        if start is None and snap.pid in table.stats:
            start = table.start_time(snap.pid)
        if not tree:
            return ServiceSample(snap, start)
        return ServiceSample(snap, start, cpu_seconds=sum(p.cpu_seconds for p in tree),
                             memory_bytes=sum(table.resident_bytes(p.pid) for p in tree))


@dataclass(frozen=True, slots=True)
class ProcStat:
    """The fields of /proc/PID/stat that metrics need."""

    pid: int
    ppid: int
    cpu_seconds: float   # utime + stime + cutime + cstime
    start_ticks: int     # clock ticks after boot at which it started

    @classmethod
    def parse(cls, pid: int, text: str) -> ProcStat:
        # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
        fields = text[text.rindex(")") + 2:].split()
        # fields[0] is field 3 of proc(5) (state), so field N is fields[N - 3].
        ticks = sum(int(fields[n - 3]) for n in (14, 15, 16, 17))
        return cls(pid, int(fields[1]), ticks / CLOCK_TICKS, int(fields[22 - 3]))


class ProcessTable:
    """Every process in /proc at one moment, and who is whose child."""

    def __init__(self, proc: str, stats: Iterable[ProcStat]):
        self.proc = proc
        self.stats = {stat.pid: stat for stat in stats}
        self.children: dict[int, list[int]] = {}
        for stat in self.stats.values():
            self.children.setdefault(stat.ppid, []).append(stat.pid)

    @classmethod
    def read(cls, proc: str = "/proc") -> ProcessTable:
        stats = []
        for entry in os.listdir(proc):
            if entry.isdigit():
                text = _read(f"{proc}/{entry}/stat")
                if text:
                    stats.append(ProcStat.parse(int(entry), text))
        return cls(proc, stats)

    def tree(self, pid: int) -> list[ProcStat]:
        """`pid` and its descendants (those still alive)."""
        found, seen, todo = [], set(), [pid]
        while todo:
            stat = self.stats.get(todo.pop())
            if stat is not None and stat.pid not in seen:
                seen.add(stat.pid)
                found.append(stat)
                todo.extend(self.children.get(stat.pid, ()))
        return found

    def resident_bytes(self, pid: int) -> int:
        text = _read(f"{self.proc}/{pid}/statm")
        return int(text.split()[1]) * PAGE_SIZE if text else 0

    def start_time(self, pid: int) -> float | None:
        """Unix time at which `pid` started: boot time (/proc/stat `btime`) + its start."""
        for line in (_read(f"{self.proc}/stat") or "").splitlines():
            if line.startswith("btime "):
                return int(line.split()[1]) + self.stats[pid].start_ticks / CLOCK_TICKS
        return None


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except (OSError, ValueError):
        return None  # it ended meanwhile (or is not readable): leave it out
