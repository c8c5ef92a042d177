"""The root's side of its own succession, as the loop sees it: the state file kept up to date
for whoever comes next, and, in a root that finds a predecessor's watchers, the take-back
from the first hello to the last claim (the rules are in `takeback.py`), with a pidfd on each
taken-back watcher, since it is not a child of our zygote and no one else tells us it ended.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import zmq

from actors.engine import Engine, Role, State
from actors.root import container, state_file
from actors.root.console import Console
from actors.root.takeback import Keeper, TakeBack
from actors.root.watcher_table import WatcherTable


class Succession:
    def __init__(self, actor_socket: str, console: Console,
                 pool_sizes: dict[str, int] | None = None):
        self.console = console
        # The pools' run-time sizes (`Pools.sizes`, shared): saved for the next root, and
        # seeded from the previous one's before any pool is loaded.
        self.pool_sizes = {} if pool_sizes is None else pool_sizes
        self.path = state_file.path_for(actor_socket)
        self.takeback: TakeBack | None = None
        self.keeper: Keeper | None = None
        self.pidfds: dict[int, int] = {}  # fd -> pid of a taken-back watcher

    def load(self) -> state_file.SavedState:
        """What the previous root left (or a fresh state with a new key)."""
        try:
            saved = state_file.load(self.path)
        except state_file.StateFileError as exc:
            self.console.log(f"ignoring the state file {self.path}: {exc}")
            saved = None
        return saved or state_file.SavedState()

    def begin(self, saved: state_file.SavedState, engine: Engine, watchers: WatcherTable,
              now: float) -> TakeBack | None:
        """Returns the take-back to run if the previous root left watchers alive. Otherwise
        the state file is written at once: the key must be on disk before the first watcher
        is forked. (While a take-back runs, the file keeps the previous root's facts, key
        included, until the services are back: a root that dies meanwhile loses nothing.)"""
        self.keeper = Keeper(self.path, state_file.SavedState(key=saved.key), state_file.save)
        self.pool_sizes.update(saved.scale)
        takeback = TakeBack(saved, now)
        if not takeback.collecting:
            self.save(engine, watchers)
            return None
        self.console.info(f"taking back {len(takeback.expected)} watchers of a previous "
                          f"supervisor")
        self.takeback = takeback
        return takeback

    # --- while it runs ------------------------------------------------------------------------

    @property
    def collecting(self) -> bool:
        return self.takeback is not None and self.takeback.collecting

    def deadline(self) -> float | None:
        return self.takeback.deadline if self.collecting else None

    def due(self, now: float) -> bool:
        return self.takeback is not None and self.takeback.due(now)

    def claim(self, engine: Engine, service: str, role: Role, now: float) -> bool:
        return self.takeback is not None and self.takeback.claim(engine, service, role, now)

    def finish(self, start: Callable[[list[str] | None], None], engine: Engine,
               watchers: WatcherTable) -> None:
        """Every watcher is back, or the wait is over: start the services, then stop what was
        taken back and is not wanted."""
        takeback = self.takeback
        assert takeback is not None
        takeback.collecting = False
        for name in takeback.missing():
            killed = takeback.kill_orphan(name)
            self.console.log(f"{name}: its watcher did not come back"
                             + (f"; its process {killed} was killed" if killed else "")
                             + "; it is started again by its policy")
        explicit = [n for n in takeback.saved.explicit if n != container.MAIN]
        start(explicit or None)
        for hello in takeback.unclaimed():
            if hello.service in engine and engine.state(hello.service) is not State.STOPPED:
                continue  # still on its way up: claimed when its start is asked for
            why = "no longer exists" if hello.service not in engine else "is no longer wanted"
            self.console.log(f"{hello.service}: taken back, but the service {why}; "
                             f"stopping its watcher")
            watchers.send(hello.service, "kill")
            watchers.retire(hello.service)
        self.console.info(f"took back {len(takeback.claimed)} services")

    def save(self, engine: Engine, watchers: WatcherTable) -> None:
        assert self.keeper is not None
        if self.collecting:
            return  # the previous root's facts stay on disk until they are taken over
        self.keeper.state.root_pid = os.getpid()
        try:
            self.keeper.update(engine, watchers.watcher_pids(), watchers.verified_daemons(),
                               self.pool_sizes)
        except OSError as exc:
            self.console.log_limited("state-file", f"cannot write the state file "
                                     f"{self.path}: {exc.strerror}")

    def watch_adopted(self, watchers: WatcherTable, poller: zmq.Poller,
                      gone: Callable[[int], None]) -> None:
        watched = set(self.pidfds.values())
        for pid in watchers.adopted_pids() - watched:
            try:
                fd = os.pidfd_open(pid)
            except OSError:
                gone(pid)
                continue
            self.pidfds[fd] = pid
            poller.register(fd, zmq.POLLIN)

    def on_pidfd(self, fd: int, poller: zmq.Poller, gone: Callable[[int], None]) -> None:
        pid = self.pidfds.pop(fd)
        poller.unregister(fd)
        os.close(fd)
        gone(pid)

    def close(self, clean: bool) -> None:
        for fd in self.pidfds:
            os.close(fd)
        self.pidfds.clear()
        if clean:
            state_file.remove(self.path)
