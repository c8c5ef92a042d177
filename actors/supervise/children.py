"""A watcher's processes: start one of its service's commands, send its output where its
log settings say (`output.py`), read its readiness pipe, signal it, and collect its exit.

This is plain process work (no messaging): `watcher.py` drives it and reports what happens.
Each command runs in a new session, so it leads its own process group and a stop can signal
the whole group. Commands start through posix_spawn, which reports exec failures as errors;
`subprocess` is only for what posix_spawn cannot do (run-as, a readiness fd moved in the
child). Either way a failure becomes `SpawnError` with the reason in words.

The zygote imports this module once for all watchers, so it stays light: no `subprocess`,
`shutil` or `dataclasses` at import time. `subprocess` brings `threading`, whose at-fork hook
alone would add a third of a millisecond to every watcher's fork.
"""

from __future__ import annotations

import errno
import os
import signal
from typing import Any

from actors.signames import signal_name, signal_number
from actors.supervise.notify_socket import NotifySocket, exec_with_own_pid
from actors.supervise.output import DEVNULL, ServiceOutput

RESERVED_FDS = range(3, 10)  # placeholders, so `pipefd:N` can be given N in 3..9 cheaply


class SpawnError(Exception):
    """A command could not be started; the message says why."""


def reserve_low_fds() -> None:
    """Hold fds 3-9 on /dev/null before anything else opens files, so that a readiness pipe
    can later be put at the number a service asks for without disturbing ZeroMQ's fds."""
    devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    for fd in RESERVED_FDS:
        if fd == devnull:
            continue
        try:
            os.fstat(fd)
        except OSError:
            os.dup2(devnull, fd, inheritable=False)
    if devnull not in RESERVED_FDS:
        os.close(devnull)


class Child:
    """A running command of the service."""
    __slots__ = ("role", "pid", "pidfd", "group", "popen")

    def __init__(self, role: str, pid: int, pidfd: int, group: bool, popen: Any = None):
        self.role, self.pid, self.pidfd, self.group = role, pid, pidfd, group
        # When started through subprocess (run-as): held so that subprocess never reaps it.
        self.popen = popen


class Exit:
    """How a command ended: `code` if it exited, else the name of the signal that killed it."""
    __slots__ = ("role", "pid", "code", "signal")

    def __init__(self, role: str, pid: int, code: int | None, signal: str | None):
        self.role, self.pid, self.code, self.signal = role, pid, code, signal

    def __repr__(self) -> str:
        return f"Exit({self.role!r}, {self.pid}, code={self.code}, signal={self.signal})"

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "signal": self.signal}


class ServiceProcesses:
    """The processes of one service (its command, and a stop command), their output and
    readiness. Methods never block."""

    def __init__(self, log: dict[str, Any], seed: bytes = b""):
        self.children: dict[str, Child] = {}
        self.out = ServiceOutput(log, seed)
        self.ready_fd: int | None = None   # read end of the readiness pipe
        self.ready_seen = False
        self.last_exit: Exit | None = None
        self.notify: NotifySocket | None = None  # for ready-notification = notify, made once
        self._limits_applied = False

    # --- starting -----------------------------------------------------------------------------

    def spawn(self, role: str, launch: dict[str, Any]) -> Child:
        if role in self.children:
            raise SpawnError(f"a {role} command is already running")
        argv = launch["argv"]
        if not argv:
            raise SpawnError("no command to run")
        self._apply_limits(launch)
        # env-file semantics: `!clear` starts empty, `!unset` removes inherited names.
        env = {} if launch.get("env_clear") else dict(os.environ)
        for name in launch.get("env_unset") or ():
            env.pop(name, None)
        env.update(launch.get("env") or {})
        stdin, out, to_close = self._stdio(launch)
        pass_fds: list[int] = []
        preexec = None
        ready = launch.get("ready") if role == "start" else None
        if ready and ready["kind"] == "notify":
            preexec = self._notify_socket(launch, argv, env)
        elif ready:
            preexec = self._ready_pipe(ready, env, pass_fds, to_close)
        user = launch.get("user") or {}
        try:
            if user or preexec is not None:
                popen = _popen(argv, launch.get("cwd"), env, stdin, out, pass_fds, preexec, user)
                pid = popen.pid
            else:
                popen, pid = None, _posix_spawn(argv, launch.get("cwd"), env, stdin, out)
        except OSError as exc:
            self._close_ready()
            raise SpawnError(_describe_oserror(exc, argv[0], launch.get("cwd"))) from None
        except ValueError as exc:  # a bad argument (from _popen, its SubprocessError too)
            self._close_ready()
            raise SpawnError(str(exc)) from None
        finally:
            for fd in to_close:
                os.close(fd)
            for fd in pass_fds:
                if fd in RESERVED_FDS:
                    _restore_placeholder(fd)
        child = Child(role, pid, os.pidfd_open(pid), launch.get("group", True), popen)
        self.children[role] = child
        if role == "start":
            self.ready_seen = False
        return child

    def _stdio(self, launch: dict[str, Any]) -> tuple[Any, Any, list[int]]:
        """stdin and stdout/stderr for the command, and fds to close once it runs."""
        log = launch.get("log") or {}
        try:
            return self.out.targets(log)
        except OSError as exc:
            raise SpawnError(f"cannot open logfile {log['file']}: {exc.strerror}") from None

    def _ready_pipe(self, ready: dict[str, Any], env: dict[str, str], pass_fds: list[int],
                    to_close: list[int]):
        """Make the readiness pipe; put its write end where the service expects it."""
        self._close_ready()
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(read_end, False)
        self.ready_fd = read_end
        to_close.append(write_end)
        if ready["kind"] == "pipevar":
            # A low number: `sh` can only redirect to single-digit descriptors.
            target = RESERVED_FDS[0]
            env[ready["var"]] = str(target)
        else:
            target = ready["fd"]
        if target in RESERVED_FDS:
            os.dup2(write_end, target, inheritable=True)
            pass_fds.append(target)
            return None
        # Any other number: moved into place in the child, just before exec (the pipe's own
        # end is close-on-exec, the copy at `target` is not). When the pipe already got that
        # number, dup2 would do nothing and leave it close-on-exec: clear the flag instead.
        if write_end == target:
            return lambda: os.set_inheritable(target, True)
        return lambda: os.dup2(write_end, target)

    def _notify_socket(self, launch: dict[str, Any], argv: list[str], env: dict[str, str]):
        """NOTIFY_SOCKET (and the watchdog's variables) for the command; with a watchdog, the
        preexec hook that execs it with WATCHDOG_PID (notify_socket.py)."""
        if self.notify is None:
            self.notify = NotifySocket()
        env.update(self.notify.launching(launch))
        if "WATCHDOG_USEC" not in env:
            return None
        try:
            path = argv[0] if "/" in argv[0] else _find_program(argv[0],
                                                                env.get("PATH", os.defpath))
        except OSError:
            return None  # posix_spawn then fails the same way, and says so
        return exec_with_own_pid(path, argv, env)

    def _apply_limits(self, launch: dict[str, Any]) -> None:
        """nice, oom-score-adj and rlimits are set on the watcher itself, once, and inherited:
        the watcher serves this one service only."""
        if self._limits_applied:
            return
        self._limits_applied = True
        if launch.get("nice") is not None:
            os.setpriority(os.PRIO_PROCESS, 0, launch["nice"])
        if launch.get("oom_score_adj") is not None:
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write(str(launch["oom_score_adj"]))
        if launch.get("rlimits"):
            import resource
            for name, soft, hard in launch["rlimits"]:
                number = getattr(resource, f"RLIMIT_{name.upper()}")
                resource.setrlimit(number, (_limit(soft), _limit(hard)))

    # --- signals ------------------------------------------------------------------------------

    def signal(self, sig: str, group: bool) -> None:
        child = self.children.get("start")
        if child is not None:
            _send(child.pid, signal_number(sig), group and child.group)

    def kill(self) -> None:
        for child in self.children.values():
            _send(child.pid, signal.SIGKILL, True)

    # --- output and readiness -----------------------------------------------------------------

    def read_ready(self) -> str | None:
        """"ready" on the first data; "closed" if the pipe closed before any; else None."""
        try:
            data = os.read(self.ready_fd, 4096)
        except BlockingIOError:
            return None
        if data:
            if not self.ready_seen:
                self.ready_seen = True
                return "ready"
            return None
        self._close_ready()
        return None if self.ready_seen else "closed"

    def _close_ready(self) -> None:
        if self.ready_fd is not None:
            os.close(self.ready_fd)
            self.ready_fd = None

    # --- exits --------------------------------------------------------------------------------

    def reap(self) -> list[Exit]:
        """Collect every child that has ended: our commands, and orphans re-parented to us
        (the watcher is a child subreaper)."""
        exits = []
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG)
            except ChildProcessError:
                break
            if info is None:
                break
            for role, child in list(self.children.items()):
                if child.pid == info.si_pid:
                    exits.append(self._ended(role, child, info))
        return exits

    def _ended(self, role: str, child: Child, info: os.waitid_result) -> Exit:
        del self.children[role]
        os.close(child.pidfd)
        if info.si_code == os.CLD_EXITED:
            exit = Exit(role, child.pid, info.si_status, None)
        else:
            exit = Exit(role, child.pid, None, signal_name(info.si_status))
        if child.popen is not None:
            child.popen.returncode = info.si_status if exit.code is not None else -info.si_status
        if role == "start":
            self.last_exit = exit
            self.out.command_ended()
            if self.notify is not None:
                self.notify.process_ended()
            if self.ready_fd is not None and not self.ready_seen:
                self._close_ready()  # the exit says it all
        return exit

    def fds(self) -> list[int]:
        fds = [child.pidfd for child in self.children.values()]
        for fd in (self.out.fd, self.ready_fd,
                   self.notify.fileno() if self.notify is not None else None):
            if fd is not None:
                fds.append(fd)
        return fds


def _posix_spawn(argv: list[str], cwd: str | None, env: dict[str, str], stdin: Any,
                 out: Any) -> int:
    """Start a command with posix_spawn: glibc's vfork path, so no page tables are copied
    and no Python runs in the child. Exec failures come back as OSError. posix_spawn has no chdir, so the watcher (serving this one service only)
    steps into the working directory around the call."""
    path = argv[0] if "/" in argv[0] else _find_program(argv[0], env.get("PATH", os.defpath))
    actions, opened = [], []
    for target, source in ((0, stdin), (1, out), (2, out)):
        if source is None:
            continue  # inherit the watcher's own
        if source == DEVNULL:
            source = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
            opened.append(source)
        actions.append((os.POSIX_SPAWN_DUP2, source, target))
    here = None
    try:
        if cwd:
            here = _getcwd()
            os.chdir(cwd)
        return os.posix_spawn(path, argv, env, file_actions=actions, setsid=True,
                              setsigmask=(), setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
    finally:
        if here is not None:
            os.chdir(here)
        for fd in opened:
            os.close(fd)


def _find_program(name: str, search: str) -> str:
    """`name` looked up in the command's PATH (posix_spawnp would use the watcher's own)."""
    for directory in search.split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)


def _popen(argv, cwd, env, stdin, out, pass_fds, preexec, user):
    """For what posix_spawn can't do: switching user, or a preexec fd move."""
    import subprocess  # rare, and heavy for the zygote (see the module docstring)

    def redirect(source):
        return subprocess.DEVNULL if source == DEVNULL else source

    try:
        return subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=redirect(stdin), stdout=redirect(out),
            stderr=redirect(out),
            # A preexec move (rare: `pipefd:N` with N >= 10) must not be undone by close_fds;
            # every fd of ours is close-on-exec anyway (PEP 446).
            pass_fds=pass_fds, start_new_session=True, close_fds=preexec is None,
            user=user.get("uid"), group=user.get("gid"),
            extra_groups=user.get("groups") if user else None, preexec_fn=preexec)
    except subprocess.SubprocessError as exc:  # preexec_fn failed in the child
        raise ValueError(str(exc)) from None


def _getcwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "/"


def _send(pid: int, number: int, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, number)
        else:
            os.kill(pid, number)
    except ProcessLookupError:
        pass  # already gone; its exit is on its way
    except PermissionError:
        if group:  # the group leader changed its group; signal the process itself
            _send(pid, number, False)


def _limit(value: int) -> int:
    import resource
    return resource.RLIM_INFINITY if value < 0 else value


def _restore_placeholder(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    if devnull != fd:
        os.dup2(devnull, fd, inheritable=False)
        os.close(devnull)


def _describe_oserror(exc: OSError, program: str, cwd: str | None) -> str:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOENT and cwd and exc.filename == cwd:
        return f"working directory {cwd}: {reason}"
    if exc.filename not in (None, program):
        return f"{program}: {exc.filename}: {reason}"
    return f"{program}: {reason}"
