"""`zeroctl convert` read back: the loader gets exactly the words, paths and environment that
supervisord would use, and a real zeroinit runs the converted directory."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
from pathlib import Path

from hypothesis import given, strategies as st

from actors.convert.dinit_text import Line, env_file
from actors.convert.supervisord_conf import ConfError, Where, parse_env_pairs
from actors.loader.dinit_syntax import expand_command, parse_line
from actors.loader.walk import ServiceLoader
from tests.supervisor import ZEROCTL

USER = getpass.getuser()


def convert(conf: Path, out: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([*ZEROCTL, "convert", str(conf), "-o", str(out)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def load(out: Path, name: str):
    specs = {s.name: s for s in ServiceLoader([str(out)], {"PATH": "/usr/bin:/bin"}).load(name)}
    return specs[name]


@given(st.lists(st.text(st.sampled_from(list("ab $#\"'\\=%:,.@{}-\t")) | st.characters(),
                        max_size=12).filter(lambda w: not any(c in w for c in "\n\r\0")),
                min_size=1, max_size=5))
def test_quoted_words_read_back_unchanged(words):
    # Whatever the words, the command line written gives the same words to the loader.
    text = Line("command", tuple(words), substituted=True).render()
    setting = parse_line(text, "f", 1)
    assert expand_command(setting.words, lambda name: "SUBSTITUTED", None) == tuple(words)


EXPANSIONS = r"""
[supervisord]
environment=BASE="%(here)s",SHARED=from-supervisord

[group:tools]
programs=echo

[program:echo]
command=/bin/echo "two words" 'c#d' $HOME \$x 100%% "q\"uote" %(ENV_ZI_WORD)s
    %(program_name)s/%(group_name)s@%(host_node_name)s
directory=%(here)s/work dir
environment=A="1,2",B='x y',SHARED=program-wins,EMPTY=""
stdout_logfile=%(here)s/logs/%(program_name)s.log   ; an inline comment
"""


def test_expansions_and_quoting_reach_the_process_unchanged(tmp_path):
    # %(ENV_X)s, %(here)s, %(program_name)s, %(group_name)s, %(host_node_name)s and %% expand
    # as supervisord does; shell-like quoting, `$` and `#` survive the service file.
    conf = tmp_path / "supervisord.conf"
    conf.write_text(EXPANSIONS)
    out = tmp_path / "out"
    convert(conf, out, {"ZI_WORD": "from env"})
    spec = load(out, "echo")
    assert spec.command == ("/bin/echo", "two words", "c#d", "$HOME", "$x", "100%", 'q"uote',
                            "from", "env", f"echo/tools@{socket.gethostname()}")
    assert spec.working_dir == f"{tmp_path}/work dir"
    assert spec.logfile == f"{tmp_path}/logs/echo.log"
    assert dict(spec.env) == {"BASE": str(tmp_path), "SHARED": "program-wins", "A": "1,2",
                              "B": "x y", "EMPTY": ""}


def test_environment_pairs():
    # KEY=VALUE pairs: quotes keep commas and spaces; whitespace around separators goes.
    where = Where("f", 1, "program:x", "environment")
    assert parse_env_pairs('A="1,2", B = x ,C=\'y z\'', where) == {"A": "1,2", "B": "x",
                                                                   "C": "y z"}
    assert parse_env_pairs("", where) == {}
    try:
        parse_env_pairs('A="open', where)
    except ConfError as exc:
        assert str(exc) == "f:1: [program:x] environment: unterminated quote in the value of A"
    else:
        raise AssertionError("an unterminated quote was accepted")
    assert env_file("c", {"A": " padded "}) == "# c\nA= padded \n"


def test_pool_instances_load_with_their_own_values(tmp_path):
    # The loader gives each instance what supervisord would: $1 from the template, or the
    # instance's own file where the number is formatted.
    conf = tmp_path / "supervisord.conf"
    conf.write_text("[program:plain]\ncommand=sleep 4%(process_num)d\nnumprocs=2\n"
                    "[program:padded]\ncommand=sleep 5%(process_num)03d\nnumprocs=2\n"
                    "numprocs_start=7\n")
    out = tmp_path / "out"
    convert(conf, out)
    assert load(out, "plain").instances == 2
    assert [load(out, f"plain@{i}").command for i in range(2)] == [("sleep", "40"),
                                                                  ("sleep", "41")]
    assert [load(out, f"padded@{i}").command for i in range(2)] == [("sleep", "5007"),
                                                                   ("sleep", "5008")]


def test_loader_knows_the_rotation_settings(tmp_path):
    # logfile-max-size (K, M, G) and logfile-keep are declared settings; bad values are errors.
    (tmp_path / "ok").write_text("type = process\ncommand = sleep 1\nlogfile = ok.log\n"
                                 "logfile-max-size = 10M\nlogfile-keep = 2\n")
    (tmp_path / "bad").write_text("type = process\ncommand = sleep 1\nlogfile = b.log\n"
                                  "logfile-max-size = ten\n")
    assert load(tmp_path, "ok").logfile == f"{tmp_path}/ok.log"
    specs, problems = ServiceLoader([str(tmp_path)], {}).check(["bad"])
    assert [str(p) for p in problems] == [
        f"{tmp_path}/bad:4: logfile-max-size: expected a size in bytes, 1 or more, with an "
        "optional K, M or G, got 'ten'"]


RUNNING = """
[supervisord]
environment=GREETING="hello, world"

[program:hello]
command=sh -c 'echo "$GREETING from %(program_name)s" > %(here)s/hello.out; exec sleep 600'
priority=1

[program:worker]
command=sh -c 'echo %(process_num)d > %(here)s/worker%(process_num)d.out; exec sleep 600'
numprocs=2
stopsignal=INT

[program:assets]
command=sleep 600
autostart=false

[group:site]
programs=hello,assets
"""


def test_converted_directory_runs(sup):
    # zeroinit boots the converted directory: the autostarted programs and the pool start,
    # with their environment and process numbers; the group starts the rest.
    conf = sup.base / "supervisord.conf"
    conf.write_text(RUNNING)
    convert(conf, sup.services)
    sup.start()
    names = ("hello", "worker", "worker@0", "worker@1", "boot")
    sup.wait_until(lambda s: all(s.get(n, {}).get("state") == "started" for n in names),
                   "the autostarted programs to start")
    assert sup.status("hello")["pid"] and sup.status("worker@1")["pid"]
    assert sup.poll(lambda: (sup.base / "hello.out").exists() and
                    (sup.base / "hello.out").read_text(), "hello.out") == \
        "hello, world from hello\n"
    for i in range(2):
        assert sup.poll(lambda: (sup.base / f"worker{i}.out").exists() and
                        (sup.base / f"worker{i}.out").read_text(), "worker output") == f"{i}\n"
    assert sup.statuses().get("assets", {}).get("state") in (None, "stopped")
    sup.ctl("start", "site", check=True)
    assert sup.status("assets")["state"] == "started"
