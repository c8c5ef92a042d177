"""Garbage on the sockets: 10,000+ malformed messages to a running root must each get an error
reply (where a reply is possible) and change nothing — it still answers, and no service was
disturbed."""

from __future__ import annotations

import random

import msgpack
import zmq

from broker import protocol

LONG = "command = sleep 1000\n"


def malformed_messages(rng: random.Random, count: int):
    """Frames (or multi-frame messages) that are each wrong in some way."""
    kinds = list(protocol.REQUESTS)
    makers = [
        lambda: [rng.randbytes(rng.randint(0, 64))],                       # random bytes
        lambda: [msgpack.packb(rng.choice([1, "x", [1, 2], None, 3.5, b"b"]))],  # not a map
        lambda: [msgpack.packb({"v": rng.choice([0, 2, "1", None]), "kind": "list", "id": 1})],
        lambda: [msgpack.packb({"v": 1, "id": 1})],                         # no kind
        lambda: [msgpack.packb({"v": 1, "kind": rng.choice(["reboot", "", "x" * 200]),
                                "id": 1})],                                 # unknown kind
        lambda: [msgpack.packb({"v": 1, "kind": rng.choice(kinds)})],        # no id
        lambda: [msgpack.packb({"v": 1, "kind": "status", "id": 2,
                                "names": rng.choice(["web", [1], {"a": 1}, None])})],
        lambda: [msgpack.packb({"v": 1, "kind": "stop", "id": 3, "names": ["web"],
                                "wait": "yes", "force": 1})],               # wrong types
        lambda: [msgpack.packb({"v": 1, "kind": "signal", "id": 4, "name": "web",
                                "signal": [9]})],
        lambda: [msgpack.packb({"v": 1, "kind": "list", "id": True})],      # bool id
        lambda: [b"", msgpack.packb({"v": 1, "kind": "list", "id": 5}), b"extra"],  # frames
        lambda: [msgpack.packb({"v": 1, "kind": "list", "id": 6}), b"trailing"],
        lambda: [msgpack.packb({"v": 1, "kind": "list", "id": 7}) + b"\x00"],  # extra data
        lambda: [b"\xdd\xff\xff\xff\xff"],                                   # huge array header
    ]
    for index in range(count):
        yield rng.choice(makers)()
    for _ in range(3):  # over the 1 MiB limit
        yield [b"\x00" * (protocol.MAX_MESSAGE_BYTES + 1)]


def test_fuzz_control_and_actor_sockets(sup):
    # 10,000 malformed requests to the control socket and 2,000 to the actor socket.
    sup.write("boot", "depends-on = web\n")
    sup.write("web", "type = process\n" + LONG)
    sup.start()
    before = sup.wait_state("boot", "started") and sup.status("web")
    ctx = zmq.Context()
    try:
        control = ctx.socket(zmq.DEALER)
        control.setsockopt(zmq.LINGER, 0)
        control.setsockopt(zmq.RCVHWM, 0)
        control.connect("ipc://" + sup.socket)
        actors = ctx.socket(zmq.DEALER)
        actors.setsockopt(zmq.LINGER, 0)
        actors.setsockopt(zmq.IDENTITY, b"not-a-service")
        actors.connect("ipc://" + sup.socket + ".actors")
        rng = random.Random(20261125)
        sent = 0
        for message in malformed_messages(rng, 10_000):
            control.send_multipart(message)
            sent += 1
        # The actor socket lets in only watchers with their credentials: this peer's
        # handshake fails, so its messages never leave it (a send that cannot go is dropped).
        for message in malformed_messages(rng, 2_000):
            try:
                actors.send_multipart(message, zmq.NOBLOCK)
            except zmq.Again:
                pass
        # Every well-formed-enough request got an error reply, never a success.
        replies = 0
        while control.poll(2000):
            reply = protocol.decode_response(control.recv_multipart()[-1])
            assert reply["ok"] is False and reply["error"]["code"] == "bad-request"
            replies += 1
        assert replies >= 9_000, f"only {replies} replies to {sent} bad requests"
    finally:
        ctx.destroy(linger=0)
    # It still answers, and the service was not disturbed.
    after = sup.status("web")
    assert (after["state"], after["pid"], after["restarts"]) == \
        (before["state"], before["pid"], before["restarts"])
    assert sup.ctl("list").code == 0
    assert "Traceback" not in sup.stderr
