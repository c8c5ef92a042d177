"""ZMTP 3.0 spoken without pyzmq (broker/zmtp.py): the incremental decoder on its own, and both
clients against a real libzmq ROUTER, which must see them as ordinary DEALER peers."""

from __future__ import annotations

import select
import struct
import tempfile
import time
from pathlib import Path

import pytest
import zmq

from broker import zmtp
from broker.zmtp import Decoder, ZmtpDealer, ZmtpError, ZmtpStream

READY = zmtp._command(b"READY", {b"Socket-Type": b"ROUTER"})


def _handshaken() -> Decoder:
    decoder = Decoder()
    assert decoder.feed(zmtp.GREETING + READY) == []
    assert decoder.ready
    return decoder


# --- the decoder ------------------------------------------------------------------------------

def test_decoder_takes_the_stream_byte_by_byte():
    # Greeting, READY and a two-frame message arriving one byte at a time decode the same.
    decoder = Decoder()
    data = zmtp.GREETING + READY + zmtp.encode(b"a", b"bc")
    out = []
    for i in range(len(data)):
        out += decoder.feed(data[i:i + 1])
        assert decoder.ready == (i >= len(zmtp.GREETING) + len(READY) - 1)
    assert out == [[b"a", b"bc"]]


def test_decoder_long_frames_and_several_messages_in_one_chunk():
    # A frame over 255 bytes uses the 8-byte size; two messages in one read give two messages.
    decoder = _handshaken()
    big = bytes(range(256)) * 5
    assert decoder.feed(zmtp.encode(big) + zmtp.encode(b"x")) == [[big], [b"x"]]


def test_decoder_skips_commands_after_the_handshake():
    # A PING from the peer is not a message.
    decoder = _handshaken()
    ping = zmtp._command(b"PING", {})
    assert decoder.feed(ping + zmtp.encode(b"m")) == [[b"m"]]


def test_decoder_refuses_a_peer_that_is_not_zmtp3():
    with pytest.raises(ZmtpError, match="does not speak ZMTP 3"):
        Decoder().feed(b"GET / HTTP/1.1\r\n" + b" " * 60)


def test_decoder_refuses_other_security_mechanisms():
    greeting = zmtp.SIGNATURE + bytes([3, 0]) + b"CURVE".ljust(20, b"\0") + b"\0" * 32
    with pytest.raises(ZmtpError, match="security mechanism"):
        Decoder().feed(greeting)


def test_decoder_refuses_a_message_before_ready():
    with pytest.raises(ZmtpError, match="before completing the handshake"):
        Decoder().feed(zmtp.GREETING + zmtp.encode(b"early"))


def test_decoder_reports_an_error_command():
    error = zmtp._frame(bytes([5]) + b"ERROR" + bytes([6]) + b"denied", zmtp.FLAG_COMMAND)
    with pytest.raises(ZmtpError, match="refused the connection: denied"):
        Decoder().feed(zmtp.GREETING + error)


def test_decoder_refuses_an_absurd_frame_size():
    decoder = _handshaken()
    with pytest.raises(ZmtpError, match="announced a frame of"):
        decoder.feed(bytes([zmtp.FLAG_LONG]) + struct.pack(">Q", 1 << 40))


# --- against libzmq -----------------------------------------------------------------------------

@pytest.fixture
def router():
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    folder = Path(tempfile.mkdtemp(prefix="zt-", dir="/tmp"))
    path = str(folder / "router")
    sock.bind("ipc://" + path)
    try:
        yield sock, path
    finally:
        sock.close()
        ctx.term()
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()


def _pump(stream: ZmtpStream, until, timeout: float = 10.0) -> list[list[bytes]]:
    """Drive `stream` like a watcher's loop until `until(received)` holds, with a deadline;
    the messages received."""
    poller = select.poll()
    received: list[list[bytes]] = []
    deadline = time.monotonic() + timeout
    while not until(received):
        assert time.monotonic() < deadline, "the exchange did not complete"
        poller.register(stream.fileno(),
                        select.POLLIN | (select.POLLOUT if stream.wants_write else 0))
        for _, ready in poller.poll(100):
            if ready & select.POLLOUT:
                stream.on_writable()
            if ready & (select.POLLIN | select.POLLHUP):
                received += stream.on_readable()
    return received


def test_stream_is_a_dealer_with_its_identity(router):
    # Messages sent before the handshake completes arrive, in order, under the identity; the
    # ROUTER's answer comes back.
    sock, path = router
    stream = ZmtpStream(path, b"web")
    stream.send(b"one")
    stream.send(b"two", b"frames")
    got: list[list[bytes]] = []

    def router_has_both(_):
        while sock.poll(0):
            got.append(sock.recv_multipart())
        return len(got) == 2

    _pump(stream, router_has_both)
    assert got == [[b"web", b"one"], [b"web", b"two", b"frames"]]
    sock.send_multipart([b"web", b"order"])
    assert _pump(stream, lambda r: r) == [[b"order"]]
    stream.close()


def test_stream_moves_a_large_message_through_partial_writes(router):
    # 4 MiB each way: more than a socket buffer, so writes are partial and resumed on POLLOUT.
    sock, path = router
    stream = ZmtpStream(path, b"big")
    payload = bytes(range(256)) * (4 << 12)
    stream.send(payload)
    got: list[list[bytes]] = []

    def router_has_it(_):
        if sock.poll(0):
            got.append(sock.recv_multipart())
        return bool(got)

    _pump(stream, router_has_it)
    assert got == [[b"big", payload]]
    sock.send_multipart([b"big", payload])
    assert _pump(stream, lambda r: r) == [[payload]]
    stream.close()


def test_stream_reports_the_peer_going_away(router):
    # Messages that arrived before the peer closed are returned; then ZmtpError.
    sock, path = router
    stream = ZmtpStream(path, b"w")
    stream.send(b"hello")
    _pump(stream, lambda r: sock.poll(0))
    sock.recv_multipart()
    sock.send_multipart([b"w", b"last"])
    received = _pump(stream, lambda r: r)
    sock.close()
    with pytest.raises(ZmtpError):
        _pump(stream, lambda r: False)
    assert received == [[b"last"]]
    stream.close()


def test_stream_connect_fails_cleanly_without_a_listener(tmp_path):
    with pytest.raises(ZmtpError):
        ZmtpStream(str(tmp_path / "nobody"), b"w")


def test_dealer_round_trip(router):
    # The blocking client zeroctl uses: a request out, the reply back, with a deadline.
    sock, path = router
    dealer = ZmtpDealer(path, timeout=10)
    dealer.send(b"", b"ask")
    assert sock.poll(10_000)
    identity, *frames = sock.recv_multipart()
    assert frames == [b"", b"ask"]
    sock.send_multipart([identity, b"", b"answer"])
    assert dealer.recv(timeout=10) == [b"", b"answer"]
    with pytest.raises(ZmtpError, match="timed out"):
        dealer.recv(timeout=0.05)
    dealer.close()
