"""The message table: every kind round-trips, and every kind of bad frame is one ProtocolError
naming the kind and the field."""

from __future__ import annotations

import msgpack
import pytest

from broker import protocol
from broker.protocol import ProtocolError


def frame(**message) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


# Every request kind encodes and decodes to the same fields.
@pytest.mark.parametrize("kind, fields", [
    ("hello", {}),
    ("list", {}),
    ("status", {"names": ["web", "db"]}),
    ("start", {"names": ["web"], "wait": True}),
    ("stop", {"names": ["web"], "wait": False, "force": True}),
    ("restart", {"names": ["web"], "wait": True, "force": False}),
    ("release", {"names": ["web"]}),
    ("wake", {"names": ["web"]}),
    ("signal", {"name": "web", "signal": "HUP"}),
    ("signal", {"name": "web", "signal": 9}),
    ("logs", {"name": "web", "follow": False, "clear": True}),
    ("tree", {"name": None}),
    ("tree", {"name": "boot"}),
    ("reload", {"name": "web"}),
    ("events", {}),
    ("cancel", {}),
    ("shutdown", {}),
])
def test_requests_round_trip(kind, fields):
    decoded = protocol.decode_request(protocol.encode(kind, id=7, **fields))
    assert decoded == {"kind": kind, "id": 7, **fields}


# Watcher reports and root orders round-trip too.
@pytest.mark.parametrize("kind, fields", [
    ("hello", {"service": "web", "watcher_pid": 10, "pid": 11, "role": "start", "ready": False,
               "exit": None}),
    ("spawned", {"role": "start", "pid": 11}),
    ("spawn_failed", {"role": "start", "reason": "x: No such file or directory"}),
    ("ready", {}),
    ("ready_failed", {}),
    ("exited", {"role": "start", "pid": 11, "code": None, "signal": "SIGKILL"}),
    ("logs", {"request": 3, "data": b"out\n", "truncated": False}),
    ("output", {"data": b"more"}),
    ("retired", {"log": b""}),
])
def test_reports_round_trip(kind, fields):
    assert protocol.decode_report(protocol.encode(kind, **fields)) == {"kind": kind, **fields}


@pytest.mark.parametrize("kind, fields", [
    ("spawn", {"role": "stop", "launch": {"argv": ["x"]}, "kill_after": 5.0}),
    ("signal", {"signal": "SIGTERM", "group": True, "kill_after": None}),
    ("kill", {}),
    ("retire", {}),
    ("logs", {"request": 1, "clear": False}),
    ("follow", {"on": True}),
])
def test_orders_round_trip(kind, fields):
    assert protocol.decode_order(protocol.encode(kind, **fields)) == {"kind": kind, **fields}


def test_an_absent_optional_field_decodes_as_none():
    decoded = protocol.decode_order(protocol.encode("signal", signal="SIGTERM", group=False))
    assert decoded["kill_after"] is None


# Replies carry the request id, and errors a code and a sentence.
def test_replies():
    ok = protocol.decode_response(protocol.reply_ok(5, [1, 2]))
    assert ok == {"kind": "reply", "id": 5, "ok": True, "result": [1, 2], "error": None}
    err = protocol.decode_response(protocol.reply_error(6, "refused", "no", dependents=["a"]))
    assert err["ok"] is False
    assert err["error"] == {"code": "refused", "message": "no", "dependents": ["a"]}


# An optional field may be left out entirely.
def test_optional_field_may_be_absent():
    decoded = protocol.decode_request(frame(v=1, kind="tree", id=1))
    assert decoded["name"] is None


# A field newer peers add is ignored, so the protocol can grow compatibly.
def test_unknown_fields_are_dropped():
    decoded = protocol.decode_request(frame(v=1, kind="list", id=1, colour="blue"))
    assert decoded == {"kind": "list", "id": 1}


def _error(payload: bytes, decoder=protocol.decode_request) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decoder(payload)
    return info.value


# Garbage that is not msgpack.
def test_not_msgpack():
    assert "not a msgpack message" in str(_error(b"\xc1\xc1\xc1"))


# Trailing bytes after a valid message.
def test_extra_data():
    assert "not a msgpack message" in str(_error(frame(v=1, kind="list", id=1) + b"\x00"))


# A valid msgpack value that is not a map.
def test_not_a_map():
    assert str(_error(msgpack.packb([1, 2]))) == "message: expected a map"


# A map with keys that are not strings.
def test_non_string_keys():
    assert "not a msgpack message" in str(_error(msgpack.packb({1: 2})))


# The wrong protocol version is refused, naming both versions.
def test_wrong_version():
    error = _error(frame(v=2, kind="list", id=1))
    assert "unsupported protocol version 2" in str(error)
    assert "speaks 1" in str(error)


# No kind at all.
def test_missing_kind():
    assert str(_error(frame(v=1, id=1))) == "message: missing or non-string 'kind'"


# A kind nobody knows.
def test_unknown_kind():
    error = _error(frame(v=1, kind="reboot", id=1))
    assert (error.kind, error.field, str(error)) == ("reboot", None, "reboot: unknown kind")


# A request without its id.
def test_missing_id():
    error = _error(frame(v=1, kind="list"))
    assert (error.kind, error.field) == ("list", "id")
    assert str(error) == "list.id: missing field"


# A required field missing.
def test_missing_field():
    assert str(_error(frame(v=1, kind="status", id=1))) == "status.names: missing field"


# A field of the wrong type.
@pytest.mark.parametrize("fields, message", [
    ({"names": "web"}, "status.names: expected a list of strings"),
    ({"names": ["web", 3]}, "status.names: expected a list of strings"),
])
def test_wrong_type(fields, message):
    assert str(_error(frame(v=1, kind="status", id=1, **fields))) == message


# A boolean where an integer is declared is refused (bool is an int in Python).
def test_bool_is_not_an_int():
    assert str(_error(frame(v=1, kind="list", id=True))) == "list.id: expected an integer"


# An integer where a boolean is declared.
def test_int_is_not_a_bool():
    error = _error(frame(v=1, kind="start", id=1, names=["a"], wait=1))
    assert str(error) == "start.wait: expected true or false"


# A signal must be a name or a number.
def test_signal_type():
    error = _error(frame(v=1, kind="signal", id=1, name="a", signal=1.5))
    assert str(error) == "signal.signal: expected a signal name or number"


# Frames over the size limit are refused without being parsed.
def test_oversized():
    big = b"\x00" * (protocol.MAX_MESSAGE_BYTES + 1)
    assert "over the 1048576-byte limit" in str(_error(big))


# A root order is not a valid client request, and the other way round.
def test_tables_are_separate():
    assert str(_error(protocol.encode("kill"))) == "kill: unknown kind"
    assert "unknown kind" in str(_error(protocol.encode("list", id=1), protocol.decode_order))
