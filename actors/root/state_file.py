"""What a root leaves for the root after it: the few facts a new root needs to take the
watchers back and cannot learn from them.

A watcher knows its own process (pid, readiness, last exit, output) and says so in its hello.
What only the root knew is kept here, in one small msgpack file beside the actor socket,
rewritten (atomically: a new file renamed over the old) whenever it changes:

* `key`: the secret from which each watcher's password is derived (`watcher_gate.py`); a new
  root that has it can tell its predecessor's watchers from impostors.
* `explicit`: the services a command (or the command line) asked for.
* `restarts`: the automatic restarts of each service since it was last started by command.
* `started`: the services that were started, so a scripted service whose start command ran
  to completion is not run again.
* `watchers`: the watcher pid of each service, so the new root knows whom to wait for; and
  `daemons`, each service's running process as (pid, start time), so one whose watcher did
  not come back can be stopped rather than left running unsupervised beside a new copy.
* `scale`: the size of each pool changed at run time.

The file lives in the socket's private directory (0700, checked at bind) and is itself 0600;
a file owned by another user, readable by others, or unreadable is not believed (the root
then starts afresh and says why). No fsync: the file must outlive the root process, not the
machine, and the page cache survives the former.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass, field

import msgpack

STATE_VERSION = 1
KEY_BYTES = 32


class StateFileError(Exception):
    """A state file that exists but cannot be believed; the message says why."""


@dataclass
class SavedState:
    key: bytes = field(default_factory=lambda: secrets.token_bytes(KEY_BYTES))
    root_pid: int = 0
    explicit: list[str] = field(default_factory=list)
    restarts: dict[str, int] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    watchers: dict[str, int] = field(default_factory=dict)
    daemons: dict[str, tuple[int, int]] = field(default_factory=dict)
    scale: dict[str, int] = field(default_factory=dict)

    def encode(self) -> bytes:
        return msgpack.packb({
            "v": STATE_VERSION, "key": self.key, "root_pid": self.root_pid,
            "explicit": self.explicit, "restarts": self.restarts, "started": self.started,
            "watchers": self.watchers, "daemons": {k: list(v) for k, v in self.daemons.items()},
            "scale": self.scale}, use_bin_type=True)

    @classmethod
    def decode(cls, data: bytes) -> SavedState:
        try:
            raw = msgpack.unpackb(data, raw=False, strict_map_key=True)
            if not isinstance(raw, dict) or raw.get("v") != STATE_VERSION:
                raise ValueError("not a version-1 state file")
            key = raw["key"]
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise ValueError("no valid key")
            return cls(
                key=key, root_pid=_int(raw.get("root_pid", 0)),
                explicit=[_str(n) for n in raw.get("explicit", [])],
                restarts={_str(k): _int(v) for k, v in raw.get("restarts", {}).items()},
                started=[_str(n) for n in raw.get("started", [])],
                watchers={_str(k): _int(v) for k, v in raw.get("watchers", {}).items()},
                daemons={_str(k): (_int(v[0]), _int(v[1]))
                         for k, v in raw.get("daemons", {}).items()},
                scale={_str(k): _int(v) for k, v in raw.get("scale", {}).items()})
        except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
            raise StateFileError(f"unreadable ({exc})") from None


def _int(value: object) -> int:
    if type(value) is not int:
        raise ValueError(f"expected an integer, not {value!r}")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a name, not {value!r}")
    return value


def load(path: str) -> SavedState | None:
    """The state a previous root left at `path`, or None if there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"cannot open it: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StateFileError("not a regular file")
        if info.st_uid != os.geteuid():
            raise StateFileError(f"owned by uid {info.st_uid}, not by us")
        if info.st_mode & 0o077:
            raise StateFileError(f"mode {stat.S_IMODE(info.st_mode):o} lets others read it")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(16 << 20)
    finally:
        os.close(fd)
    return SavedState.decode(data)


def save(path: str, state: SavedState) -> None:
    """Replace the file at `path` with `state`, atomically (a reader sees the old or the new)."""
    temporary = f"{path}.{os.getpid()}.new"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    try:
        with os.fdopen(fd, "wb", closefd=False) as f:
            f.write(state.encode())
    finally:
        os.close(fd)
    os.replace(temporary, path)


def remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def path_for(actor_socket: str) -> str:
    return actor_socket + ".state"
