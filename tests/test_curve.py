"""CURVE keys without a supervisor: `zeroctl keygen` (files, modes, refusals), the key
directory's rules (broker/curve.py: one pair, roles from admin/ and read-only/, the server key
from broker/), the ZAP answers by domain (broker/zap.py) and the read-only rule
(`protocol.forbidden`).
"""

from __future__ import annotations

import os
import stat
import subprocess

import pytest
import zmq
import zmq.auth
from zmq.utils import z85

from broker import curve, protocol
from broker.zap import Verdict, ZapHandler
from tests.supervisor import ZEROCTL


def _keygen(directory, name: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ZEROCTL, "keygen", str(directory), "--name", name, *extra],
                          capture_output=True, text=True, timeout=30)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_keygen_writes_a_secret_pair_0600_and_a_public_half_pub(tmp_path):
    # keygen into a new directory: NAME.key_secret 0600 holding both halves, NAME.pub 0644.
    keys = tmp_path / "keys"
    result = _keygen(keys, "web1")
    assert result.returncode == 0, result.stderr
    secret, public = keys / "web1.key_secret", keys / "web1.pub"
    assert sorted(p.name for p in keys.iterdir()) == ["web1.key_secret", "web1.pub"]
    assert _mode(secret) == 0o600
    assert _mode(public) == 0o644
    assert _mode(keys) == 0o700
    pub, sec = zmq.auth.load_certificate(secret)
    assert zmq.auth.load_certificate(public) == (pub, None)
    assert zmq.curve_public(sec) == pub  # the pair belongs together
    assert curve.load_pair(str(keys)) == curve.KeyPair(pub, sec)
    assert str(secret) in result.stdout and str(public) in result.stdout


def test_keygen_twice_is_refused_and_keeps_the_first_pair(tmp_path):
    # A second keygen with the same name must not replace a secret in use.
    assert _keygen(tmp_path, "k").returncode == 0
    before = (tmp_path / "k.key_secret").read_bytes()
    result = _keygen(tmp_path, "k")
    assert result.returncode == 1
    assert "exists already" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "k.key_secret").read_bytes() == before


@pytest.mark.parametrize("where, expected", [
    ("file", "cannot write a key pair"),
    ("name", "not a usable key name"),
])
def test_keygen_errors_are_one_sentence(tmp_path, where, expected):
    # A directory that is a file, and a name with a slash: exit 1, one line, no traceback.
    (tmp_path / "afile").write_text("")
    target, name = (tmp_path / "afile" / "keys", "k") if where == "file" else (tmp_path, "a/b")
    result = _keygen(target, name)
    assert result.returncode == 1
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _pair(folder, name: str) -> bytes:
    """A key pair made with keygen; returns its public key (Z85)."""
    assert _keygen(folder, name).returncode == 0
    return curve.load_pair(str(folder)).public


def test_load_pair_wants_exactly_one_pair(tmp_path):
    # No pair, and two pairs, in the directory: both refused, saying what to do.
    with pytest.raises(curve.CurveError, match="zeroctl keygen"):
        curve.load_pair(str(tmp_path))
    _keygen(tmp_path, "a")
    _keygen(tmp_path, "b")
    with pytest.raises(curve.CurveError, match="2 key pairs"):
        curve.load_pair(str(tmp_path))


def test_roles_come_from_the_folders_and_follow_their_changes(tmp_path):
    # admin/ and read-only/ keys get their role; a stranger none; a key added later counts.
    server = tmp_path / "server"
    _pair(server, "server")
    admin = _pair(tmp_path / "a", "admin")
    reader = _pair(tmp_path / "r", "reader")
    late = _pair(tmp_path / "l", "late")
    (server / "admin").mkdir()
    (server / "read-only").mkdir()
    os.link(tmp_path / "a" / "admin.pub", server / "admin" / "admin.pub")
    os.link(tmp_path / "r" / "reader.pub", server / "read-only" / "reader.pub")
    roles = curve.Roles(str(server))
    assert roles.role_of(admin) == protocol.ROLE_ADMIN
    assert roles.role_of(z85.decode(reader)) == protocol.ROLE_READ_ONLY  # raw, as ZAP gives it
    assert roles.role_of(late) is None
    refused = roles.verdict(b"127.0.0.1", b"CURVE", [z85.decode(late)])
    assert refused.user is None and "neither" in refused.why
    os.link(tmp_path / "l" / "late.pub", server / "read-only" / "late.pub")
    assert roles.verdict(b"127.0.0.1", b"CURVE", [z85.decode(late)]).user == b"read-only"
    assert roles.verdict(b"127.0.0.1", b"NULL", []).user is None


def test_client_keys_want_one_server_key_in_broker(tmp_path):
    # A client directory: its pair, and exactly one *.pub in broker/.
    _pair(tmp_path, "me")
    with pytest.raises(curve.CurveError, match="broker"):
        curve.client_keys(str(tmp_path))
    server = _pair(tmp_path / "s", "server")
    (tmp_path / "broker").mkdir()
    os.link(tmp_path / "s" / "server.pub", tmp_path / "broker" / "server.pub")
    keys = curve.client_keys(str(tmp_path))
    assert keys["server"] == server
    assert keys["public"] == curve.load_pair(str(tmp_path)).public


def test_a_public_file_without_a_key_is_refused(tmp_path):
    # A .pub holding no (or a malformed) key names the file.
    (tmp_path / "admin").mkdir()
    (tmp_path / "admin" / "x.pub").write_text('curve\n    public-key = "short"\n')
    with pytest.raises(curve.CurveError, match="x.pub"):
        curve.public_keys(str(tmp_path / "admin"))


def test_zap_answers_by_domain_and_refuses_unserved_domains():
    # One handler per context: each domain's authority answers; an unserved one is refused.
    ctx = zmq.Context()
    refusals = []
    zap = ZapHandler(ctx, refused=lambda domain, why: refusals.append(domain))
    try:
        zap.serve(b"ok", lambda address, mechanism, credentials: Verdict(b"someone"))
        reply = zap.answer([b"1.0", b"7", b"ok", b"addr", b"", b"NULL"])
        assert reply[1:5] == [b"7", b"200", b"OK", b"someone"]
        reply = zap.answer([b"1.0", b"8", b"other", b"addr", b"", b"NULL"])
        assert reply[1:3] == [b"8", b"400"] and refusals == [b"other"]
        assert zap.answer([b"1.0", b"9"])[2] == b"500"
    finally:
        zap.close()
        ctx.term()


@pytest.mark.parametrize("kind", sorted(set(protocol.REQUESTS) - protocol.READ_ONLY_REQUESTS))
def test_read_only_may_not_change_anything(kind):
    # Every kind not declared read-only is refused for read-only (and an unknown role).
    assert protocol.forbidden(protocol.ROLE_READ_ONLY, {"kind": kind})
    assert protocol.forbidden(None, {"kind": kind})
    assert protocol.forbidden(protocol.ROLE_ADMIN, {"kind": kind}) is None


def test_read_only_may_look_but_not_clear_logs():
    # logs is read-only, logs --clear is not; list/status/tree/events/hello/cancel are.
    for kind in ("hello", "list", "status", "tree", "events", "cancel"):
        assert protocol.forbidden(protocol.ROLE_READ_ONLY, {"kind": kind}) is None
    assert protocol.forbidden(protocol.ROLE_READ_ONLY, {"kind": "logs", "clear": False}) is None
    assert protocol.forbidden(protocol.ROLE_READ_ONLY, {"kind": "logs", "clear": True})
