"""A minimal ZMTP 3.0 DEALER client over a Unix socket, for a fast `zeroctl`.

Importing pyzmq costs about 17 ms, half of what `zeroctl status` may take in all. For the common
case — a local supervisor on an `ipc://` endpoint with no encryption — this module speaks the
ZeroMQ wire protocol (ZMTP 3.0, RFC 23, NULL security mechanism) itself, with the standard
library's socket module. The supervisor sees an ordinary DEALER peer.

Only what a DEALER talking to a ROUTER needs is here: the greeting, the READY handshake, and
single- or multi-frame messages. Anything unexpected raises `ZmtpError`.
"""

from __future__ import annotations

import socket
import struct
import time

SIGNATURE = b"\xff" + b"\x00" * 8 + b"\x7f"
GREETING = SIGNATURE + bytes([3, 0]) + b"NULL".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31
FLAG_MORE, FLAG_LONG, FLAG_COMMAND = 0x01, 0x02, 0x04


class ZmtpError(OSError):
    """The peer is not reachable, or does not speak ZMTP 3 as expected."""


def _command(name: bytes, properties: dict[bytes, bytes]) -> bytes:
    body = bytes([len(name)]) + name
    for key, value in properties.items():
        body += bytes([len(key)]) + key + struct.pack(">I", len(value)) + value
    return _frame(body, FLAG_COMMAND)


def _frame(body: bytes, flags: int = 0) -> bytes:
    if len(body) < 256:
        return bytes([flags]) + bytes([len(body)]) + body
    return bytes([flags | FLAG_LONG]) + struct.pack(">Q", len(body)) + body


class ZmtpDealer:
    """A connected DEALER. `send` one message, `recv` one (a list of frames) with a deadline."""

    def __init__(self, path: str, timeout: float):
        self._deadline = time.monotonic() + timeout
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._buffer = b""
        try:
            self._sock.settimeout(timeout)
            self._sock.connect(path)
            self._sock.sendall(GREETING + _command(b"READY", {b"Socket-Type": b"DEALER"}))
            greeting = self._read_exact(64)
            if greeting[:1] != b"\xff" or greeting[9:10] != b"\x7f" or greeting[10] < 3:
                raise ZmtpError("the peer does not speak ZMTP 3")
            if greeting[12:16] != b"NULL":
                raise ZmtpError("the peer asks for a security mechanism this client lacks")
            flags, body = self._read_frame()
            if not flags & FLAG_COMMAND or not body[1:6] == b"READY":
                raise ZmtpError("the peer did not complete the handshake")
        except (OSError, socket.timeout) as exc:
            self._sock.close()
            if isinstance(exc, ZmtpError):
                raise
            raise ZmtpError(str(exc) or type(exc).__name__) from None

    def send(self, *frames: bytes) -> None:
        data = b"".join(_frame(f, FLAG_MORE if i < len(frames) - 1 else 0)
                        for i, f in enumerate(frames))
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise ZmtpError(str(exc)) from None

    def recv(self, timeout: float | None = None) -> list[bytes]:
        """The next message; `timeout` None waits for ever. Commands (PING) are skipped."""
        self._deadline = None if timeout is None else time.monotonic() + timeout
        frames: list[bytes] = []
        while True:
            flags, body = self._read_frame()
            if flags & FLAG_COMMAND:
                continue
            frames.append(body)
            if not flags & FLAG_MORE:
                return frames

    def close(self) -> None:
        self._sock.close()

    def fileno(self) -> int:
        return self._sock.fileno()

    def _read_frame(self) -> tuple[int, bytes]:
        flags = self._read_exact(1)[0]
        if flags & FLAG_LONG:
            size = struct.unpack(">Q", self._read_exact(8))[0]
        else:
            size = self._read_exact(1)[0]
        return flags, self._read_exact(size)

    def _read_exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if self._deadline is None:
                self._sock.settimeout(None)
            else:
                left = self._deadline - time.monotonic()
                if left <= 0:
                    raise ZmtpError("timed out waiting for the supervisor")
                self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(max(65536, size - len(self._buffer)))
            except socket.timeout:
                raise ZmtpError("timed out waiting for the supervisor") from None
            except OSError as exc:
                raise ZmtpError(str(exc)) from None
            if not chunk:
                raise ZmtpError("the supervisor closed the connection")
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data
