"""CURVE keys: `zeroctl keygen DIR`, and what `--curve-dir DIR` means to a server and a client.

A key directory (shared/DESIGN.md, "Worker pools and many hosts"):

    DIR/NAME.key_secret   this party's key pair, in pyzmq's certificate format (mode 0600)
    DIR/NAME.pub          its public half, the file to hand out (mode 0644)
    DIR/admin/*.pub       as a server: the clients that may send every command
    DIR/read-only/*.pub   as a server: the clients that may only look
                          (`protocol.READ_ONLY_REQUESTS`)
    DIR/broker/*.pub      as a client: the server it trusts (exactly one key)

A party's own pair is the one `*.key_secret` file directly in DIR; none, or more than one, is
an error saying so. `keygen` writes it with pyzmq's `zmq.auth.create_certificates` (under a
umask of 077, so the secret is never readable by others, not even for a moment) and names
the public half `.pub`. Public keys are read with `zmq.auth.load_certificate`, so a `.key`
file pyzmq wrote elsewhere works too once renamed.

As a server, `Roles` is the authority of the ZAP domain `control` (broker/zap.py): a client's
CURVE public key (the one credentials frame of RFC 27) found in admin/ is let in as User-Id
`admin`, in read-only/ as `read-only`; any other key is refused in the handshake, so it gets
nothing at all. The folders are read again when what they hold changes (names, sizes, mtimes),
so a key added or removed counts from the next connection on, without a restart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from broker import protocol
from broker.zap import Verdict

CONTROL_DOMAIN = b"control"
SECRET_SUFFIX = ".key_secret"
PUBLIC_SUFFIX = ".pub"
ROLE_FOLDERS = {"admin": protocol.ROLE_ADMIN, "read-only": protocol.ROLE_READ_ONLY}
SERVER_FOLDER = "broker"
Z85_KEY_LENGTH = 40  # a 32-byte key in Z85 (ZeroMQ RFC 32)


class CurveError(ValueError):
    """A key directory that can't be used, with the reason in one sentence."""


@dataclass(frozen=True)
class KeyPair:
    public: bytes  # Z85
    secret: bytes  # Z85


# ---------------------------------------------------------------------------------------------
# keygen
# ---------------------------------------------------------------------------------------------


def keygen(directory: str, name: str) -> tuple[Path, Path]:
    """Write a new key pair `NAME.key_secret` / `NAME.pub` into `directory` (made, mode 0700,
    if missing); refuse to replace a pair that is there. Returns (secret, public)."""
    import zmq.auth
    if not name or "/" in name or name.startswith("."):
        raise CurveError(f"{name!r} is not a usable key name: give a plain file name")
    folder = Path(directory)
    secret, public = folder / (name + SECRET_SUFFIX), folder / (name + PUBLIC_SUFFIX)
    for path in (secret, public):
        if path.exists():
            raise CurveError(f"{path} exists already; remove it first or choose another "
                             f"directory or --name")
    old_umask = os.umask(0o077)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        written_public, written_secret = zmq.auth.create_certificates(folder, name)
        os.replace(written_public, public)
        os.chmod(public, 0o644)  # the half to hand out
        os.chmod(written_secret, 0o600)
    except OSError as exc:
        raise CurveError(f"cannot write a key pair into {directory}: "
                         f"{exc.strerror or exc}") from None
    finally:
        os.umask(old_umask)
    return Path(written_secret), public


# ---------------------------------------------------------------------------------------------
# Reading keys
# ---------------------------------------------------------------------------------------------


def load_pair(directory: str) -> KeyPair:
    """The one key pair directly in `directory`."""
    files = _files(directory, "key directory")
    secrets = sorted(p for p in files if p.name.endswith(SECRET_SUFFIX))
    if not secrets:
        raise CurveError(f"no key pair in {directory} (no *{SECRET_SUFFIX} file); "
                         f"make one with: zeroctl keygen {directory}")
    if len(secrets) > 1:
        raise CurveError(f"{directory} holds {len(secrets)} key pairs "
                         f"({', '.join(p.name for p in secrets)}); keep one")
    public, secret = _certificate(secrets[0])
    if secret is None:
        raise CurveError(f"{secrets[0]} holds no secret key")
    return KeyPair(public, _z85(secret, secrets[0]))


def public_keys(folder: str) -> dict[bytes, str]:
    """Every `*.pub` key in `folder`, raw 32 bytes -> file name; a missing folder is empty."""
    if not os.path.isdir(folder):
        return {}
    from zmq.utils import z85
    keys = {}
    for path in sorted(_files(folder, "key folder")):
        if path.name.endswith(PUBLIC_SUFFIX):
            keys[z85.decode(_certificate(path)[0])] = path.name
    return keys


def client_keys(directory: str) -> dict[str, bytes]:
    """What a client needs (broker/client.py's `curve`): its pair and the server's key."""
    pair = load_pair(directory)
    folder = os.path.join(directory, SERVER_FOLDER)
    servers = [p for p in _files(folder, "server key folder") if p.name.endswith(PUBLIC_SUFFIX)]
    if len(servers) != 1:
        found = "no *.pub file" if not servers else f"{len(servers)} keys"
        raise CurveError(f"{folder} must hold the server's public key, exactly one *.pub "
                         f"file ({found} there)")
    return {"public": pair.public, "secret": pair.secret,
            "server": _certificate(servers[0])[0]}


def _files(folder: str, what: str) -> list[Path]:
    try:
        return [p for p in Path(folder).iterdir() if p.is_file()]
    except OSError as exc:
        raise CurveError(f"cannot read {what} {folder}: {exc.strerror or exc}") from None


def _certificate(path: Path) -> tuple[bytes, bytes | None]:
    import zmq.auth
    try:
        public, secret = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as exc:
        raise CurveError(f"cannot read key file {path}: {exc}") from None
    return _z85(public, path), secret


def _z85(key: bytes, path: Path) -> bytes:
    from zmq.utils import z85
    try:
        if len(key) == Z85_KEY_LENGTH and len(z85.decode(key)) == 32:
            return key
    except (ValueError, KeyError, IndexError):
        pass
    raise CurveError(f"{path} does not hold a CURVE key (40 Z85 characters)")


# ---------------------------------------------------------------------------------------------
# The server side
# ---------------------------------------------------------------------------------------------


class Roles:
    """The `control` domain's authority: a client key's role, from the folders of DIR."""

    def __init__(self, directory: str):
        self.directory = os.path.abspath(directory)
        self.pair = load_pair(self.directory)
        self._seen: tuple | None = None  # the folders' fingerprints when last read
        self._roles: dict[bytes, str] = {}
        self._reload()

    def configure(self, sock) -> None:
        """Make `sock` (not bound yet) a CURVE server whose clients this authority judges."""
        import zmq
        sock.setsockopt(zmq.CURVE_SERVER, 1)
        sock.setsockopt(zmq.CURVE_SECRETKEY, self.pair.secret)
        sock.setsockopt(zmq.ZAP_DOMAIN, CONTROL_DOMAIN)
        # A peer that connects and never completes its handshake is dropped after this long.
        sock.setsockopt(zmq.HANDSHAKE_IVL, 5000)

    @property
    def known(self) -> int:
        """How many client keys are accepted (none: every client is refused)."""
        self._reload()
        return len(self._roles)

    def role_of(self, key: bytes) -> str | None:
        """The role of a client key (raw 32 bytes or Z85), or None for a stranger."""
        if len(key) == Z85_KEY_LENGTH:
            from zmq.utils import z85
            try:
                key = z85.decode(key)
            except (ValueError, KeyError, IndexError):
                return None
        self._reload()
        return self._roles.get(key)

    def verdict(self, address: bytes, mechanism: bytes, credentials: list[bytes]) -> Verdict:
        where = address.decode(errors="replace") or "an unknown address"
        if mechanism != b"CURVE" or len(credentials) != 1:
            return Verdict.refuse(f"refused a control connection from {where} without a "
                                  f"CURVE key (mechanism {mechanism!r})")
        try:
            role = self.role_of(credentials[0])
        except CurveError as exc:  # a bad file put in a folder since: refuse, say which
            return Verdict.refuse(f"refused a control connection from {where}: {exc}")
        if role is None:
            return Verdict.refuse(f"refused a control connection from {where}: its key is in "
                                  f"neither {self.directory}/admin nor "
                                  f"{self.directory}/read-only")
        return Verdict(role.encode())

    def _reload(self) -> None:
        folders = [os.path.join(self.directory, name) for name in ROLE_FOLDERS]
        seen = tuple(_fingerprint(folder) for folder in folders)
        if seen == self._seen:
            return
        roles: dict[bytes, str] = {}
        # read-only first, so that a key in both folders is admin.
        for folder, role in reversed(list(zip(folders, ROLE_FOLDERS.values()))):
            roles.update(dict.fromkeys(public_keys(folder), role))
        self._roles, self._seen = roles, seen


def _fingerprint(folder: str) -> tuple:
    """What a folder holds, cheaply: each entry's name, size and mtime. (The folder's own mtime
    is not enough: its clock ticks too coarsely to tell two changes in a row apart.)"""
    try:
        with os.scandir(folder) as entries:
            return tuple(sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns)
                                for e in entries))
    except OSError:
        return ()

