"""The service loader's happy paths: every setting, templates, pools, search order, `.d`
directories, env-files, substitution, load order, reload, check (actors/loader/walk.py)."""

from __future__ import annotations

import os
import pwd
import resource
import textwrap
from pathlib import Path

import pytest

from actors.loader.errors import LoadFailure
from actors.loader.walk import ServiceLoader
from actors.loader.spec import (
    LogType, ReadyKind, ReadyNotification, RestartPolicy, RunAs, ServiceSpec, ServiceType,
)


def services(directory: Path, **files: str) -> Path:
    """Write description files (name=text; '_' in a keyword stands for '-')."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name.replace("_", "-")).write_text(textwrap.dedent(text).lstrip("\n"))
    return directory


def load(directory: Path, name: str, environ: dict[str, str] | None = None
         ) -> dict[str, ServiceSpec]:
    specs = ServiceLoader([str(directory)], environ or {}).load(name)
    return {spec.name: spec for spec in specs}


def one(directory: Path, name: str, environ: dict[str, str] | None = None) -> ServiceSpec:
    return load(directory, name, environ)[name]


# --- defaults and each setting ----------------------------------------------------------------


def test_empty_file_is_an_internal_service_with_dinit_defaults(tmp_path):
    # An empty description is valid: internal, every default from dinit, dir as working dir.
    sd = services(tmp_path / "sd", boot="")
    spec = one(sd, "boot")
    assert spec == ServiceSpec(name="boot", working_dir=str(sd))
    assert spec.source.path == str(sd / "boot")
    assert spec.source.mtime_ns == os.stat(sd / "boot").st_mtime_ns


def test_every_value_setting_fills_its_field(tmp_path):
    # One description using every setting with a plain value.
    sd = services(tmp_path / "sd", web="""
        type = process
        command = /usr/bin/web --port 80
        stop-command = /usr/bin/web --stop
        working-dir = /srv
        run-as = 0
        term-signal = HUP
        restart = on-failure
        smooth-recovery = yes
        restart-delay = 1.5
        restart-limit-interval = 30
        restart-limit-count = 0
        start-timeout = 0,5
        stop-timeout = 0
        logfile = /var/log/web.log
        logfile-permissions = 640
        log-buffer-size = 1024
        ready-notification = pipefd:3
        chain-to = other
        options = signal-process-only always-chain
        nice = 5
        oom-score-adj = -500
        rlimit-nofile = 100:200
    """)
    spec = one(sd, "web")
    assert spec.type is ServiceType.PROCESS
    assert spec.command == ("/usr/bin/web", "--port", "80")
    assert spec.stop_command == ("/usr/bin/web", "--stop")
    assert spec.working_dir == "/srv"
    assert spec.run_as == RunAs(0, None, ())
    assert spec.term_signal == "SIGHUP"
    assert spec.restart is RestartPolicy.ON_FAILURE
    assert spec.smooth_recovery is True
    assert (spec.restart_delay, spec.restart_limit_interval, spec.restart_limit_count) == \
        (1.5, 30.0, 0)
    assert (spec.start_timeout, spec.stop_timeout) == (0.5, 0.0)
    assert (spec.logfile, spec.log_type, spec.logfile_mode) == \
        ("/var/log/web.log", LogType.FILE, 0o640)
    assert spec.log_buffer_size == 1024
    assert spec.ready_notification == ReadyNotification(ReadyKind.PIPEFD, fd=3)
    assert spec.chain_to == "other"
    assert spec.options == frozenset({"signal-process-only", "always-chain"})
    assert (spec.nice, spec.oom_score_adj) == (5, -500)
    assert spec.rlimits == (("nofile", 100, 200),)


def test_colon_and_equals_are_interchangeable(tmp_path):
    # dinit takes `=` for `:`-settings (its own tests write `depends-on = x`) and vice versa.
    sd = services(tmp_path / "sd", a="type: internal\ndepends-on: b\nwaits-for = c\n", b="", c="")
    spec = one(sd, "a")
    assert (spec.depends_on, spec.waits_for) == (("b",), ("c",))


def test_later_lines_replace_values_and_add_links(tmp_path):
    # A second `restart` replaces the first; a second `depends-on` adds a dependency.
    sd = services(tmp_path / "sd", a="restart = no\nrestart = yes\ndepends-on = b\n"
                                     "depends-on = c\ndepends-on = b\n", b="", c="")
    spec = one(sd, "a")
    assert spec.restart is RestartPolicy.YES
    assert spec.depends_on == ("b", "c")


def test_command_plus_equals_appends_and_equals_replaces(tmp_path):
    # `+=` appends arguments to command; a later `=` starts again.
    sd = services(tmp_path / "sd", a="""
        type = process
        command = /bin/old
        command = /bin/prog -a
        command += -b "c d"
        stop-command += /bin/stop
    """)
    spec = one(sd, "a")
    assert spec.command == ("/bin/prog", "-a", "-b", "c d")
    assert spec.stop_command == ("/bin/stop",)


@pytest.mark.parametrize("value, stored", [
    ("HUP", "SIGHUP"), ("SIGHUP", "SIGHUP"), ("usr1", "SIGUSR1"), ("9", "SIGKILL"),
    ("none", None), ("NONE", None),
])
def test_term_signal_spellings(tmp_path, value, stored):
    # A name with or without SIG, or a number, is stored as "SIGNAME"; none is None.
    sd = services(tmp_path / "sd", a=f"term-signal = {value}\n")
    assert one(sd, "a").term_signal == stored


def test_termsignal_is_an_alias(tmp_path):
    # dinit's old spelling `termsignal` still works.
    sd = services(tmp_path / "sd", a="termsignal = KILL\n")
    assert one(sd, "a").term_signal == "SIGKILL"


@pytest.mark.parametrize("value, policy", [
    ("yes", RestartPolicy.YES), ("true", RestartPolicy.YES), ("on-failure",
                                                              RestartPolicy.ON_FAILURE),
    ("no", RestartPolicy.NO), ("false", RestartPolicy.NO),
])
def test_restart_values(tmp_path, value, policy):
    # restart takes dinit's five spellings.
    sd = services(tmp_path / "sd", a=f"restart = {value}\n")
    assert one(sd, "a").restart is policy


def test_run_as_by_name_brings_groups(tmp_path):
    # run-as by name: uid, primary group, supplementary groups, the name.
    root = pwd.getpwuid(0)
    sd = services(tmp_path / "sd", a=f"type = process\ncommand = x\nrun-as = {root.pw_name}\n")
    run_as = one(sd, "a").run_as
    assert run_as == RunAs(0, root.pw_gid, tuple(os.getgrouplist(root.pw_name, root.pw_gid)),
                           root.pw_name)


def test_ready_notification_pipevar(tmp_path):
    # pipevar:NAME names the variable that receives the fd number.
    sd = services(tmp_path / "sd", a="type = process\ncommand = x\nready-notification = "
                                     "pipevar:READY_FD\n")
    assert one(sd, "a").ready_notification == ReadyNotification(ReadyKind.PIPEVAR,
                                                                var="READY_FD")


@pytest.mark.parametrize("value, soft, hard", [
    ("10:20", 10, 20), ("50", 50, 50), ("-", -1, -1), ("5:-", 5, -1),
])
def test_rlimit_forms(tmp_path, value, soft, hard):
    # soft:hard, one value for both, '-' for unlimited (-1).
    sd = services(tmp_path / "sd", a=f"type = process\ncommand = x\nrlimit-core = {value}\n")
    assert one(sd, "a").rlimits == (("core", soft, hard),)


def test_rlimit_omitted_side_keeps_the_current_limit(tmp_path):
    # An omitted side is left as it is: the supervisor's own limit, read at load time.
    current_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    current_hard = -1 if current_hard == resource.RLIM_INFINITY else current_hard
    sd = services(tmp_path / "sd", a="type = process\ncommand = x\nrlimit-nofile = 64:\n"
                                     "rlimit-addrspace = -\nrlimit-data = 1000:2000\n")
    assert one(sd, "a").rlimits == (("nofile", 64, current_hard), ("as", -1, -1),
                                    ("data", 1000, 2000))


def test_ready_notification_notify_and_its_watchdog(tmp_path):
    # notify (sd_notify) with a watchdog; a watchdog-timeout without notify is dropped with a
    # warning naming the line; the default is no watchdog.
    sd = services(tmp_path / "sd",
                  a="type = process\ncommand = x\nready-notification = notify\n"
                    "watchdog-timeout = 2.5\n",
                  b="type = process\ncommand = x\nwatchdog-timeout = 3\n",
                  c="type = process\ncommand = x\nready-notification = notify\n")
    assert one(sd, "a").ready_notification == ReadyNotification(ReadyKind.NOTIFY)
    assert one(sd, "a").watchdog_timeout == 2.5
    assert one(sd, "c").watchdog_timeout == 0.0
    loader = ServiceLoader([str(sd)], {})
    assert loader.load("b")[0].watchdog_timeout == 0.0
    assert [str(w) for w in loader.warnings] == [
        f"{sd}/b:3: watchdog-timeout: ignored: ready-notification is not 'notify'"]


def test_nice_out_of_range_is_clamped_with_a_warning(tmp_path):
    # dinit clamps nice to the system's range; zeroinit says so.
    sd = services(tmp_path / "sd", a="type = process\ncommand = x\nnice = 100\n")
    loader = ServiceLoader([str(sd)], {})
    assert loader.load("a")[0].nice == 19
    assert [str(w) for w in loader.warnings] == [f"{sd}/a:3: nice: 100 is out of range; using 19"]


def test_all_dinit_options_are_accepted_and_kept(tmp_path):
    # Every dinit option is accepted; the console ones are kept but warned about.
    sd = services(tmp_path / "sd", a="""
        type = scripted
        command = x
        options: start-interruptible skippable
        options = runs-on-console kill-all-on-stop
    """)
    loader = ServiceLoader([str(sd)], {})
    spec = loader.load("a")[0]
    assert spec.options == frozenset({"start-interruptible", "skippable", "runs-on-console",
                                      "kill-all-on-stop"})
    assert [str(w) for w in loader.warnings] == [
        f"{sd}/a:4: options: option 'runs-on-console' is ignored by zeroinit",
        f"{sd}/a:4: options: option 'kill-all-on-stop' is ignored by zeroinit",
    ]


def test_inittab_settings_are_ignored_with_a_warning(tmp_path):
    # inittab-id and inittab-line load, with a warning each.
    sd = services(tmp_path / "sd", a="type = process\ncommand = x\ninittab-id = 1\n"
                                     "inittab-line = tty1\n")
    loader = ServiceLoader([str(sd)], {})
    assert loader.load("a")[0].command == ("x",)
    assert [str(w) for w in loader.warnings] == [
        f"{sd}/a:3: setting 'inittab-id' is ignored by zeroinit",
        f"{sd}/a:4: setting 'inittab-line' is ignored by zeroinit",
    ]


# --- paths ------------------------------------------------------------------------------------


def test_relative_paths_resolve_from_the_description_directory(tmp_path):
    # working-dir and logfile, when relative, are under the description's directory.
    sd = services(tmp_path / "sd", a="type = process\ncommand = ./run\nworking-dir = data\n"
                                     "logfile = logs/a.log\n")
    spec = one(sd, "a")
    assert (spec.working_dir, spec.logfile) == (str(sd / "data"), str(sd / "logs/a.log"))
    assert spec.command == ("./run",)  # argv is not a path setting: left as written


def test_logfile_implies_log_type_file_unless_set_before(tmp_path):
    # logfile switches log-type from none to file (dinit); an explicit buffer wins.
    sd = services(tmp_path / "sd", a="type = process\ncommand = x\nlogfile = /l\n",
                  b="type = process\ncommand = x\nlog-type = buffer\nlog-buffer-size = 10\n")
    assert one(sd, "a").log_type is LogType.FILE
    assert (one(sd, "b").log_type, one(sd, "b").logfile) == (LogType.BUFFER, None)


# --- environment and substitution -------------------------------------------------------------


def test_substitution_from_the_environment_given(tmp_path):
    # command, working-dir and logfile are substituted from the loader's environ at load time.
    sd = services(tmp_path / "sd", a="""
        type = process
        command = /bin/app --home $HOME "--name=${NAME:-anon}" $/FLAGS $$HOME
        working-dir = ${HOME}/work
        logfile = $HOME/app.log
    """)
    spec = one(sd, "a", {"HOME": "/home/me", "FLAGS": "-v  -x"})
    assert spec.command == ("/bin/app", "--home", "/home/me", "--name=anon", "-v", "-x", "$HOME")
    assert (spec.working_dir, spec.logfile) == ("/home/me/work", "/home/me/app.log")


def test_env_file_sets_variables_and_wins_over_the_environment(tmp_path):
    # env-file (relative to the description) feeds substitution and the process, over environ.
    sd = services(tmp_path / "sd", a="type = process\ncommand = /bin/echo $GREETING $USER\n"
                                     "env-file = a.env\n")
    (sd / "a.env").write_text("# comment\nGREETING=hello world\n  USER = bob\n")
    spec = one(sd, "a", {"GREETING": "ignored", "USER": "root"})
    assert spec.command == ("/bin/echo", "hello world", " bob")
    assert spec.env == (("GREETING", "hello world"), ("USER", " bob"))
    assert (spec.env_clear, spec.env_unset) == (False, ())


def test_env_file_clear_unset_and_import(tmp_path):
    # !clear starts empty, !import takes variables back, !unset removes them.
    sd = services(tmp_path / "sd", a="type = process\ncommand = x $PATH $KEEP $GONE\n"
                                     "env-file = /dev/null\nenv-file = env\n",
                  b="type = process\ncommand = x $GONE\nenv-file = env-b\n")
    (sd / "env").write_text("!clear\nKEEP=1\n!import PATH MISSING\n")
    (sd / "env-b").write_text("!unset GONE\nNEW=2\n")
    environ = {"PATH": "/bin", "GONE": "old"}
    a, b = one(sd, "a", environ), one(sd, "b", environ)
    assert a.command == ("x", "/bin", "1", "")
    assert (a.env, a.env_clear, a.env_unset) == ((("KEEP", "1"), ("PATH", "/bin")), True, ())
    assert b.command == ("x", "")
    assert (b.env, b.env_clear, b.env_unset) == ((("NEW", "2"),), False, ("GONE",))


def test_dependency_names_use_preload_substitution_only(tmp_path):
    # depends-on sees environ and $1, not the env-file (dinit's pre-load substitution).
    sd = services(tmp_path / "sd", worker="env-file = env\ndepends-on = db-$DB\n"
                                          "waits-for = log-$1\n",
                  db_main="", log_7="")
    (sd / "env").write_text("DB=other\n")
    spec = load(sd, "worker@7", {"DB": "main"})["worker@7"]
    assert (spec.depends_on, spec.waits_for) == (("db-main",), ("log-7",))


def test_export_service_name_and_passwd_vars(tmp_path):
    # load-options export the service name and the user's passwd entry, for substitution and
    # for the process; the env-file still wins.
    root = pwd.getpwuid(os.geteuid())
    sd = services(tmp_path / "sd", a="""
        type = process
        command = /bin/x $DINIT_SERVICE $ZEROINIT_SERVICE $USER $HOME
        load-options = export-service-name sub-vars
        load-options: export-passwd-vars
        env-file = env
    """)
    (sd / "env").write_text("HOME=/elsewhere\n")
    spec = one(sd, "a", {"USER": "nobody-here"})
    assert spec.command == ("/bin/x", "a", "a", root.pw_name, "/elsewhere")
    assert dict(spec.env) == {
        "DINIT_SERVICE": "a", "ZEROINIT_SERVICE": "a", "USER": root.pw_name,
        "LOGNAME": root.pw_name, "HOME": "/elsewhere", "SHELL": root.pw_shell,
        "UID": str(root.pw_uid), "GID": str(root.pw_gid),
    }


def test_include_and_meta(tmp_path):
    # @include brings in a fragment; @include-opt of a missing file and @meta are skipped.
    sd = services(tmp_path / "sd", a="@meta enable-via boot\ntype = process\n"
                                     "@include common/proc\n@include-opt nothing-here\n")
    services(sd / "common", proc="command = /bin/true\nrestart = no\n")
    spec = one(sd, "a")
    assert (spec.command, spec.restart) == (("/bin/true",), RestartPolicy.NO)


# --- templates, pools, search order -----------------------------------------------------------


def test_template_instance_reads_the_base_file_with_its_argument(tmp_path):
    # worker@3 is the file `worker` with $1 = 3 and template_arg "3".
    sd = services(tmp_path / "sd", worker="type = process\ncommand = /bin/w --id $1\n")
    spec = one(sd, "worker@3")
    assert (spec.name, spec.command, spec.template_arg) == \
        ("worker@3", ("/bin/w", "--id", "3"), "3")
    assert spec.source.path == str(sd / "worker")


def test_a_file_for_the_instance_wins_over_the_template(tmp_path):
    # worker@special exists as its own file in any directory: it is used, with $1 set.
    first = services(tmp_path / "one", worker="type = process\ncommand = /bin/generic\n")
    second = services(tmp_path / "two", worker_special="")
    (second / "worker-special").rename(second / "worker@special")
    specs = ServiceLoader([str(first), str(second)], {}).load("worker@special")
    assert specs[0].source.path == str(second / "worker@special")
    assert (specs[0].type, specs[0].template_arg) == (ServiceType.INTERNAL, "special")


def test_first_directory_holding_the_name_wins(tmp_path):
    # Directories are searched in order.
    first = services(tmp_path / "one", web="restart = no\n")
    second = services(tmp_path / "two", web="restart = yes\n", db="")
    loader = ServiceLoader([str(first), str(second)], {})
    assert loader.load("web")[0].restart is RestartPolicy.NO
    assert loader.load("db")[0].source.path == str(second / "db")


def test_instances_make_a_pool_and_its_instances(tmp_path):
    # instances = 3: an internal `pool` depending on pool@0..2, each read with its $1.
    sd = services(tmp_path / "sd", pool="""
        type = process
        command = /bin/worker $1
        instances = 3
        depends-on = db
    """, db="")
    specs = ServiceLoader([str(sd)], {}).load("pool")
    assert [s.name for s in specs] == ["pool", "pool@0", "db", "pool@1", "pool@2"]
    pool = specs[0]
    assert pool == ServiceSpec(name="pool", type=ServiceType.INTERNAL, instances=3,
                               depends_on=("pool@0", "pool@1", "pool@2"))
    assert pool.source.path == str(sd / "pool")
    instance = specs[3]
    assert (instance.command, instance.instances, instance.template_arg) == \
        (("/bin/worker", "1"), None, "1")
    assert instance.depends_on == ("db",)


def test_an_instance_of_a_pool_loads_alone(tmp_path):
    # Loading pool@7 directly loads that instance only; `instances` is ignored for it.
    sd = services(tmp_path / "sd", pool="type = process\ncommand = /bin/w $1\ninstances = 2\n")
    specs = ServiceLoader([str(sd)], {}).load("pool@7")
    assert [(s.name, s.command, s.instances) for s in specs] == \
        [("pool@7", ("/bin/w", "7"), None)]


# --- dependency directories -------------------------------------------------------------------


def test_dependency_directories(tmp_path):
    # Each `.d` entry (not hidden) is a dependency of its type, relative to the file's dir.
    sd = services(tmp_path / "sd", boot="depends-on.d = boot.d\nwaits-for.d: wants\n"
                                        "depends-ms.d = ms\n", b="", a="", c="", m="")
    for directory, entries in (("boot.d", ["b", "a", ".hidden"]), ("wants", ["c"]),
                               ("ms", ["m"])):
        (sd / directory).mkdir()
        for entry in entries:
            (sd / directory / entry).symlink_to(f"../{entry}")
    specs = ServiceLoader([str(sd)], {}).load("boot")
    boot = specs[0]
    assert (boot.depends_on, boot.waits_for, boot.depends_ms) == (("a", "b"), ("c",), ("m",))
    assert [s.name for s in specs] == ["boot", "a", "b", "c", "m"]


def test_missing_service_in_a_dependency_directory_is_only_a_warning(tmp_path):
    # dinit: a `.d` entry naming no service is skipped (a warning), and so is an unreadable dir.
    sd = services(tmp_path / "sd", boot="waits-for.d = wants\ndepends-on.d = absent.d\n", a="")
    (sd / "wants").mkdir()
    (sd / "wants" / "a").write_text("")
    (sd / "wants" / "ghost").write_text("")
    loader = ServiceLoader([str(sd)], {})
    assert loader.load("boot")[0].waits_for == ("a",)
    assert [str(w) for w in loader.warnings] == [
        f"{sd}/boot:1: waits-for.d: ignoring 'ghost': service not found",
        f"{sd}/boot:2: depends-on.d: cannot read directory {sd}/absent.d: "
        "No such file or directory",
    ]


# --- load order and what loads ----------------------------------------------------------------


def test_load_begin_order_puts_a_service_before_what_it_pulled_in(tmp_path):
    # Depth first, in declaration order, like dinit's `list`.
    sd = services(tmp_path / "sd", boot="depends-on = web\nwaits-for = log\n",
                  web="depends-on = db\ndepends-ms = cache\n", db="depends-on = disk\n",
                  disk="", cache="waits-for = disk\n", log="")
    specs = ServiceLoader([str(sd)], {}).load("boot")
    assert [s.name for s in specs] == ["boot", "web", "db", "disk", "cache", "log"]


def test_ordering_links_and_chain_to_load_nothing(tmp_path):
    # before, after and chain-to name services without loading them (they need not exist).
    sd = services(tmp_path / "sd", a="before = x\nafter = y\nchain-to = z\n")
    specs = ServiceLoader([str(sd)], {}).load("a")
    assert [(s.name, s.before, s.after, s.chain_to) for s in specs] == \
        [("a", ("x",), ("y",), "z")]


def test_already_loaded_services_are_not_read_again(tmp_path):
    # Only what is not in `loaded` comes back; a loaded dependency is not re-read.
    sd = services(tmp_path / "sd", web="depends-on = db\n", db="")
    loader = ServiceLoader([str(sd)], {})
    db = loader.load("db")
    (sd / "db").write_text("this would not parse\n")
    assert [s.name for s in loader.load("web", {"db": db[0]})] == ["web"]
    assert loader.load("db", {"db": db[0]}) == []


def test_a_chain_of_ten_thousand_loads(tmp_path):
    # Loading is iterative: a 10,000-long depends-on chain loads, in order.
    sd = tmp_path / "sd"
    sd.mkdir()
    for i in range(10_000):
        (sd / f"s{i}").write_text(f"depends-on = s{i + 1}\n" if i < 9_999 else "")
    specs = ServiceLoader([str(sd)], {}).load("s0")
    assert [s.name for s in specs] == [f"s{i}" for i in range(10_000)]


def test_pseudo_cycle_is_not_a_cycle(tmp_path):
    # dinit's igr test pseudo-cycle: boot -> middle -> service with `service before = boot`.
    sd = services(tmp_path / "sd", boot="depends-on = middle\n", middle="depends-on = service\n",
                  service="type = process\ncommand = /bin/true\nbefore = boot\n")
    assert list(load(sd, "boot")) == ["boot", "middle", "service"]


def test_before_and_after_agreeing_with_dependencies_are_fine(tmp_path):
    # a depends on b; `a after b` and `b before a` say the same: no cycle.
    sd = services(tmp_path / "sd", a="depends-on = b\nafter = b\n", b="before = a\n")
    assert list(load(sd, "a")) == ["a", "b"]


# --- reload -----------------------------------------------------------------------------------


def test_reload_reads_the_file_again_and_loads_new_dependencies(tmp_path):
    # reload re-reads a loaded service and loads only its new dependencies.
    sd = services(tmp_path / "sd", web="depends-on = db\n", db="", cache="")
    loader = ServiceLoader([str(sd)], {})
    loaded = {s.name: s for s in loader.load("web")}
    (sd / "web").write_text("depends-on = db\ndepends-on = cache\nrestart = no\n")
    specs = loader.reload("web", loaded)
    assert [s.name for s in specs] == ["web", "cache"]
    assert (specs[0].depends_on, specs[0].restart) == (("db", "cache"), RestartPolicy.NO)


def test_reload_checks_cycles_with_the_new_spec_in_place_of_the_old(tmp_path):
    # A cycle only through the old spec is gone; one through the new spec is refused.
    sd = services(tmp_path / "sd", a="depends-on = b\n", b="")
    loader = ServiceLoader([str(sd)], {})
    loaded = {s.name: s for s in loader.load("a")}
    (sd / "a").write_text("")
    loaded["a"] = loader.reload("a", loaded)[0]
    (sd / "b").write_text("depends-on = a\n")
    loaded["b"] = loader.reload("b", loaded)[0]  # a no longer depends on b
    (sd / "a").write_text("after = b\n")
    with pytest.raises(LoadFailure) as caught:
        loader.reload("a", loaded)
    assert [str(e) for e in caught.value.errors] == \
        [f"{sd}/a:1: after: dependency cycle: a -> b -> a"]


# --- check and available ----------------------------------------------------------------------


def test_check_loads_everything_and_collects_every_problem(tmp_path):
    # check() with no names: every service; good ones returned, each problem once.
    sd = services(tmp_path / "sd", good="depends-on = shared\n", shared="",
                  bad="restart = maybe\n", user="depends-on = bad\ndepends-on = shared\n",
                  lint="command = /bin/x\n")
    specs, problems = ServiceLoader([str(sd)], {}).check()
    assert sorted(s.name for s in specs) == ["good", "lint", "shared"]
    assert [(p.severity, str(p)) for p in problems] == [
        ("error", f"{sd}/bad:1: restart: expected yes, true, on-failure, no or false, "
                  "got 'maybe'"),
        ("error", f"{sd}/user:1: depends-on: service 'bad' could not be loaded"),
        ("warning", f"{sd}/lint:1: command: ignored for an internal service"),
    ]


def test_check_named_services_only(tmp_path):
    # check(names) loads those and their dependencies only.
    sd = services(tmp_path / "sd", a="depends-on = b\n", b="", c="restart = maybe\n")
    specs, problems = ServiceLoader([str(sd)], {}).check(["a"])
    assert ([s.name for s in specs], problems) == (["a", "b"], [])


def test_available_lists_files_and_directories(tmp_path):
    # Files and cinit directories; not hidden entries, invalid names or profile variants.
    sd = services(tmp_path / "sd", web="", boot="")
    (sd / ".hidden").write_text("")
    (sd / "bad name").write_text("")
    (sd / "group").mkdir()
    (sd / "boot.d").mkdir()      # a dinit `.d` directory beside `boot`
    (sd / "net.wifi").mkdir()    # a profile variant beside `net`
    (sd / "net").mkdir()
    other = services(tmp_path / "other", extra="", web="")
    loader = ServiceLoader([str(sd), str(other)], {})
    assert loader.available() == ["boot", "extra", "group", "net", "web"]


# --- log rotation (zeroinit's addition) -------------------------------------------------------


def test_log_rotation_is_off_by_default_and_keeps_five(tmp_path):
    # No logfile-max-size: never rotated; logfile-keep defaults to 5 (the contract).
    sd = services(tmp_path / "sd", web="type = process\ncommand = x\nlogfile = /l\n")
    spec = one(sd, "web")
    assert (spec.logfile_max_size, spec.logfile_keep) == (None, 5)


@pytest.mark.parametrize("written, size", [
    ("512", 512), ("10K", 10 * 1024), ("10k", 10 * 1024), ("3M", 3 << 20), ("2G", 2 << 30),
    ("50MB", 50 << 20), ("1", 1),
])
def test_logfile_max_size_takes_binary_suffixes(tmp_path, written, size):
    # Bytes, or K, M, G in 1024s (supervisord's "50MB" means the same).
    sd = services(tmp_path / "sd", web=f"type = process\ncommand = x\nlogfile = /l\n"
                                       f"logfile-max-size = {written}\nlogfile-keep = 0\n")
    spec = one(sd, "web")
    assert (spec.logfile_max_size, spec.logfile_keep) == (size, 0)


def test_log_rotation_settings_reach_the_launch_description(tmp_path):
    # The root's spawn order carries them to the watcher, which does the rotating.
    from actors.engine.model import Role
    from actors.root.launch import launch_for

    sd = services(tmp_path / "sd", web="type = process\ncommand = x\nlogfile = /l\n"
                                       "logfile-max-size = 1M\nlogfile-keep = 9\n")
    log = launch_for(one(sd, "web"), Role.START)["log"]
    assert (log["type"], log["file"], log["max_size"], log["keep"]) == ("file", "/l", 1 << 20, 9)
