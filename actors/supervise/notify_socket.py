"""sd_notify for `ready-notification = notify`: the watcher's end of systemd's notification
protocol, and the service's watchdog.

The watcher owns one datagram socket per service (`NotifySocket`), bound to the abstract
address `@zeroinit-notify-<watcher pid>` (no file to clean up, reachable by a service running
as any user) and given to each launch of the service as `NOTIFY_SOCKET`. Programs that call
`sd_notify()` (libsystemd, python-systemd, sdnotify, go-systemd, ...) work unchanged: each
datagram is lines of `NAME=VALUE` (sd_notify(3)):

    READY=1                 the service is started (the watcher's `ready` report)
    STATUS=text             shown in its status object as "status_text"
    STOPPING=1, RELOADING=1 shown there under "notify" (a later READY=1 ends a reload)
    EXTEND_TIMEOUT_USEC=N   a start under way gets N more microseconds from now
    WATCHDOG=1              the service is alive: the watchdog deadline moves out
    WATCHDOG=trigger        the service asks to be treated as hung now
    WATCHDOG_USEC=N         a new watchdog timeout, from now on

Anything else is ignored, and any file descriptors that come with a datagram are closed (so a
`BARRIER=1` is answered at once).

Who is believed: the socket has SO_PASSCRED, so the kernel attaches the sender's pid
(SCM_CREDENTIALS) to every datagram. A sender counts only if it is the service's process or
below it: its parent chain in /proc leads to the daemon, or it is still in the daemon's session
(the daemon leads its own; see children.py), which covers descendants re-parented to the
watcher. Anything else is ignored, with at most one line a second on stderr. A sender that
has exited before its datagram is read cannot be checked and is ignored too.

The watchdog (`watchdog-timeout`, systemd's WatchdogSec=) is kept here, in the watcher, so a
root restart cannot lose it: armed at readiness, moved out by each WATCHDOG=1; when it passes
the watcher aborts the service (watcher.py). The launch gets `WATCHDOG_USEC` and
`WATCHDOG_PID`; the pid is the service's own, which only the child knows, so such a launch
execs from a `preexec` hook with the variable added (`exec_with_own_pid`).
"""

from __future__ import annotations

import array
import os
import socket
import struct
import sys
import time
from typing import Any, Callable

NOTIFY_BUFFER = 4096  # systemd's NOTIFY_BUFFER_MAX (PIPE_BUF): a longer datagram is ignored
MAX_FDS = 768         # systemd's own limit on the fds one notification may carry
_UCRED = struct.Struct("iII")  # struct ucred: pid, uid, gid
_ANCILLARY = socket.CMSG_SPACE(_UCRED.size) + socket.CMSG_SPACE(MAX_FDS * 4)
MAX_DEPTH = 4096      # a parent chain longer than this is not walked to its end

Report = tuple[str, dict[str, Any]]


def parse_datagram(data: bytes) -> dict[str, str]:
    """`NAME=VALUE` lines -> a dict (a later line wins; a line without `=` is skipped)."""
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", errors="replace").split("\n"):
        name, sep, value = line.partition("=")
        if sep and name:
            fields[name] = value
    return fields


def _stat(pid: int, proc: str) -> tuple[int, int] | None:
    """(parent pid, session id) of `pid`, or None if it is gone."""
    try:
        with open(f"{proc}/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2:].split()
    return int(fields[1]), int(fields[3])


def in_service_tree(sender: int, daemon: int | None, proc: str = "/proc") -> bool:
    """Whether `sender` is the daemon or below it (parent chain, or the daemon's session)."""
    if daemon is None or daemon <= 1 or sender <= 1:
        return False
    if sender == daemon:
        return True
    first = _stat(sender, proc)
    if first is None:
        return False
    if first[1] == daemon:
        return True
    pid, depth = first[0], 0
    while pid > 1 and depth < MAX_DEPTH:
        if pid == daemon:
            return True
        stat = _stat(pid, proc)
        if stat is None:
            return False
        pid, depth = stat[0], depth + 1
    return False


def _usec(text: str) -> float | None:
    """Microseconds as written in a datagram -> seconds, or None if it is not a number."""
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value / 1e6 if value > 0 else None


def exec_with_own_pid(path: str, argv: list[str], env: dict[str, str]) -> Callable[[], None]:
    """A `preexec_fn` that execs the command itself, with WATCHDOG_PID set to the child's pid
    (known only there). A failed exec raises, which subprocess reports as a spawn failure."""
    def run() -> None:
        os.execve(path, argv, {**env, "WATCHDOG_PID": str(os.getpid())})
    return run


class NotifySocket:
    """The datagram socket a service's sd_notify calls reach, and what they said.

    Invariant: `watchdog_at` is set only while the daemon has said READY=1 and the service has
    a watchdog, and is not being stopped.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK
                                  | socket.SOCK_CLOEXEC)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.address = self._bind(f"zeroinit-notify-{os.getpid()}")
        self.status_text: str | None = None
        self.stopping = False
        self.reloading = False
        self.watchdog = 0.0                 # seconds; 0: no watchdog
        self.watchdog_at: float | None = None
        self.stop_timeout = 0.0             # after an abort, SIGKILL this much later (0: never)
        self._warned_at = float("-inf")
        self._held = 0

    def _bind(self, name: str) -> str:
        try:
            self.sock.bind("\0" + name)
        except OSError:  # taken (another pid namespace on this network namespace)
            name += "-" + os.urandom(4).hex()
            self.sock.bind("\0" + name)
        return "@" + name

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()

    # --- a launch -----------------------------------------------------------------------------

    def launching(self, launch: dict[str, Any]) -> dict[str, str]:
        """A new process of the service starts: forget what the last one said; the variables
        it gets (WATCHDOG_PID is added in the child, see `exec_with_own_pid`)."""
        self.status_text, self.stopping, self.reloading = None, False, False
        self.watchdog = float(launch.get("watchdog") or 0.0)
        self.stop_timeout = float(launch.get("stop_timeout") or 0.0)
        self.watchdog_at = None
        env = {"NOTIFY_SOCKET": self.address}
        if self.watchdog > 0:
            env["WATCHDOG_USEC"] = str(int(self.watchdog * 1e6))
        return env

    def process_ended(self) -> None:
        self.watchdog_at = None

    def stop_watchdog(self) -> None:
        """A stop was ordered: the service is no longer expected to ping."""
        self.watchdog_at = None

    def state(self) -> dict[str, Any]:
        """The `notify_state` report's fields."""
        return {"status": self.status_text, "stopping": self.stopping,
                "reloading": self.reloading}

    def said_anything(self) -> bool:
        return self.status_text is not None or self.stopping or self.reloading

    def watchdog_due(self, now: float) -> bool:
        return self.watchdog_at is not None and now >= self.watchdog_at

    # --- datagrams ----------------------------------------------------------------------------

    def receive(self, daemon: int | None, ready_seen: bool) -> list[Report]:
        """Read every waiting datagram; the reports the believed ones call for, in order.
        ("watchdog", {"reason"}) is the watcher's to act on, not to send as it is."""
        reports: list[Report] = []
        while True:
            try:
                data, ancdata, flags, _ = self.sock.recvmsg(NOTIFY_BUFFER, _ANCILLARY)
            except (BlockingIOError, InterruptedError):
                return reports
            sender = _close_fds_and_find_sender(ancdata)
            if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
                self._warn(f"ignored an sd_notify datagram over {NOTIFY_BUFFER} bytes")
            elif sender is None or not in_service_tree(sender, daemon):
                self._warn(f"ignored an sd_notify datagram from pid {sender}, which is not "
                           f"the service's process (pid {daemon}) or below it")
            else:
                ready_seen = self._apply(parse_datagram(data), ready_seen, reports)

    def _apply(self, fields: dict[str, str], ready_seen: bool, reports: list[Report]) -> bool:
        before = self.state()
        now = self.clock()
        if "STATUS" in fields:
            self.status_text = fields["STATUS"]
        if fields.get("STOPPING") == "1":
            self.stopping = True
        if fields.get("RELOADING") == "1":
            self.reloading = True
        if fields.get("READY") == "1":
            self.reloading = False
        new_timeout = _usec(fields.get("WATCHDOG_USEC", ""))
        if new_timeout is not None and self.watchdog > 0:
            self.watchdog = new_timeout
            if self.watchdog_at is not None:
                self.watchdog_at = now + new_timeout
        if self.state() != before:
            reports.append(("notify_state", self.state()))
        extend = _usec(fields.get("EXTEND_TIMEOUT_USEC", ""))
        if extend is not None:
            reports.append(("extend_timeout", {"seconds": extend}))
        if fields.get("READY") == "1" and not ready_seen:
            ready_seen = True
            reports.append(("ready", {}))
            if self.watchdog > 0 and not self.stopping:
                self.watchdog_at = now + self.watchdog
        watchdog = fields.get("WATCHDOG")
        if watchdog == "1" and self.watchdog_at is not None:
            self.watchdog_at = now + self.watchdog
        elif watchdog == "trigger" and self.watchdog_at is not None:
            self.watchdog_at = None
            reports.append(("watchdog", {"reason": "it sent WATCHDOG=trigger"}))
        return ready_seen

    def _warn(self, message: str) -> None:
        """At most one line a second: a stranger can send datagrams at will."""
        now = self.clock()
        if now - self._warned_at < 1.0:
            self._held += 1
            return
        held, self._held, self._warned_at = self._held, 0, now
        print(f"zeroinit watcher: {message}" + (f" (and {held} more since)" if held else ""),
              file=sys.stderr, flush=True)


def _close_fds_and_find_sender(ancdata: list[tuple[int, int, bytes]]) -> int | None:
    sender = None
    for level, kind, data in ancdata:
        if level != socket.SOL_SOCKET:
            continue
        if kind == socket.SCM_CREDENTIALS and len(data) >= _UCRED.size:
            sender = _UCRED.unpack_from(data)[0]
        elif kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    return sender
