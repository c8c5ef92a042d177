"""`zeroctl check`: offline validation (no supervisor), every error with file and line, exit 1
if any, else a one-line summary and exit 0."""

from __future__ import annotations

import json
import os
import subprocess

from tests.supervisor import ZEROCTL


def check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ZEROCTL, "check", *args], capture_output=True, text=True,
                          timeout=60)


def test_clean_directory_gives_a_summary(tmp_path):
    # No errors: exit 0 and one line naming how many services were checked.
    (tmp_path / "boot").write_text("depends-on = web\n")
    (tmp_path / "web").write_text("type = process\ncommand = sleep 1\n")
    result = check("-d", str(tmp_path))
    assert result.returncode == 0
    assert result.stdout.strip() == "2 services checked: no errors."


def test_every_error_with_file_and_line(tmp_path):
    # Each error is one line, FILE:LINE: SETTING: PROBLEM; the exit status is 1.
    (tmp_path / "web").write_text("type = process\ncommand = x\nrestart-delay = soon\n"
                                  "colour = blue\n")
    (tmp_path / "db").write_text("type = process\n")
    result = check("-d", str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert f"{tmp_path}/web:3: restart-delay: expected a number of seconds, got 'soon'" in lines
    assert any(line.startswith(f"{tmp_path}/web:4: ") and "colour" in line for line in lines)
    assert any(line.startswith(f"{tmp_path}/db:1: ") and "command" in line for line in lines)


def test_named_services_and_json(tmp_path):
    # Only the named services (and what they need) are checked; --json for scripts.
    (tmp_path / "good").write_text("")
    (tmp_path / "bad").write_text("type = nonsense\n")
    assert check("-d", str(tmp_path), "good").returncode == 0
    result = check("--json", "-d", str(tmp_path), "bad")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["errors"] and report["errors"][0].startswith(f"{tmp_path}/bad:1: type: ")


def test_missing_dependency_and_cycle(tmp_path):
    # A missing dependency names the line that names it; a cycle is printed a -> b -> a.
    (tmp_path / "a").write_text("depends-on = b\n")
    (tmp_path / "b").write_text("depends-on = a\n")
    (tmp_path / "c").write_text("\ndepends-on = nowhere\n")
    result = check("-d", str(tmp_path))
    assert result.returncode == 1
    assert "a -> b -> a" in result.stderr or "b -> a -> b" in result.stderr
    assert any(line.startswith(f"{tmp_path}/c:2: depends-on: ") and "nowhere" in line
               for line in result.stderr.splitlines())


def test_missing_or_empty_directory_is_an_error(tmp_path):
    # Checking nothing is not a success: a missing or empty directory is exit 1, one sentence.
    missing = check("-d", str(tmp_path / "nope"))
    assert missing.returncode == 1
    assert missing.stderr == f"zeroctl: services directory {tmp_path}/nope does not exist\n"
    empty = check("-d", str(tmp_path))
    assert empty.returncode == 1
    assert empty.stderr == f"zeroctl: no service description in {tmp_path}\n"
    default = subprocess.run([*ZEROCTL, "check"], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert default.returncode == 1 and "does not exist; name one with -d DIR" in default.stderr


def test_noise_free_problems_all_on_stderr(tmp_path):
    # A bad type is one error (no warning about settings it "ignores"); a misspelt setting
    # is suggested; warnings go to stderr like errors, the summary to stdout.
    (tmp_path / "a").write_text("type = daemon\ncommand = sleep 1\n")
    (tmp_path / "b").write_text("type = process\ncommand = sleep 1\ndepend-on = a\n")
    (tmp_path / "c").write_text("command = sleep 1\n")
    result = check("-d", str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert [line for line in lines if line.startswith(f"{tmp_path}/a:")] == [
        f"{tmp_path}/a:1: type: expected process, scripted or internal, got 'daemon'"]
    assert f"{tmp_path}/b:3: unknown setting 'depend-on'; did you mean depends-on?" in lines
    assert any(line.startswith(f"warning: {tmp_path}/c:1:") for line in lines)
    assert result.stdout == "1 service checked: 2 errors, 1 warning.\n"  # c; a and b failed


def test_bad_log_rotation_values_with_file_and_line(tmp_path):
    # `logfile-max-size = lots` and a bad `logfile-keep` are reported like any other value.
    (tmp_path / "web").write_text("type = process\ncommand = x\nlogfile = /tmp/web.log\n"
                                  "logfile-max-size = lots\nlogfile-keep = -2\n")
    result = check("-d", str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert f"{tmp_path}/web:4: logfile-max-size: expected a size in bytes, 1 or more, with " \
           f"an optional K, M or G, got 'lots'" in lines
    assert f"{tmp_path}/web:5: logfile-keep: expected a whole number, 0 or more, got '-2'" \
        in lines
