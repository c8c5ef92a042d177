"""zeroctl without a supervisor: the command table against the parser, exit codes, usage
errors and bad endpoints in one sentence (and as JSON with --json), --help and --version,
and the pure helpers behind `logs -n`, `events` and the wait line."""

from __future__ import annotations

import argparse
import json
import socket
import subprocess

import pytest

from broker import protocol
from broker.endpoints import EndpointError, normalise
from cli import commands, progress, render, zeroctl
from cli.exits import ExitCode, status_of_reply_code
from tests.supervisor import ZEROCTL, ZEROINIT


def run(*args: str, cmd=ZEROCTL) -> subprocess.CompletedProcess:
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60)


def test_command_table_matches_the_parser():
    # Every sub-command argparse knows has exactly one row (and handler) in the table.
    parser = zeroctl.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(zeroctl.BY_NAME)
    assert len(zeroctl.BY_NAME) == len(zeroctl.COMMANDS)
    assert all(callable(c.handler) for c in zeroctl.COMMANDS)


def test_exit_codes_are_the_contract():
    # 0 ok, 1 failed/refused, 2 usage, 3 unreachable; only a malformed request is usage.
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3]
    assert status_of_reply_code(protocol.E_BAD_REQUEST) is ExitCode.USAGE
    for code in (protocol.E_REFUSED, protocol.E_FAILED, protocol.E_UNKNOWN_SERVICE,
                 "a-code-from-a-later-version"):
        assert status_of_reply_code(code) is ExitCode.FAILED


@pytest.mark.parametrize("endpoint, words", [
    ("tcp://localhost", "has no port"),
    ("tcp://localhost:99999", "a port is a number from 1 to 65535"),
    ("tcp://:5555", "has no port"),
    ("ftp://host", "ftp:// is not a transport"),
    ("ipc://", "no socket path"),
    ("", "empty"),
    ("/tmp/" + "x" * 120, "longer than the 107 bytes"),
])
def test_every_bad_endpoint_gets_a_sentence(endpoint, words):
    # Each endpoint ZeroMQ would reject ("Invalid argument") is refused with the reason.
    with pytest.raises(EndpointError, match=words):
        normalise(endpoint)
    result = run("-s", endpoint, "list")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and words in result.stderr
    assert "internal error" not in result.stderr


def test_tcp_without_keys_is_refused_in_words():
    # A well-formed tcp:// endpoint still needs CURVE keys, which zeroctl cannot use yet.
    result = run("-s", "tcp://localhost:5555", "list")
    assert result.returncode == 2 and "CURVE" in result.stderr


def test_stale_socket_says_no_supervisor_is_running(tmp_path):
    # A socket file nobody listens on (a supervisor that died): exit 3, "no supervisor".
    path = tmp_path / "control"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.close()
    result = run("-s", str(path), "list")
    assert result.returncode == 3
    assert result.stderr.strip() == (f"zeroctl: no supervisor is running at ipc://{path} "
                                     f"(the socket is left from one that ended)")


def test_json_errors_leave_json_on_stdout(tmp_path):
    # With --json, stdout is JSON even on an error: usage, bad endpoint, unreachable.
    for args, code, status in (
            (["--json", "frobnicate"], "usage", 2),
            (["--json", "-s", "tcp://x", "list"], "bad-endpoint", 2),
            (["--json", "-s", str(tmp_path / "none"), "list"], "unreachable", 3),
            (["check", "--json", "-d", str(tmp_path / "none")], "no-services", 1)):
        result = run(*args)
        assert result.returncode == status, args
        report = json.loads(result.stdout)
        assert report["error"] == code and report["message"], args
        assert result.stderr.strip().splitlines()[-1].startswith("zeroctl: ")


def test_help_lists_defaults_exit_codes_and_the_container_form():
    # --help names each option's default, the exit codes, and zeroinit's `-- CMD` form.
    top = run("--help").stdout
    assert "default: 5" in top and "$ZEROINIT_SOCKET" in top
    assert "exit status:" in top and "3  the supervisor could not be reached" in top
    status = run("status", "--help").stdout
    assert "is still a success for `status`" in status
    assert "default:" in run("check", "--help").stdout
    zi = run("--help", cmd=ZEROINIT).stdout
    assert "-- CMD" in zi and "exit status:" in zi
    for action in __import__("cli.zeroinit").zeroinit.build_parser()._actions:
        if action.option_strings and action.dest not in ("help", "version"):
            assert "default" in action.help, action.option_strings


def test_version_on_both_commands():
    # --version prints the package version and the protocol, exit 0.
    for cmd, name in ((ZEROCTL, "zeroctl"), (ZEROINIT, "zeroinit")):
        result = run("--version", cmd=cmd)
        assert result.returncode == 0
        assert result.stdout.startswith(f"{name} ") and "protocol 1" in result.stdout


def test_last_lines():
    # logs -n N: the last N lines; a last line without its newline still counts.
    data = b"a\nb\nc\nd"
    assert commands.last_lines(data, None) == data
    assert commands.last_lines(data, 2) == b"c\nd"
    assert commands.last_lines(data, 0) == b""
    assert commands.last_lines(b"a\nb\n", 5) == b"a\nb\n"


def _event(name, event, state, **extra):
    base = {"name": name, "event": event, "state": state, "target": "started", "pid": None,
            "failed": False, "stop_reason": None, "exit": None, "reason": None,
            "depends_on": [], "time": 0.0}
    return {**base, **extra}


def test_event_lines_say_why():
    # events: a crash names the exit, a rollback names the dependency going down.
    crash = _event("flaky", "stopping", "stopping", reason="process exited with code 1",
                   exit={"code": 1, "signal": None}, stop_reason="terminated")
    assert render.event_line(crash).endswith("flaky stopping: process exited with code 1")
    client = _event("client", "stopped", "stopped", depends_on=["flaky"])
    line = render.event_line(client, {"flaky": crash})
    assert line.endswith("client stopped: dependency flaky is stopping")
    plain = _event("web", "stopped", "stopped", stop_reason="normal",
                   exit={"code": None, "signal": "SIGTERM"})
    assert render.event_line(plain).endswith("web stopped")


def test_list_shows_restarts_only_where_nonzero():
    # The RESTARTS column is empty for a service that never restarted.
    rows = [_event("a", "", "started", type="process", explicit=False, restarts=0),
            _event("b", "", "started", type="process", explicit=False, restarts=2)]
    lines = render.table(rows).splitlines()
    assert lines[1].split() == ["started", "a", "process", "-"]
    assert lines[2].split() == ["started", "b", "process", "-", "2"]


def test_wait_line_text():
    # The wait line names what is still moving, longest first, per state.
    text = progress.describe("start", 4.2, [("web", "starting", 1.0), ("db", "starting", 4.0),
                                            ("old", "stopping", 2.0)])
    assert text == "start: 4s; still starting db (4s), web (1s); still stopping old (2s)"


class _FakeSession:
    def __init__(self, statuses):
        self.statuses = statuses

    def call(self, kind, **fields):
        assert kind == "list"
        return self.statuses


def _svc(name, state="started", explicit=False, depends_on=()):
    return {"name": name, "state": state, "explicit": explicit, "depends_on": list(depends_on)}


def test_stop_warns_when_it_takes_everything_down():
    # boot hard-depends on web on db: stopping db with force leaves nothing active.
    tree = [_svc("boot", explicit=True, depends_on=["web"]), _svc("web", depends_on=["db"]),
            _svc("db")]
    warning = commands._takes_everything_down(_FakeSession(tree), ["db"])
    assert warning and "boot" in warning and "exits" in warning
    # With boot only waiting for web, boot stays: no warning.
    tree[0] = _svc("boot", explicit=True)
    assert commands._takes_everything_down(_FakeSession(tree), ["db"]) is None


def test_wait_line_only_on_a_terminal(monkeypatch):
    # Piped stderr: no wait line at all (so nothing is drawn, however long the wait).
    import io
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert progress.WaitLine.on_terminal(object(), "start") is None


def test_man_pages_are_generated_from_the_parsers():
    # docs/man holds exactly what cli/manpage.py makes of the parsers (regenerate with
    # `python -m cli.manpage docs/man` after changing an option).
    from pathlib import Path
    from cli import manpage
    docs = Path(__file__).resolve().parent.parent / "docs" / "man"
    generated = manpage.pages()
    assert sorted(generated) == ["zeroctl.1", "zeroinit.8"]
    for name, text in generated.items():
        assert (docs / name).read_text() == text, f"docs/man/{name} is out of date"
    assert "\\-\\-no\\-wait" in generated["zeroctl.1"] and ".SH NOTES" in generated["zeroctl.1"]
