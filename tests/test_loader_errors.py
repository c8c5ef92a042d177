"""Bad input: every problem is a LoadError naming the exact file, line, setting and why, and
the service fails to load alone (actors/loader/walk.py and the modules it uses)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from actors.loader.errors import LoadError, LoadFailure
from actors.loader.walk import ServiceLoader
from actors.loader.settings import SETTINGS

Report = tuple[str, "int | None", "str | None", str]


def services(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name.replace("_", "-")).write_text(textwrap.dedent(text).removeprefix("\n"))
    return directory


def as_tuple(error: LoadError) -> Report:
    return (error.file, error.line, error.setting, error.message)


def failure(directory: Path, name: str, environ: dict[str, str] | None = None) -> LoadFailure:
    with pytest.raises(LoadFailure) as caught:
        ServiceLoader([str(directory)], environ or {}).load(name)
    return caught.value


def errors(directory: Path, name: str, environ: dict[str, str] | None = None) -> list[Report]:
    return [as_tuple(e) for e in failure(directory, name, environ).errors if e.is_error]


def warnings(directory: Path, names: list[str]) -> list[Report]:
    _, problems = ServiceLoader([str(directory)], {}).check(names)
    return [as_tuple(p) for p in problems if not p.is_error]


# --- the error itself -------------------------------------------------------------------------


def test_error_prints_as_one_line_leaving_out_missing_parts():
    # str() is FILE:LINE: SETTING: MESSAGE without the parts that are None.
    assert str(LoadError("/x/web", 4, "restart-delay", "expected a number of seconds, got 'abc'")) \
        == "/x/web:4: restart-delay: expected a number of seconds, got 'abc'"
    assert str(LoadError("/x/web", 7, None, "unterminated quoted string")) == \
        "/x/web:7: unterminated quoted string"
    assert str(LoadError("/x/web", None, None, "cannot read: Permission denied")) == \
        "/x/web: cannot read: Permission denied"
    both = LoadFailure([LoadError("/a", 1, None, "x"), LoadError("/b", None, "s", "y")])
    assert str(both) == "/a:1: x\n/b: s: y"


# --- syntax -----------------------------------------------------------------------------------


def test_unknown_setting(tmp_path):
    # A misspelt setting name.
    sd = services(tmp_path / "sd", web="type = process\ncommand = x\ncolour = blue\n")
    assert errors(sd, "web") == [(f"{sd}/web", 3, None, "unknown setting 'colour'")]


def test_unterminated_quote(tmp_path):
    # A double quote that never closes.
    sd = services(tmp_path / "sd", web='type = process\ncommand = echo "hello\n')
    assert errors(sd, "web") == [(f"{sd}/web", 2, None, "unterminated quoted string"),
                                 (f"{sd}/web", 1, "type", "a process service needs a 'command'")
                                 ][::-1]


def test_hash_glued_to_a_value(tmp_path):
    # `#` not after whitespace is refused rather than silently cutting the value.
    sd = services(tmp_path / "sd", web="type = process\ncommand = /bin/x --colour=#fff\n")
    assert (f"{sd}/web", 2, None, "'#' starts a comment only after whitespace; quote or escape "
            "it to use it in a value") in errors(sd, "web")


def test_badly_formed_line(tmp_path):
    # A line with no operator.
    sd = services(tmp_path / "sd", web="# web\n\ntype process\n")
    assert errors(sd, "web") == [(f"{sd}/web", 3, None,
                                  "badly formed line; expected 'setting = value'")]


def test_continuation_backslash_at_end_of_file(tmp_path):
    # The last line ends in a backslash.
    sd = services(tmp_path / "sd", web="restart = no\nnice = 3 \\")
    assert errors(sd, "web") == [(f"{sd}/web", 2, None,
                                  "the file ends after a continuation backslash")]


def test_continuation_onto_an_unindented_line(tmp_path):
    # The line after a continuation must begin with whitespace.
    sd = services(tmp_path / "sd", web="type = process \\\ncommand = x\n")
    assert errors(sd, "web") == [
        (f"{sd}/web", 2, None, "a line after a continuation backslash must begin with "
                               "whitespace")]


def test_plus_equals_on_a_setting_that_does_not_append(tmp_path):
    # Only command and stop-command take `+=`.
    sd = services(tmp_path / "sd", web="restart += no\n")
    assert errors(sd, "web") == [(f"{sd}/web", 1, "restart",
                                  "'+=' can only be used with command and stop-command")]


def test_unknown_meta_command(tmp_path):
    # Only @include, @include-opt and @meta exist.
    sd = services(tmp_path / "sd", web="@import other\n")
    assert errors(sd, "web") == [(f"{sd}/web", 1, None, "unknown meta-command '@import'")]


def test_missing_include(tmp_path):
    # @include of a file that is not there (relative to the including file).
    sd = services(tmp_path / "sd", web="restart = no\n@include common.conf\n")
    assert errors(sd, "web") == [(f"{sd}/web", 2, "@include",
                                  f"{sd}/common.conf: cannot read: No such file or directory")]


def test_include_of_itself(tmp_path):
    # A fragment that includes itself (through another) is refused, not followed forever.
    sd = services(tmp_path / "sd", web="@include part\n", part="@include web\n")
    assert errors(sd, "web") == [(f"{sd}/part", 1, "@include", f"'{sd}/web' includes itself")]


def test_error_inside_an_included_fragment_names_the_fragment(tmp_path):
    # The file and line are the fragment's.
    sd = services(tmp_path / "sd", web="type = process\ncommand = x\n@include part\n",
                  part="# part\nrestart = sometimes\n")
    assert errors(sd, "web") == [(f"{sd}/part", 2, "restart", "expected yes, true, on-failure, "
                                                              "no or false, got 'sometimes'")]


def test_not_utf8(tmp_path):
    # A description that is not UTF-8 text, with the line of the first bad byte.
    sd = services(tmp_path / "sd")
    (sd / "web").write_bytes(b"type = process\ncommand = /bin/caf\xe9\n")
    assert errors(sd, "web") == [(f"{sd}/web", 2, None, "not valid UTF-8 text")]


def test_nul_character(tmp_path):
    # A NUL byte could reach no path or argv: refused on its line.
    sd = services(tmp_path / "sd")
    (sd / "web").write_bytes(b"type = process\n\ncommand = /bin/a\0b\n")
    assert errors(sd, "web") == [(f"{sd}/web", 3, None, "contains a NUL character")]


def test_unreadable_description(tmp_path):
    # A file that cannot be read (here a symlink loop): `path: cannot read: <strerror>`.
    sd = services(tmp_path / "sd")
    os.symlink("web", sd / "web")
    assert errors(sd, "web") == [(f"{sd}/web", None, None,
                                  "cannot read: Too many levels of symbolic links")]


# --- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize("line, setting, message", [
    ("restart-delay = abc", "restart-delay", "expected a number of seconds, got 'abc'"),
    ("stop-timeout = -1", "stop-timeout", "expected a number of seconds, got '-1'"),
    ("start-timeout = 1.5s", "start-timeout", "expected a number of seconds, got '1.5s'"),
    ("restart-limit-count = many", "restart-limit-count",
     "expected a whole number, 0 or more, got 'many'"),
    ("restart = maybe", "restart", "expected yes, true, on-failure, no or false, got 'maybe'"),
    ("smooth-recovery = on", "smooth-recovery", "expected yes, true, no or false, got 'on'"),
    ("term-signal = FOO", "term-signal", "unknown signal 'FOO'"),
    ("termsignal = 99", "termsignal", "signal number 99 is out of range (1-64)"),
    ("log-type = syslog", "log-type", "expected file, buffer, none or inherit, got 'syslog'"),
    ("log-type = pipe", "log-type", "log-type 'pipe' is not supported by zeroinit (there is no "
                                    "consumer-of); use buffer or file"),
    ("log-buffer-size = 4k", "log-buffer-size", "expected a whole number, 0 or more, got '4k'"),
    ("logfile-permissions = 0x1ff", "logfile-permissions",
     "expected an octal mode such as 600, got '0x1ff'"),
    ("ready-notification = socket:3", "ready-notification",
     "expected pipefd:N, pipevar:NAME or notify, got 'socket:3'"),
    ("ready-notification = pipefd:three", "ready-notification",
     "pipefd: expected a file descriptor number, got 'three'"),
    ("ready-notification = pipevar:", "ready-notification",
     "pipevar: expected an environment variable name, got ''"),
    ("run-as = no-such-user-here", "run-as", "unknown user 'no-such-user-here'"),
    ("run-as = 9notanumber", "run-as", "expected a user name or a numeric uid, got '9notanumber'"),
    ("nice = high", "nice", "expected a whole number, got 'high'"),
    ("oom-score-adj = 2000", "oom-score-adj", "expected a whole number from -1000 to 1000, "
                                              "got '2000'"),
    ("rlimit-nofile = lots", "rlimit-nofile",
     "expected SOFT:HARD (numbers, or '-' for unlimited), got 'lots'"),
    ("rlimit-nofile = 200:100", "rlimit-nofile",
     "the soft limit is above the hard limit in '200:100'"),
    ("options = fast", "options", "unknown option 'fast'"),
    ("load-options = export-everything", "load-options",
     "unknown load option 'export-everything'"),
    ("chain-to = bad/name", "chain-to", "invalid service name 'bad/name'"),
])
def test_bad_values(tmp_path, line, setting, message):
    # One bad value on line 3 of an otherwise valid process service.
    sd = services(tmp_path / "sd", web=f"type = process\ncommand = /bin/web\n{line}\n")
    assert errors(sd, "web") == [(f"{sd}/web", 3, setting, message)]


def test_bad_instances(tmp_path):
    # instances must be 1 or more.
    sd = services(tmp_path / "sd", pool="type = process\ncommand = x\ninstances = 0\n")
    assert errors(sd, "pool") == [(f"{sd}/pool", 3, "instances",
                                   "expected a whole number of instances, 1 or more, got '0'")]


def test_a_pool_with_a_bad_setting_reports_it_once(tmp_path):
    # The error is found in each instance but printed once; the pool fails on `instances`.
    sd = services(tmp_path / "sd", pool="type = process\ncommand = /bin/w $1\ninstances = 2\n"
                                        "nice = bad\n")
    assert errors(sd, "pool") == [
        (f"{sd}/pool", 4, "nice", "expected a whole number, got 'bad'"),
        (f"{sd}/pool", 3, "instances", "service 'pool@0' could not be loaded"),
        (f"{sd}/pool", 3, "instances", "service 'pool@1' could not be loaded"),
    ]


def test_every_error_of_a_file_is_reported(tmp_path):
    # Several bad lines: all of them, in line order, not just the first.
    sd = services(tmp_path / "sd", web="""
        type = process
        command = /bin/web
        restart = sometimes
        nice = high
        colour = blue
    """)
    assert [(line, setting) for _, line, setting, _ in errors(sd, "web")] == \
        [(3, "restart"), (4, "nice"), (5, None)]


# --- types and commands -----------------------------------------------------------------------


def test_unknown_type(tmp_path):
    # A type dinit does not have either.
    sd = services(tmp_path / "sd", web="type = daemon\n")
    assert errors(sd, "web") == [(f"{sd}/web", 1, "type",
                                  "expected process, scripted or internal, got 'daemon'")]


def test_bgprocess_is_not_supported(tmp_path):
    # dinit's bgprocess: refused, saying what to use instead.
    sd = services(tmp_path / "sd", web="type = bgprocess\ncommand = /usr/sbin/web\n")
    assert errors(sd, "web") == [(f"{sd}/web", 1, "type", "type 'bgprocess' is not supported by "
                                  "zeroinit; run the daemon in the foreground (most have a flag "
                                  "for it) with type = process")]


def test_triggered_is_not_supported(tmp_path):
    # dinit's triggered: refused, saying what to use instead.
    sd = services(tmp_path / "sd", web="type = triggered\n")
    assert errors(sd, "web") == [(f"{sd}/web", 1, "type", "type 'triggered' is not supported by "
                                  "zeroinit; use an internal service and start it with 'zeroctl "
                                  "start' when the event happens")]


def test_process_without_command(tmp_path):
    # The error is on the `type` line.
    sd = services(tmp_path / "sd", web="restart = no\ntype = process\n")
    assert errors(sd, "web") == [(f"{sd}/web", 2, "type", "a process service needs a 'command'")]


def test_scripted_without_command(tmp_path):
    # Same for scripted, even with a stop-command.
    sd = services(tmp_path / "sd", web="type = scripted\nstop-command = /bin/stop\n")
    assert errors(sd, "web") == [(f"{sd}/web", 1, "type", "a scripted service needs a 'command'")]


def test_log_type_file_without_logfile(tmp_path):
    # log-type = file with nowhere to write.
    sd = services(tmp_path / "sd", web="type = process\ncommand = x\nlog-type = file\n")
    assert errors(sd, "web") == [(f"{sd}/web", 3, "log-type", "log-type 'file' needs a 'logfile'")]


@pytest.mark.parametrize("setting", ["pid-file", "socket-listen", "socket-permissions",
                                     "socket-uid", "socket-gid", "run-in-cgroup", "capabilities",
                                     "securebits", "ioprio", "logfile-uid", "logfile-gid",
                                     "cpu-affinity"])
def test_unsupported_dinit_settings(tmp_path, setting):
    # dinit settings zeroinit does not implement are errors, not silently ignored.
    sd = services(tmp_path / "sd", web=f"type = process\ncommand = x\n{setting} = 1\n")
    message = f"setting '{setting}' is not supported by zeroinit"
    if setting == "pid-file":
        message += "; keep the daemon in the foreground and use type = process"
    assert errors(sd, "web") == [(f"{sd}/web", 3, None, message)]


def test_prepared_by_and_consumer_of_say_what_to_use(tmp_path):
    # Two unsupported settings with a suggestion.
    sd = services(tmp_path / "sd", web="prepared-by: prep\nconsumer-of = logger\n")
    assert errors(sd, "web") == [
        (f"{sd}/web", 1, None, "setting 'prepared-by' is not supported by zeroinit; use "
                               "depends-on"),
        (f"{sd}/web", 2, None, "setting 'consumer-of' is not supported by zeroinit; use "
                               "log-type = buffer or file"),
    ]


# --- substitution and env-files ---------------------------------------------------------------


def test_bad_substitution_in_command(tmp_path):
    # An unmatched `${` in a command.
    sd = services(tmp_path / "sd", web="type = process\ncommand = /bin/web ${PORT\n")
    assert errors(sd, "web") == [(f"{sd}/web", 2, "command", "unmatched '{' in '${PORT'")]


def test_second_argument_is_not_available(tmp_path):
    # Only $1 exists.
    sd = services(tmp_path / "sd", web="type = process\ncommand = /bin/web $1 $2\n")
    assert errors(sd, "web@a") == [(f"{sd}/web", 2, "command",
                                    "only $1 (the service argument) is available, not $2")]


def test_bad_substitution_in_a_dependency_name(tmp_path):
    # Pre-load substitution errors land on the dependency line.
    sd = services(tmp_path / "sd", web="depends-on = db-$\n")
    assert errors(sd, "web") == [(f"{sd}/web", 1, "depends-on", "'$' must be followed by a "
                                  "variable name (write '$$' for a literal '$') in 'db-$'")]


def test_missing_env_file(tmp_path):
    # The env-file is read at load time; a missing one is an error on its line.
    sd = services(tmp_path / "sd", web="type = process\ncommand = x\nenv-file = web.env\n")
    assert errors(sd, "web") == [(f"{sd}/web", 3, "env-file",
                                  f"{sd}/web.env: cannot read: No such file or directory")]


def test_env_file_that_is_a_fifo(tmp_path):
    # Reading must never block the supervisor: a FIFO is refused, not waited on.
    sd = services(tmp_path / "sd", web="type = process\ncommand = x\nenv-file = pipe\n")
    os.mkfifo(sd / "pipe")
    assert errors(sd, "web") == [(f"{sd}/web", 3, "env-file",
                                  f"{sd}/pipe: cannot read: not a regular file")]


def test_env_file_bad_lines_are_warnings(tmp_path):
    # Lines the env-file format does not allow are ignored with a warning on their own line.
    sd = services(tmp_path / "sd", web="type = process\ncommand = x\nenv-file = env\n")
    (sd / "env").write_text("GOOD=1\nno equals sign\n=value\n!frobnicate\n")
    assert warnings(sd, ["web"]) == [
        (f"{sd}/env", 2, None, "line ignored: expected NAME=VALUE"),
        (f"{sd}/env", 3, None, "line ignored: expected NAME=VALUE"),
        (f"{sd}/env", 4, None, "line ignored: unknown command '!frobnicate'"),
    ]


# --- names and dependencies -------------------------------------------------------------------


def test_service_not_found(tmp_path):
    # Asking for a service that no directory holds.
    sd = services(tmp_path / "sd", web="")
    assert errors(sd, "nope") == [("nope", None, None, f"service description not found in {sd}")]


def test_invalid_service_name(tmp_path):
    # A name with characters a service name may not have; the message names it.
    sd = services(tmp_path / "sd")
    assert errors(sd, "web$x") == [
        ("web$x", None, None, "invalid service name 'web$x': use letters, digits, '-', '_' and "
                              "'.' (not first), then optionally '@' and an argument")]


def test_invalid_dependency_name(tmp_path):
    # A dependency name with a space (two words) is not a service name.
    sd = services(tmp_path / "sd", web="restart = no\ndepends-on = db cache\n")
    assert errors(sd, "web") == [(f"{sd}/web", 2, "depends-on",
                                  "invalid service name 'db cache'")]


def test_missing_dependency_is_reported_on_the_line_naming_it(tmp_path):
    # depends-on / depends-ms a service that does not exist: an error on the line naming it.
    # A missing waits-for is only a warning (see the next test).
    sd = services(tmp_path / "sd", web="type = internal\nwaits-for = log\n\ndepends-ms = db\n")
    assert errors(sd, "web") == [(f"{sd}/web", 4, "depends-ms", "service 'db' not found")]


def test_a_soft_dependency_that_cannot_load_is_dropped_with_a_warning(tmp_path):
    # A waits-for of a missing or broken service stops nothing: the link is dropped, the
    # dependent loads (and starts) without it, and a warning says so on the link's line.
    sd = services(tmp_path / "sd", boot="waits-for = web\nwaits-for = broken\nwaits-for = gone\n",
                  web="type = process\ncommand = sleep 1\n", broken="restart-delay = soon\n")
    specs = ServiceLoader([str(sd)], {}).load("boot")
    boot = next(spec for spec in specs if spec.name == "boot")
    assert boot.waits_for == ("web",)
    assert {spec.name for spec in specs} == {"boot", "web"}
    assert warnings(sd, ["boot"]) == [
        (f"{sd}/boot", 3, "waits-for", "ignoring 'gone': service not found"),
        (f"{sd}/boot", 2, "waits-for",
         "ignoring 'broken': it could not be loaded, and boot starts without it"),
    ]


def test_dependency_that_fails_fails_its_dependents(tmp_path):
    # db has a bad value: db's error first, then web's on the line naming db, then boot's.
    sd = services(tmp_path / "sd", boot="depends-on = web\n", web="#\ndepends-on = db\n",
                  db="restart-delay = soon\n")
    assert errors(sd, "boot") == [
        (f"{sd}/db", 1, "restart-delay", "expected a number of seconds, got 'soon'"),
        (f"{sd}/web", 2, "depends-on", "service 'db' could not be loaded"),
        (f"{sd}/boot", 1, "depends-on", "service 'web' could not be loaded"),
    ]


def test_a_failing_service_fails_alone(tmp_path):
    # After web fails, its dependency and unrelated services still load.
    sd = services(tmp_path / "sd", web="depends-on = db\nnice = x\n", db="", other="")
    loader = ServiceLoader([str(sd)], {})
    with pytest.raises(LoadFailure):
        loader.load("web")
    assert [s.name for s in loader.load("db")] == ["db"]
    assert [s.name for s in loader.load("other")] == ["other"]


# --- cycles -----------------------------------------------------------------------------------


def test_cycle_of_hard_dependencies(tmp_path):
    # a -> b -> c -> a: one error, on a's line naming b; the members do not blame each other.
    sd = services(tmp_path / "sd", a="depends-on = b\n", b="depends-on = c\n",
                  c="#\n#\ndepends-on = a\n")
    assert errors(sd, "a") == [(f"{sd}/a", 1, "depends-on", "dependency cycle: a -> b -> c -> a")]


def test_cycle_reported_once_and_dependents_fail(tmp_path):
    # dinit's check-cycle: boot needs a, b, c; b -> d -> e -> b.
    sd = services(tmp_path / "sd", boot="depends-on = a\ndepends-on = b\ndepends-on = c\n",
                  a="depends-on = b\n", b="depends-on = d\n", c="depends-on = b\n",
                  d="depends-on = e\n", e="depends-on = b  # cycle!\n")
    assert errors(sd, "boot") == [
        (f"{sd}/b", 1, "depends-on", "dependency cycle: b -> d -> e -> b"),
        (f"{sd}/boot", 2, "depends-on", "service 'b' could not be loaded"),
        (f"{sd}/a", 1, "depends-on", "service 'b' could not be loaded"),
        (f"{sd}/c", 1, "depends-on", "service 'b' could not be loaded"),
        (f"{sd}/boot", 1, "depends-on", "service 'a' could not be loaded"),
        (f"{sd}/boot", 3, "depends-on", "service 'c' could not be loaded"),
    ]


def test_cycle_through_before(tmp_path):
    # dinit's check-cycle2: c needs b, b needs a, and `c before a` closes the cycle.
    sd = services(tmp_path / "sd", c="depends-on = b\nbefore = a\n", b="depends-on = a\n", a="")
    assert errors(sd, "c") == [(f"{sd}/c", 1, "depends-on", "dependency cycle: c -> b -> a -> c")]


def test_cycle_through_after(tmp_path):
    # dinit's cycles/ac: two services each `after` the other.
    sd = services(tmp_path / "sd", ac="depends-on = ac1\ndepends-on = ac2\n",
                  ac1="type = internal\nafter = ac2\n", ac2="type = internal\nafter = ac1\n")
    assert errors(sd, "ac") == [
        (f"{sd}/ac1", 2, "after", "dependency cycle: ac1 -> ac2 -> ac1"),
        (f"{sd}/ac", 1, "depends-on", "service 'ac1' could not be loaded"),
        (f"{sd}/ac", 2, "depends-on", "service 'ac2' could not be loaded"),
    ]


def test_before_and_after_on_the_same_service(tmp_path):
    # dinit's cycles/ba: ba needs ba1 and ba2; ba2 is both before and after ba1.
    sd = services(tmp_path / "sd", ba="depends-on = ba1\ndepends-on = ba2\n",
                  ba2="before = ba1\nafter = ba1\n", ba1="")
    assert errors(sd, "ba") == [
        (f"{sd}/ba2", 2, "after", "dependency cycle: ba2 -> ba1 -> ba2"),
        (f"{sd}/ba", 1, "depends-on", "service 'ba1' could not be loaded"),
        (f"{sd}/ba", 2, "depends-on", "service 'ba2' could not be loaded"),
    ]


def test_ordering_with_itself(tmp_path):
    # `before = me` and `depends-on = me` are cycles of one.
    sd = services(tmp_path / "sd", me="type = internal\nbefore = me\n", self="depends-on = self\n")
    assert errors(sd, "me") == [(f"{sd}/me", 2, "before", "dependency cycle: me -> me")]
    assert errors(sd, "self") == [(f"{sd}/self", 1, "depends-on",
                                   "dependency cycle: self -> self")]


def test_cycle_closed_by_a_later_load(tmp_path):
    # `after` names a service not loaded yet; loading it with the reverse dependency is a cycle.
    sd = services(tmp_path / "sd", web="after = db\n", db="#\ndepends-on = web\n")
    loader = ServiceLoader([str(sd)], {})
    loaded = {s.name: s for s in loader.load("web")}
    with pytest.raises(LoadFailure) as caught:
        loader.load("db", loaded)
    assert [as_tuple(e) for e in caught.value.errors] == [
        (f"{sd}/db", 2, "depends-on", "dependency cycle: db -> web -> db")]


# --- warnings (lint) --------------------------------------------------------------------------


def test_lint_warnings_like_dinit_check(tmp_path):
    # Settings the type ignores, and a logfile with another log-type, are warnings.
    sd = services(tmp_path / "sd", group="""
        command = /bin/x
        working-dir = /
        run-as = 0
        options = skippable
    """, job="""
        type = scripted
        command = /bin/job
        smooth-recovery = yes
        log-type = buffer
        logfile = /tmp/job.log
    """)
    assert warnings(sd, ["group", "job"]) == [
        (f"{sd}/group", 1, "command", "ignored for an internal service"),
        (f"{sd}/group", 2, "working-dir", "ignored for an internal service"),
        (f"{sd}/group", 3, "run-as", "ignored for an internal service"),
        (f"{sd}/group", 4, "options", "option 'skippable' is ignored for an internal service"),
        (f"{sd}/job", 3, "smooth-recovery", "ignored for a scripted service"),
        (f"{sd}/job", 5, "logfile", "ignored: log-type is 'buffer', not 'file'"),
    ]


def test_warnings_do_not_stop_loading(tmp_path):
    # A service with warnings only loads, and load() keeps them in `warnings`.
    sd = services(tmp_path / "sd", group="command = /bin/x\n")
    loader = ServiceLoader([str(sd)], {})
    assert [s.name for s in loader.load("group")] == ["group"]
    assert [as_tuple(w) for w in loader.warnings] == [
        (f"{sd}/group", 1, "command", "ignored for an internal service")]


# --- nothing else ever escapes ----------------------------------------------------------------

_NAMES = sorted(SETTINGS) + ["termsignal", "colour", "@include", "@include-opt", "@meta", "@x"]
_PIECES = st.sampled_from(["$", "${", "}", ":-", "+", "$/", "$1", "$$", '"', "'", "\\", "#",
                           " ", "\t", "\n", "\\\n ", "a", "db", "-", "1", "0.5", "yes", "pipefd:",
                           "process", "scripted", "/tmp", ":", "=", "@", "é", "\x00", "\r"])
_LINES = st.builds(lambda name, op, parts: f"{name} {op} {''.join(parts)}",
                   st.sampled_from(_NAMES), st.sampled_from(["=", ":", "+=", ""]),
                   st.lists(_PIECES, max_size=8))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_LINES, max_size=8), st.binary(max_size=40))
def test_any_input_gives_specs_or_load_errors(tmp_path, lines, noise):
    # Whatever a description holds, loading returns specs or raises LoadFailure of one-line
    # LoadErrors; no other exception escapes.
    sd = tmp_path / "fuzz"
    sd.mkdir(exist_ok=True)
    (sd / "web").write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n" + noise)
    (sd / "db").write_text("")
    loader = ServiceLoader([str(sd)], {"HOME": "/h"})
    for name in ("web", "web@3"):
        try:
            specs = loader.load(name)
        except LoadFailure as caught:
            assert caught.errors and all(isinstance(e, LoadError) and "\n" not in str(e)
                                         for e in caught.errors)
        else:
            assert specs[0].name == name


# --- log rotation (zeroinit's addition) -------------------------------------------------------


@pytest.mark.parametrize("value", ["lots", "0", "-1", "1.5M", "10T", "K", "10 K", "9" * 20])
def test_bad_logfile_max_size(tmp_path, value):
    # Not a size of 1 byte or more: an error on its line, naming the value.
    sd = services(tmp_path / "sd", web=f"type = process\ncommand = x\nlogfile = /l\n"
                                       f"logfile-max-size = {value}\n")
    assert errors(sd, "web") == [(f"{sd}/web", 4, "logfile-max-size",
                                  "expected a size in bytes, 1 or more, with an optional K, M "
                                  f"or G, got '{value}'")]


def test_bad_logfile_keep(tmp_path):
    # logfile-keep is a whole number, 0 or more.
    sd = services(tmp_path / "sd", web="type = process\ncommand = x\nlogfile = /l\n"
                                       "logfile-max-size = 1M\nlogfile-keep = many\n")
    assert errors(sd, "web") == [(f"{sd}/web", 5, "logfile-keep",
                                  "expected a whole number, 0 or more, got 'many'")]


def test_log_rotation_settings_that_have_no_effect_are_warnings(tmp_path):
    # A max size without a logfile to rotate, a keep without a max size, either on an
    # internal service: each ignored, with a warning on its line.
    sd = services(tmp_path / "sd", buffered="""
        type = process
        command = x
        log-type = buffer
        logfile-max-size = 1M
    """, unrotated="""
        type = process
        command = x
        logfile = /l
        logfile-keep = 3
    """, group="logfile-max-size = 1M\n")
    assert warnings(sd, ["buffered", "unrotated", "group"]) == [
        (f"{sd}/buffered", 4, "logfile-max-size", "ignored: log-type is 'buffer', not 'file'"),
        (f"{sd}/unrotated", 4, "logfile-keep", "ignored without logfile-max-size"),
        (f"{sd}/group", 1, "logfile-max-size", "ignored for an internal service"),
    ]
