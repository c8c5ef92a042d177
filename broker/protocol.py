"""Every message zeroinit's actors and clients exchange: kinds, fields, version, encode, decode.

A message is one ZeroMQ frame holding a msgpack map: `{"v": 1, "kind": "start", ...fields}`.
Each kind is declared once below with the type of each field; `decode` checks a frame against
that table and raises one `ProtocolError` naming the kind and the field, which the receiver
turns into an error reply (where a reply is possible) and otherwise ignores.

Two conversations use this module (docs/protocol.md describes both for other languages):

* client <-> root, on the control endpoint (a ROUTER; clients are DEALERs). Requests carry an
  `id` chosen by the client; every reply and stream message carries it back.
* watcher <-> root, on the actor endpoint (a ROUTER; each watcher is a DEALER whose identity is
  its service name).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgpack

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 1 << 20  # a larger frame is refused unread


class ProtocolError(Exception):
    """A frame that is not a valid message; `kind` and `field` say where, when known."""

    def __init__(self, problem: str, kind: str | None = None, field: str | None = None):
        self.problem, self.kind, self.field = problem, kind, field
        where = kind or "message"
        if field:
            where += f".{field}"
        super().__init__(f"{where}: {problem}")


# ---------------------------------------------------------------------------------------------
# Field types: each a check that returns the value or raises ValueError with what was expected
# ---------------------------------------------------------------------------------------------

Check = Callable[[Any], Any]


def _is(*types: type, label: str) -> Check:
    def check(value: Any) -> Any:
        # bool is an int in Python; a field declared int must not accept True.
        if isinstance(value, bool) and bool not in types:
            raise ValueError(f"expected {label}")
        if not isinstance(value, types):
            raise ValueError(f"expected {label}")
        return value
    return check


STR = _is(str, label="a string")
INT = _is(int, label="an integer")
BOOL = _is(bool, label="true or false")
NUM = _is(int, float, label="a number")
BYTES = _is(bytes, label="bytes")
MAP = _is(dict, label="a map")
ANY: Check = lambda value: value  # noqa: E731 - payloads validated by their own owner


def list_of(item: Check, label: str) -> Check:
    def check(value: Any) -> Any:
        if not isinstance(value, list):
            raise ValueError(f"expected a list of {label}")
        for element in value:
            try:
                item(element)
            except ValueError:
                raise ValueError(f"expected a list of {label}") from None
        return value
    return check


def optional(check: Check) -> Check:
    def opt(value: Any) -> Any:
        return None if value is None else check(value)
    opt.optional = True  # type: ignore[attr-defined]
    return opt


STRS = list_of(STR, "strings")
SIGNAL = _is(str, int, label="a signal name or number")

# ---------------------------------------------------------------------------------------------
# The kinds. Every field listed is required unless wrapped in `optional`.
# ---------------------------------------------------------------------------------------------

# Client -> root requests. `id` is added to each (see REQUEST_ID).
REQUESTS: dict[str, dict[str, Check]] = {
    "hello": {},                                            # version handshake
    "list": {},
    "status": {"names": STRS},
    "start": {"names": STRS, "wait": BOOL},
    "stop": {"names": STRS, "wait": BOOL, "force": BOOL},
    "restart": {"names": STRS, "wait": BOOL, "force": BOOL},
    "release": {"names": STRS},
    "wake": {"names": STRS},
    "signal": {"name": STR, "signal": SIGNAL},
    "logs": {"name": STR, "follow": BOOL, "clear": BOOL},
    "tree": {"name": optional(STR)},
    "reload": {"name": STR},
    "events": {},                                           # a stream until "cancel"
    "cancel": {},                                           # ends this client's streams
    "shutdown": {},
    "reexec": {},                                           # the root execs itself
    "scale": {"name": STR, "count": INT},                   # a pool's new size
    "metrics": {},                                          # Prometheus text, 0.0.4
}

# Root -> client.
RESPONSES: dict[str, dict[str, Check]] = {
    # The final answer to a request. On success `result` holds the command's data; on
    # failure `error` is {"code": str, "message": str, ...details}.
    "reply": {"ok": BOOL, "result": ANY, "error": optional(MAP)},
    "event": {"status": MAP, "event": STR, "time": NUM},    # one per state change
    "output": {"service": STR, "data": BYTES},              # a chunk of followed output
}

# Watcher -> root.
REPORTS: dict[str, dict[str, Check]] = {
    # On every (re)connection: who it is, and where its process stands.
    "hello": {"service": STR, "watcher_pid": INT, "pid": optional(INT), "role": optional(STR),
              "ready": BOOL, "exit": optional(MAP)},
    "spawned": {"role": STR, "pid": INT},
    "spawn_failed": {"role": STR, "reason": STR},
    "ready": {},
    "ready_failed": {},
    "exited": {"role": STR, "pid": INT, "code": optional(INT), "signal": optional(STR)},
    # sd_notify (ready-notification = notify): what the service says of itself, on change
    # and after each reconnection; EXTEND_TIMEOUT_USEC in seconds; its watchdog passed (or
    # was triggered) and the watcher is aborting it, `reason` in words.
    "notify_state": {"status": optional(STR), "stopping": BOOL, "reloading": BOOL},
    "extend_timeout": {"seconds": NUM},
    "watchdog": {"reason": STR},
    "logs": {"request": INT, "data": BYTES, "truncated": BOOL},  # answer to "logs"
    "output": {"data": BYTES},                              # new output, while followed
    "retired": {"log": BYTES},                              # last words before it exits
}

# Root -> watcher.
ORDERS: dict[str, dict[str, Check]] = {
    # launch: see actors/root/launch.py. kill_after: for a stop, SIGKILL to whatever of the
    # service is left after that many seconds (0 or absent: never); the watcher escalates by
    # itself, so a stop completes even if the root goes away meanwhile.
    "spawn": {"role": STR, "launch": MAP, "kill_after": optional(NUM)},
    "signal": {"signal": STR, "group": BOOL, "kill_after": optional(NUM)},
    "kill": {},                                             # SIGKILL to every group it has
    "retire": {},                                           # no process left: exit
    "logs": {"request": INT, "clear": BOOL},
    "follow": {"on": BOOL},
}

REQUEST_ID = "id"

# Who a client is, on a CURVE endpoint: the role its authenticated key has (broker/curve.py;
# the ZAP User-Id on each of its messages), never anything it says. An ipc client is admin:
# the socket file's permissions decide who may connect at all.
ROLE_ADMIN = "admin"
ROLE_READ_ONLY = "read-only"
# What a read-only client may ask: the kinds that only look (shared/DESIGN.md lists `list`,
# `status`, `tree`, `logs`, `events`, `nodes`; issue 11 adds `metrics`), with `hello` and
# `cancel`, which change nothing but the client's own streams. `nodes` and `metrics` are
# named before they are kinds, so that they are read-only the day they come.
READ_ONLY_REQUESTS = frozenset({"hello", "list", "status", "tree", "logs", "events", "cancel",
                                "nodes", "metrics"})


def forbidden(role: str | None, request: dict[str, Any]) -> str | None:
    """Why a client of `role` may not make `request` (decoded), or None if it may. Any role
    but admin is read-only, so an unexpected one gets less, never more."""
    if role == ROLE_ADMIN:
        return None
    kind = request["kind"]
    if kind not in READ_ONLY_REQUESTS:
        return f"{kind} is refused: this client's key is read-only (it may only look)"
    if kind == "logs" and request.get("clear"):
        return "logs --clear is refused: this client's key is read-only (it may only look)"
    return None

# ---------------------------------------------------------------------------------------------
# Encode / decode
# ---------------------------------------------------------------------------------------------


def encode(kind: str, **fields: Any) -> bytes:
    """One frame for `kind`; the caller is trusted to pass the declared fields."""
    message = {"v": PROTOCOL_VERSION, "kind": kind}
    message.update(fields)
    return msgpack.packb(message, use_bin_type=True)


def decode(frame: bytes, table: dict[str, dict[str, Check]],
           extra: dict[str, Check] | None = None) -> dict[str, Any]:
    """Parse and check one frame against `table` (and the `extra` fields every kind carries).

    Returns the message map with its fields checked; unknown fields are dropped, so newer
    peers may add fields without breaking older ones.
    """
    if len(frame) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {len(frame)} bytes is over the "
                            f"{MAX_MESSAGE_BYTES}-byte limit")
    try:
        message = msgpack.unpackb(frame, raw=False, strict_map_key=True)
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError,
            msgpack.StackError, RecursionError) as exc:  # what msgpack raises on garbage
        raise ProtocolError(f"not a msgpack message ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise ProtocolError("expected a map")
    version = message.get("v")
    if type(version) is not int or version != PROTOCOL_VERSION:  # not True, not 1.0
        raise ProtocolError(f"unsupported protocol version {version!r} "
                            f"(this side speaks {PROTOCOL_VERSION})")
    kind = message.get("kind")
    if not isinstance(kind, str):
        raise ProtocolError("missing or non-string 'kind'")
    fields = table.get(kind)
    if fields is None:
        raise ProtocolError("unknown kind", kind)
    checked: dict[str, Any] = {"kind": kind}
    for name, check in list((extra or {}).items()) + list(fields.items()):
        if name not in message:
            if getattr(check, "optional", False):
                checked[name] = None
                continue
            raise ProtocolError("missing field", kind, name)
        try:
            checked[name] = check(message[name])
        except ValueError as exc:
            raise ProtocolError(str(exc), kind, name) from None
    return checked


def readable_id(frame: bytes) -> int:
    """The `id` of a request that failed to decode, where that much can be read (so that the
    error reply reaches the right caller); else 0."""
    if len(frame) > MAX_MESSAGE_BYTES:
        return 0
    try:
        message = msgpack.unpackb(frame, raw=False, strict_map_key=True)
    except Exception:  # noqa: BLE001 - garbage of any kind: no id to read
        return 0
    request_id = message.get(REQUEST_ID) if isinstance(message, dict) else None
    return request_id if type(request_id) is int and 0 <= request_id < 2**63 else 0


def decode_request(frame: bytes) -> dict[str, Any]:
    return decode(frame, REQUESTS, {REQUEST_ID: INT})


def decode_response(frame: bytes) -> dict[str, Any]:
    return decode(frame, RESPONSES, {REQUEST_ID: INT})


def decode_report(frame: bytes) -> dict[str, Any]:
    return decode(frame, REPORTS)


def decode_order(frame: bytes) -> dict[str, Any]:
    return decode(frame, ORDERS)


def reply_ok(request_id: int, result: Any = None) -> bytes:
    return encode("reply", id=request_id, ok=True, result=result, error=None)


def reply_error(request_id: int, code: str, message: str, **details: Any) -> bytes:
    return encode("reply", id=request_id, ok=False, result=None,
                  error={"code": code, "message": message, **details})


# Error codes in replies (zeroctl maps them to exit statuses; see cli/zeroctl.py).
E_BAD_REQUEST = "bad-request"        # the request itself was malformed
E_UNKNOWN_SERVICE = "unknown-service"  # no such service (or it failed to load)
E_REFUSED = "refused"                # the command was refused (dependents, wrong state, ...)
E_FAILED = "failed"                  # the command ran and a service failed
E_UNAUTHORISED = "unauthorised"      # the client may not do this
E_SHUTTING_DOWN = "shutting-down"
