"""`zeroctl convert`: supervisord.conf files of real-world shapes in tests/data/supervisord,
the exact files written, the exact lines on stderr, and `zeroctl check` on the result."""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.supervisor import ZEROCTL, Result

DATA = Path(__file__).parent / "data" / "supervisord"
USER = getpass.getuser()


def zeroctl(*args: str, cwd: Path | None = None) -> Result:
    proc = subprocess.run([*ZEROCTL, *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env={**os.environ, "USER": USER})
    return Result(proc.returncode, proc.stdout, proc.stderr)


def case(tmp_path: Path, name: str) -> Path:
    """A copy of tests/data/supervisord/NAME in tmp_path: its supervisord.conf."""
    shutil.copytree(DATA / name, tmp_path / name)
    return tmp_path / name / "supervisord.conf"


def written(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): p.read_text()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def checked(directory: Path) -> str:
    result = zeroctl("check", "-d", str(directory))
    assert result.code == 0, result.err
    return result.out.strip()


def program(origin: str, *lines: str) -> str:
    return "".join(f"{line}\n" for line in (f"# {origin} (zeroctl convert)", *lines))


STOP = ("term-signal = TERM", "stop-timeout = 10")


def test_django_celery_redis(tmp_path):
    # The usual Ubuntu layout: programs in conf.d/, everything mapped but startsecs and a
    # separate stderr log; supervisord's own sections are listed as not converted.
    conf = case(tmp_path, "django")
    here, d = conf.parent, conf.parent / "conf.d"
    out = tmp_path / "out"
    result = zeroctl("convert", str(conf), "-o", str(out))
    assert result.code == 0, result.err
    assert result.out == ("5 services written to " + str(out) + "; 9 lines on stderr say what "
                          "was not converted as it was.\n")
    shop = f"[program:{{}}] of {d}/shop.conf"
    env = "DJANGO_SETTINGS_MODULE=shop.settings.production\nLANG=en_US.UTF-8\n"
    common = ("type = process",)
    files = {
        "boot": program(f"every autostarted program of {conf}", "waits-for = redis",
                        "waits-for = gunicorn", "waits-for = celery-worker",
                        "waits-for = celery-beat"),
        "redis": program(f"[program:redis] of {d}/redis.conf", *common,
                         'command = redis-server --port 6390 --save ""',
                         "env-file = .environment/redis", "restart = yes",
                         "restart-limit-count = 3", *STOP, f"logfile = {d}/../log/redis.log",
                         "logfile-max-size = 52428800", "logfile-keep = 10"),
        "gunicorn": program(shop.format("gunicorn"), *common,
                            f"command = {d}/../venv/bin/gunicorn shop.wsgi:application "
                            "--bind 127.0.0.1:8000 --workers 3", f"working-dir = {d}/..",
                            f"run-as = {USER}", "env-file = .environment/gunicorn",
                            "restart = yes", "restart-limit-count = 3", "term-signal = QUIT",
                            "stop-timeout = 10", f"logfile = {d}/../log/gunicorn.log",
                            "logfile-max-size = 10485760", "logfile-keep = 5", "after = redis"),
        "celery-worker": program(shop.format("celery-worker"), *common,
                                 f"command = {d}/../venv/bin/celery -A shop worker "
                                 "--loglevel=INFO --concurrency=2", f"working-dir = {d}/..",
                                 f"run-as = {USER}", "env-file = .environment/celery-worker",
                                 "restart = yes", "restart-limit-count = 3",
                                 "term-signal = TERM", "stop-timeout = 600",
                                 f"logfile = {d}/../log/celery-worker.log",
                                 "logfile-max-size = 52428800", "logfile-keep = 10",
                                 "after = redis", "after = gunicorn"),
        "celery-beat": program(shop.format("celery-beat"), *common,
                               f"command = {d}/../venv/bin/celery -A shop beat --loglevel=INFO",
                               f"working-dir = {d}/..", f"run-as = {USER}",
                               "env-file = .environment/celery-beat", "restart = yes",
                               "restart-limit-count = 3", *STOP,
                               f"logfile = {d}/../log/celery-beat.log",
                               "logfile-max-size = 52428800", "logfile-keep = 10",
                               "after = redis", "after = gunicorn", "after = celery-worker"),
    }
    for name in ("redis", "gunicorn", "celery-worker", "celery-beat"):
        files[f".environment/{name}"] = f"# environment of {name} (zeroctl convert)\n{env}"
    assert written(out) == dict(sorted(files.items()))
    worker = f"{d}/shop.conf:{{}}: [program:celery-worker]"
    assert result.err.splitlines() == [
        f"{here}/supervisord.conf:3: [unix_http_server]: not converted: zeroctl talks to "
        "zeroinit's control socket (zeroinit -s)",
        f"{conf}:8: [supervisord] logfile: not converted: zeroinit reports on its stdout "
        "(and `zeroctl events`)",
        f"{conf}:9: [supervisord] pidfile: not converted: zeroinit writes no pid file",
        f"{conf}:10: [supervisord] childlogdir: not converted: AUTO logs become log-type = "
        "buffer: there are no child log files",
        f"{conf}:13: [rpcinterface:supervisor]: not converted: zeroinit has no XML-RPC "
        "interface (its protocol is docs/protocol.md)",
        f"{conf}:16: [supervisorctl]: not converted: zeroctl talks to zeroinit's control "
        "socket (zeroinit -s)",
        worker.format(18) + " stderr_logfile: not converted: zeroinit keeps one log per "
        f"service, so stderr goes where stdout goes ({d}/../log/celery-worker.log), as with "
        "redirect_stderr",
        worker.format(21) + " startsecs: not converted: zeroinit counts a process started as "
        "soon as it runs, not after 10 s up; the process can signal readiness with "
        "ready-notification instead",
        f"{d}/shop.conf:34: [program:celery-beat] startsecs: not converted: zeroinit counts a "
        "process started as soon as it runs, not after 10 s up; the process can signal "
        "readiness with ready-notification instead",
    ]
    assert checked(out) == "5 services checked: no errors."


def test_pools_with_process_num(tmp_path):
    # %(process_num)d is $1 in one template; %(process_num)02d (in the command, a log name
    # and the environment) needs a file per instance, which stderr says.
    conf = case(tmp_path, "pool")
    out = tmp_path / "out"
    result = zeroctl("convert", str(conf), "-o", str(out))
    assert result.code == 0, result.err
    files = written(out)
    assert sorted(files) == [".environment/web", ".environment/web@0", ".environment/web@1",
                             ".environment/web@2", "boot", "consumer", "web", "web@0", "web@1",
                             "web@2"]
    origin = f"[program:{{}}] of {conf}"
    assert files["consumer"] == program(
        origin.format("consumer"), "type = process",
        "command = python3 -m consumer --id $1 --name consumer", "restart = on-failure",
        "restart-limit-count = 3", "term-signal = TERM", "stop-timeout = 30",
        "log-type = buffer", "instances = 4")
    web = ("type = process", "command = python3 -m http.server 80{0}",
           "env-file = .environment/web{1}", "restart = on-failure", "restart-limit-count = 3",
           *STOP, "logfile = /var/log/web-{0}.log")
    assert files["web"] == program(origin.format("web"), *(line.format("$1", "") for line in web),
                                   "instances = 3")
    for i in range(3):
        assert files[f"web@{i}"] == program(origin.format("web"),
                                            *(line.format(f"0{i}", f"@{i}") for line in web))
        assert files[f".environment/web@{i}"].endswith(f"\nPORT=800{i}\n")
    assert result.err.splitlines() == [
        f"{conf}:2: [supervisord] nodaemon: not converted: zeroinit always runs in the "
        "foreground",
        f"{conf}:14: [program:web] process_name: web@0 ... web@2 get files of their own: $1 is "
        "the index from 0, unformatted, which cannot say what %(process_num) says here; "
        "instances added by `zeroctl scale` use web's $1"]
    assert checked(out) == "10 services checked: no errors."


def test_groups_includes_and_priorities(tmp_path):
    # Globs relative to the including file (also %(here)s), sorted; a group is an internal
    # service; group priority orders first, then program priority; includes in included
    # files are not followed, as in supervisord.
    conf = case(tmp_path, "groups")
    out = tmp_path / "out"
    result = zeroctl("convert", "supervisord.conf", "-o", str(out), cwd=conf.parent)
    assert result.code == 0, result.err
    files = written(out)
    assert sorted(n for n in files if not n.startswith(".")) == [
        "api", "assets", "backend", "boot", "cron", "frontend", "jobs"]
    assert files["backend"] == program(f"[group:backend] of {conf}", "waits-for = api",
                                       "waits-for = jobs")
    assert files["frontend"] == program(f"[group:frontend] of {conf}", "waits-for = assets")
    assert files["boot"] == program(f"every autostarted program of {conf}",
                                    "waits-for = api", "waits-for = jobs", "waits-for = cron")
    after = {name: [line for line in text.splitlines() if line.startswith("after")]
             for name, text in files.items()}
    assert after["cron"] == [] and after["jobs"] == ["after = cron"]
    assert after["api"] == ["after = cron", "after = jobs"]
    assert after["assets"] == ["after = cron", "after = jobs", "after = api"]
    assert files[".environment/cron"].endswith("\nGREETING=hello, world\n")
    assert result.err.splitlines() == [
        f"{conf}:13: [include] files: no file matches '{conf.parent}/missing/*.conf'",
        f"{conf.parent}/conf.d/assets.conf:5: [include]: not followed: only the main file's "
        "[include] is read (as supervisord does)"]
    assert checked(out) == "7 services checked: no errors."


UNMAPPABLE = """\
[supervisord]
minfds=4096
identifier=shop

[program:legacy]
command=/usr/bin/legacy --serve
exitcodes=0,2
startsecs=0
startretries=0
autorestart=unexpected
stopwaitsecs=0
stopasgroup=false
killasgroup=false
umask=022
serverurl=AUTO
stdout_logfile=syslog
stdout_events_enabled=true
stdout_capture_maxbytes=1MB
stderr_logfile=/var/log/legacy.err
stderr_logfile_backups=3
colour=blue

[group:g]
programs=legacy
nice=5

[eventlistener:memmon]
command=memmon -a 200MB
events=TICK_60

[fcgi-program:php]
socket=tcp://localhost:9000
command=php-cgi

[ctlplugin:extra]
supervisor.ctl_factory = x
"""


def test_every_unmappable_key_is_one_line(tmp_path):
    # Each setting zeroinit cannot follow is one line naming file, line, section and key;
    # settings at their supervisord default say nothing; the rest is still written.
    conf = tmp_path / "supervisord.conf"
    conf.write_text(UNMAPPABLE)
    out = tmp_path / "out"
    result = zeroctl("convert", str(conf), "-o", str(out))
    assert result.code == 0, result.err
    legacy = f"{conf}:{{}}: [program:legacy]"
    assert result.err.splitlines() == [
        f"{conf}:2: [supervisord] minfds: not converted: set the limit on zeroinit itself, or "
        "rlimit-nofile per service",
        f"{conf}:3: [supervisord] identifier: not converted: a setting of supervisord itself, "
        "with no counterpart",
        legacy.format(7) + " exitcodes: not converted: zeroinit expects only exit 0; exit 2 "
        "will count as a failure (restarted under on-failure, shown as failed)",
        legacy.format(9) + " startretries: 0 has no counterpart (restart-limit-count = 0 means "
        "no limit in zeroinit); restart-limit-count = 1 written",
        legacy.format(11) + " stopwaitsecs: 0 means no limit in zeroinit; stop-timeout = 0.1 "
        "written",
        legacy.format(13) + " killasgroup: not converted: zeroinit's SIGKILL after "
        "stop-timeout always goes to the whole process group",
        legacy.format(14) + " umask: not converted: zeroinit has no umask setting; the program "
        "inherits zeroinit's",
        legacy.format(16) + " stdout_logfile: not converted: zeroinit does not write to "
        "syslog; log-type = buffer written (see `zeroctl logs`)",
        legacy.format(17) + " stdout_events_enabled: not converted: zeroinit has no event "
        "listeners; `zeroctl events` streams state changes",
        legacy.format(18) + " stdout_capture_maxbytes: not converted: capture mode exists only "
        "for supervisord's event listeners",
        legacy.format(19) + " stderr_logfile: not converted: zeroinit keeps one log per "
        "service, so stderr goes where stdout goes (syslog), as with redirect_stderr",
        legacy.format(20) + " stderr_logfile_backups: not converted: stderr shares stdout's "
        "log (see stderr_logfile)",
        legacy.format(21) + " colour: not converted: not a setting of supervisord's "
        "[program:x]",
        f"{conf}:25: [group:g] nice: not converted: not a setting of supervisord's [group:x]",
        f"{conf}:27: [eventlistener:memmon]: not converted: zeroinit has no event listeners; "
        "`zeroctl events` streams state changes",
        f"{conf}:31: [fcgi-program:php]: not converted: zeroinit does not open sockets for "
        "programs; run the program as a [program] that listens itself",
        f"{conf}:35: [ctlplugin:extra]: not converted: zeroctl has no plugins",
    ]
    assert written(out)["legacy"] == program(
        f"[program:legacy] of {conf}", "type = process", "command = /usr/bin/legacy --serve",
        "restart = on-failure", "restart-limit-count = 1", "term-signal = TERM",
        "stop-timeout = 0.1", "options = signal-process-only", "log-type = buffer")
    assert checked(out) == "3 services checked: no errors."


@pytest.mark.parametrize("text, message", [
    ("command=sleep 1\n", "{conf}:1: a setting before any [section] header"),
    ("[program:a]\ncommand=sleep 1\nthis is not a setting\n",
     "{conf}:3: cannot parse 'this is not a setting'; expected 'key = value' or a [section] "
     "header"),
    ("[program:a]\ncommand=sleep %(ENV_ZEROINIT_TEST_UNSET)s\n",
     "{conf}:2: [program:a] command: cannot expand '%(ENV_ZEROINIT_TEST_UNSET)': unknown name "
     "(unset in this environment)"),
    ("[program:a]\ncommand=sleep 100%\n",
     "{conf}:2: [program:a] command: bad '%' expansion in 'sleep 100%' (incomplete format); "
     "write '%%' for a literal '%'"),
    ("[program:a]\nautostart=perhaps\ncommand=x\n",
     "{conf}:2: [program:a] autostart: expected true or false, got 'perhaps'"),
    ("[program:a]\ncommand=sh -c 'unterminated\n",
     "{conf}:2: [program:a] command: cannot split \"sh -c 'unterminated\" into words: No "
     "closing quotation"),
    ("[program:a]\nnumprocs=0\ncommand=x\n",
     "{conf}:2: [program:a] numprocs: expected a whole number ≥ 1, got '0'"),
    ("[program:a]\n", "{conf}:1: [program:a]: has no 'command'"),
    ("[program:a b]\ncommand=x\n",
     "{conf}:1: [program:a b]: 'a b' cannot be a service name: use letters, digits, '-', '_' "
     "and '.' (not first)"),
    ("[program:a]\ncommand=x\nstopsignal=LOUD\n",
     "{conf}:3: [program:a] stopsignal: unknown signal 'LOUD'"),
    ("[group:g]\nprograms=ghost\n", "{conf}:2: [group:g] programs: no [program:ghost] to put "
     "in the group"),
    ("[program:a]\ncommand=x\nenvironment=A=1,B\n", "{conf}:3: [program:a] environment: "
     "expected KEY=VALUE pairs separated by commas, got 'B'"),
])
def test_malformed_input_is_one_line_and_writes_nothing(tmp_path, text, message):
    # Exit 1, one sentence naming the place, no traceback, no output directory.
    conf = tmp_path / "supervisord.conf"
    conf.write_text(text)
    result = zeroctl("convert", str(conf), "-o", str(tmp_path / "out"))
    assert (result.code, result.out) == (1, "")
    assert result.err == f"zeroctl: convert: {message.format(conf=conf)}\n"
    assert not (tmp_path / "out").exists()


def test_unreadable_input_and_bad_usage(tmp_path):
    # A missing file or a directory: exit 1 and one line; no FILE: exit 2 (usage).
    missing = zeroctl("convert", str(tmp_path / "nope.conf"))
    assert missing.code == 1
    assert missing.err == f"zeroctl: convert: cannot read {tmp_path}/nope.conf: No such file " \
                          "or directory\n"
    directory = zeroctl("convert", str(tmp_path))
    assert directory.code == 1 and directory.err.count("\n") == 1
    assert "Is a directory" in directory.err
    assert zeroctl("convert").code == 2


def test_default_output_is_zeroinit_d_in_the_current_directory(tmp_path):
    # Without -o the files go to ./zeroinit.d, as `zeroctl convert --help` says.
    (tmp_path / "supervisord.conf").write_text("[program:one]\ncommand=sleep 5\n")
    result = zeroctl("convert", "supervisord.conf", cwd=tmp_path)
    assert result.code == 0, result.err
    assert sorted(written(tmp_path / "zeroinit.d")) == ["boot", "one"]
    assert "(default: ./zeroinit.d;" in " ".join(zeroctl("convert", "--help").out.split())
