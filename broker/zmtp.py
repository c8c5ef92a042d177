"""ZMTP 3.0 — the ZeroMQ wire protocol — spoken directly over a Unix socket, as a DEALER peer.

Two processes use it instead of pyzmq. `zeroctl`, because importing pyzmq costs about 17 ms,
half of what `zeroctl status` may take in all. And every watcher, because a ZeroMQ context
brings two threads, a monitor socket pair and their buffers into each of hundreds of processes
that exchange a few small messages: about 0.7 MB and a millisecond of start-up per watcher.
The root keeps its pyzmq ROUTER sockets and sees ordinary DEALER peers.

Only what a DEALER talking to a ROUTER over `ipc://` needs is here (RFC 23): the greeting, the
READY handshake (with an Identity, which becomes the peer's routing id), and single- or
multi-frame messages. The mechanism is NULL (zeroctl), or PLAIN (RFC 24: HELLO with a user
name and password, WELCOME, INITIATE, READY) for a watcher, which proves with its secret that
the root forked it. Commands the peer sends after READY (PING, for one) are skipped; ERROR, or
anything malformed, raises `ZmtpError`.

`Decoder` turns bytes into messages for both: `ZmtpDealer` is the blocking client with a
deadline, `ZmtpStream` the non-blocking connection a poll loop drives.
"""

from __future__ import annotations

import socket
import struct
import time

SIGNATURE = b"\xff" + b"\x00" * 8 + b"\x7f"
NULL, PLAIN = b"NULL", b"PLAIN"


def greeting(mechanism: bytes = NULL) -> bytes:
    """Our greeting: ZMTP 3.0, the mechanism, as a client."""
    return SIGNATURE + bytes([3, 0]) + mechanism.ljust(20, b"\x00") + b"\x00" + b"\x00" * 31


GREETING = greeting()
GREETING_SIZE = len(GREETING)
FLAG_MORE, FLAG_LONG, FLAG_COMMAND = 0x01, 0x02, 0x04
MAX_FRAME = 64 << 20  # far above any message of ours; a larger size means a broken stream


class ZmtpError(OSError):
    """The peer is not reachable, went away, or does not speak ZMTP 3 as expected. `errno`
    is the system's, where a system call failed (ECONNREFUSED: a socket nobody listens on)."""


class ZmtpTimeout(ZmtpError):
    """Nothing came before the deadline; the connection itself is fine."""


Credentials = tuple[bytes, bytes]  # PLAIN's user name and password


def _properties(socket_type: bytes, identity: bytes) -> dict[bytes, bytes]:
    properties = {b"Socket-Type": socket_type}
    if identity:
        properties[b"Identity"] = identity
    return properties


def handshake(socket_type: bytes, identity: bytes = b"",
              credentials: Credentials | None = None) -> bytes:
    """What a peer sends first: the greeting and its READY command (NULL), or the greeting and
    its HELLO (PLAIN; INITIATE follows the server's WELCOME, see `initiate`)."""
    if credentials is None:
        return GREETING + _command(b"READY", _properties(socket_type, identity))
    user, password = credentials
    if len(user) > 255 or len(password) > 255:
        raise ValueError("a PLAIN user name or password is at most 255 bytes")
    body = bytes([5]) + b"HELLO" + bytes([len(user)]) + user + bytes([len(password)]) + password
    return greeting(PLAIN) + _frame(body, FLAG_COMMAND)


def initiate(socket_type: bytes, identity: bytes = b"") -> bytes:
    """PLAIN: the client's INITIATE, sent once the server's WELCOME has arrived."""
    return _command(b"INITIATE", _properties(socket_type, identity))


def encode(*frames: bytes) -> bytes:
    """One message of one or more frames, on the wire."""
    last = len(frames) - 1
    return b"".join(_frame(f, FLAG_MORE if i < last else 0) for i, f in enumerate(frames))


def _command(name: bytes, properties: dict[bytes, bytes]) -> bytes:
    body = bytes([len(name)]) + name
    for key, value in properties.items():
        body += bytes([len(key)]) + key + struct.pack(">I", len(value)) + value
    return _frame(body, FLAG_COMMAND)


def _frame(body: bytes, flags: int = 0) -> bytes:
    if len(body) < 256:
        return bytes([flags, len(body)]) + body
    return bytes([flags | FLAG_LONG]) + struct.pack(">Q", len(body)) + body


class Decoder:
    """Incremental decoding of the peer's side of a connection: the greeting, its READY, then
    messages. `feed` takes whatever bytes arrived and returns the messages they completed."""

    def __init__(self, mechanism: bytes = NULL) -> None:
        self._buffer = bytearray()
        self._greeted = False
        self.mechanism = mechanism
        self.welcomed = False  # PLAIN: the server accepted our HELLO (send INITIATE now)
        self.ready = False   # the peer's READY arrived: the handshake is complete
        self._frames: list[bytes] = []

    def feed(self, data: bytes) -> list[list[bytes]]:
        self._buffer += data
        messages: list[list[bytes]] = []
        if not self._greeted:
            if len(self._buffer) < GREETING_SIZE:
                return messages
            self._check_greeting(bytes(self._buffer[:GREETING_SIZE]))
            del self._buffer[:GREETING_SIZE]
            self._greeted = True
        while True:
            frame = self._next_frame()
            if frame is None:
                return messages
            flags, body = frame
            if flags & FLAG_COMMAND:
                self._on_command(body)
                continue
            if not self.ready:
                raise ZmtpError("the peer sent a message before completing the handshake")
            self._frames.append(body)
            if not flags & FLAG_MORE:
                messages.append(self._frames)
                self._frames = []

    def _check_greeting(self, greeting: bytes) -> None:
        if greeting[:1] != b"\xff" or greeting[9:10] != b"\x7f" or greeting[10] < 3:
            raise ZmtpError("the peer does not speak ZMTP 3")
        if greeting[12:32].rstrip(b"\x00") != self.mechanism:
            raise ZmtpError("the peer asks for a security mechanism this client lacks")

    def _next_frame(self) -> tuple[int, bytes] | None:
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        flags = buffer[0]
        if flags & FLAG_LONG:
            if len(buffer) < 9:
                return None
            size, start = struct.unpack_from(">Q", buffer, 1)[0], 9
            if size > MAX_FRAME:
                raise ZmtpError(f"the peer announced a frame of {size} bytes")
        else:
            size, start = buffer[1], 2
        if len(buffer) < start + size:
            return None
        body = bytes(buffer[start:start + size])
        del buffer[:start + size]
        return flags, body

    def _on_command(self, body: bytes) -> None:
        name = body[1:1 + body[0]] if body else b""
        if name == b"READY":
            if self.mechanism == PLAIN and not self.welcomed:
                raise ZmtpError("the peer skipped the PLAIN handshake")
            self.ready = True
        elif name == b"WELCOME" and self.mechanism == PLAIN:
            self.welcomed = True
        elif name == b"ERROR":
            reason = body[2 + body[0]:].decode(errors="replace")
            raise ZmtpError(f"the peer refused the connection: {reason}")


class ZmtpDealer:
    """A connected, blocking DEALER. `send` one message, `recv` one (a list of frames) with a
    deadline. Used by `zeroctl`."""

    def __init__(self, path: str, timeout: float):
        self._deadline: float | None = time.monotonic() + timeout
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._decoder = Decoder()
        self._messages: list[list[bytes]] = []
        try:
            self._sock.settimeout(timeout)
            self._sock.connect(path)
            self._sock.sendall(handshake(b"DEALER"))
            while not self._decoder.ready:
                self._read()
        except OSError as exc:
            self._sock.close()
            if isinstance(exc, ZmtpError):
                raise
            error = ZmtpError(str(exc) or type(exc).__name__)
            error.errno = exc.errno
            raise error from None

    def send(self, *frames: bytes) -> None:
        try:
            self._sock.sendall(encode(*frames))
        except OSError as exc:
            raise ZmtpError(str(exc)) from None

    def recv(self, timeout: float | None = None) -> list[bytes]:
        """The next message; `timeout` None waits for ever."""
        self._deadline = None if timeout is None else time.monotonic() + timeout
        while not self._messages:
            self._read()
        return self._messages.pop(0)

    def close(self) -> None:
        self._sock.close()

    def fileno(self) -> int:
        return self._sock.fileno()

    def _read(self) -> None:
        if self._deadline is None:
            self._sock.settimeout(None)
        else:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise ZmtpTimeout("timed out waiting for the supervisor")
            self._sock.settimeout(left)
        try:
            chunk = self._sock.recv(65536)
        except socket.timeout:
            raise ZmtpTimeout("timed out waiting for the supervisor") from None
        except OSError as exc:
            raise ZmtpError(str(exc)) from None
        if not chunk:
            raise ZmtpError("the supervisor closed the connection")
        self._messages.extend(self._decoder.feed(chunk))


class ZmtpStream:
    """A non-blocking DEALER connection for a poll loop (a watcher's link to the root).

    Messages can be sent at once: they wait, in order, until the peer's READY has arrived
    (libzmq 4.3 drops a connection whose first write carries data behind the handshake). The
    owner polls `fileno()` for reading, and for writing while `wants_write`; `on_readable` returns the
    messages that arrived, `on_writable` sends what the socket takes. Both raise `ZmtpError`
    when the connection is lost; nothing is retried here.
    """

    def __init__(self, path: str, identity: bytes, connect_timeout: float = 5.0,
                 credentials: Credentials | None = None):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # A blocking connect: on a Unix socket it waits only while the listener's backlog
            # is full (a non-blocking one, which is what `settimeout` makes, would fail at
            # once with EAGAIN: hundreds of watchers reconnecting to a new root at once would
            # then back off for seconds). SO_SNDTIMEO bounds that wait.
            seconds = int(connect_timeout)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack(
                "ll", seconds, int((connect_timeout - seconds) * 1e6)))
            self._sock.connect(path)
            self._sock.setblocking(False)
        except OSError as exc:
            self._sock.close()
            raise ZmtpError(str(exc) or type(exc).__name__) from None
        self._decoder = Decoder(PLAIN if credentials else NULL)
        self._identity = identity
        self._out = bytearray(handshake(b"DEALER", identity, credentials))
        self._held = bytearray()  # messages sent before the handshake completed
        self._lost: str | None = None  # why the connection ended, once it has
        self.on_writable()

    @property
    def wants_write(self) -> bool:
        return bool(self._out)

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, *frames: bytes) -> None:
        if not self._decoder.ready:
            self._held += encode(*frames)
            return
        self._out += encode(*frames)
        self.on_writable()

    def on_writable(self) -> None:
        while self._out:
            try:
                sent = self._sock.send(self._out)
            except BlockingIOError:
                return
            except OSError as exc:
                raise ZmtpError(str(exc)) from None
            del self._out[:sent]

    def on_readable(self) -> list[list[bytes]]:
        """The messages that arrived. Those that came just before the end of the connection
        are returned first; the next call raises."""
        if self._lost is not None:
            raise ZmtpError(self._lost)
        messages: list[list[bytes]] = []
        while True:
            try:
                chunk = self._sock.recv(65536)
            except BlockingIOError:
                return messages
            except OSError as exc:
                self._lost = str(exc)
            else:
                if chunk:
                    was_ready, was_welcomed = self._decoder.ready, self._decoder.welcomed
                    messages.extend(self._decoder.feed(chunk))
                    if self._decoder.welcomed and not was_welcomed:
                        self._out += initiate(b"DEALER", self._identity)
                    if self._decoder.ready and not was_ready:
                        self._out += self._held
                        self._held.clear()  # the owner's poll sees wants_write
                    continue
                self._lost = "the peer closed the connection"
            if messages:
                return messages
            raise ZmtpError(self._lost)

    def close(self, linger: float = 0.0) -> None:
        """Close, first giving what is still queued up to `linger` seconds to go out."""
        if self._out and linger > 0:
            try:
                self._sock.settimeout(linger)
                self._sock.sendall(self._out)
            except OSError:
                pass
        self._sock.close()
