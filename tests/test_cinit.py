"""cinit-style service directories, loaded into the same ServiceSpec (actors/loader/cinit_dir.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from actors.loader.errors import LoadFailure
from actors.loader.walk import ServiceLoader
from actors.loader.spec import RestartPolicy, ServiceSpec, ServiceType


def cinit(root: Path, name: str, run: str | None = "#!/bin/sh\nexec sleep 1000\n",
          params: str | None = None, needs: tuple[str, ...] = (), wants: tuple[str, ...] = (),
          flags: tuple[str, ...] = (), env: str | None = None) -> Path:
    """Make a cinit service directory root/name."""
    directory = root / name
    directory.mkdir(parents=True)
    if run is not None:
        (directory / "run").write_text(run)
        (directory / "run").chmod(0o755)
    if params is not None:
        (directory / "params").write_text(params)
    for entry, names in (("needs", needs), ("wants", wants)):
        if names:
            (directory / entry).mkdir()
            for other in names:
                (directory / entry / other).symlink_to(f"../../{other}")
    for flag in flags:
        (directory / flag).write_text("")
    if env is not None:
        (directory / "env").write_text(env)
    return directory


def load(root: Path, name: str, profile: str | None = None) -> dict[str, ServiceSpec]:
    return {s.name: s for s in ServiceLoader([str(root)], {}, profile).load(name)}


def errors(root: Path, name: str) -> list[tuple]:
    with pytest.raises(LoadFailure) as caught:
        ServiceLoader([str(root)], {}).load(name)
    return [(e.file, e.line, e.setting, e.message) for e in caught.value.errors if e.is_error]


def test_respawn_is_a_restarted_process_with_params(tmp_path):
    # run + params (one argument per line) + respawn: a process with restart = yes.
    d = cinit(tmp_path, "web", params="--port\n8080\nhello world\n", flags=("respawn",))
    spec = load(tmp_path, "web")["web"]
    assert spec == ServiceSpec(name="web", type=ServiceType.PROCESS,
                               command=(str(d / "run"), "--port", "8080", "hello world"),
                               working_dir=str(d), restart=RestartPolicy.YES)
    assert spec.source.path == str(d)


def test_wait_is_a_one_shot(tmp_path):
    # wait: a scripted service, started once run exits 0; not restarted.
    cinit(tmp_path, "mount", flags=("wait",))
    spec = load(tmp_path, "mount")["mount"]
    assert (spec.type, spec.restart) == (ServiceType.SCRIPTED, RestartPolicy.NO)


def test_plain_run_is_a_process_that_is_not_restarted(tmp_path):
    # Neither respawn nor wait: a process with restart = no.
    cinit(tmp_path, "once")
    spec = load(tmp_path, "once")["once"]
    assert (spec.type, spec.restart, spec.command[1:]) == \
        (ServiceType.PROCESS, RestartPolicy.NO, ())


def test_needs_and_wants_are_hard_and_soft_dependencies(tmp_path):
    # needs/ entries -> depends_on, wants/ entries -> waits_for; loaded in order.
    cinit(tmp_path, "db", flags=("respawn",))
    cinit(tmp_path, "log", flags=("respawn",))
    cinit(tmp_path, "cache", flags=("respawn",))
    cinit(tmp_path, "web", needs=("db", "cache"), wants=("log",), flags=("respawn",))
    specs = load(tmp_path, "web")
    assert (specs["web"].depends_on, specs["web"].waits_for) == (("cache", "db"), ("log",))
    assert list(specs) == ["web", "cache", "db", "log"]


def test_directory_without_run_is_a_group(tmp_path):
    # No run: an internal service grouping its needs.
    cinit(tmp_path, "a")
    cinit(tmp_path, "init", run=None, needs=("a",))
    spec = load(tmp_path, "init")["init"]
    assert (spec.type, spec.command, spec.depends_on) == (ServiceType.INTERNAL, (), ("a",))


def test_run_may_be_a_symlink_to_an_executable(tmp_path):
    # run -> /bin/true: the command is the link (exec follows it).
    d = cinit(tmp_path, "t", run=None)
    (d / "run").symlink_to("/bin/true")
    assert load(tmp_path, "t")["t"].command == (str(d / "run"),)


def test_env_file_in_the_directory(tmp_path):
    # env: NAME=VALUE lines for the process.
    cinit(tmp_path, "web", env="PORT=80\n# comment\nNAME=web one\n")
    assert load(tmp_path, "web")["web"].env == (("PORT", "80"), ("NAME", "web one"))


def test_profile_directory_replaces_the_plain_one(tmp_path):
    # NAME.PROFILE is used instead of NAME when the loader's profile is PROFILE.
    cinit(tmp_path, "net", params="plain\n")
    variant = cinit(tmp_path, "net.wifi", params="wifi\n")
    assert load(tmp_path, "net")["net"].command[1:] == ("plain",)
    spec = load(tmp_path, "net", profile="wifi")["net"]
    assert (spec.name, spec.command, spec.source.path) == \
        ("net", (str(variant / "run"), "wifi"), str(variant))
    assert ServiceLoader([str(tmp_path)], {}, "wifi").available() == ["net"]


def test_dinit_files_and_cinit_directories_mix(tmp_path):
    # A dinit file may depend on a cinit directory and the other way round.
    (tmp_path / "boot").write_text("depends-on = web\n")
    cinit(tmp_path, "web", needs=("db",), flags=("respawn",))
    (tmp_path / "db").write_text("type = process\ncommand = /bin/db\n")
    specs = load(tmp_path, "boot")
    assert [(n, s.type) for n, s in specs.items()] == [
        ("boot", ServiceType.INTERNAL), ("web", ServiceType.PROCESS), ("db", ServiceType.PROCESS)]
    assert ServiceLoader([str(tmp_path)], {}).available() == ["boot", "db", "web"]


# --- bad input --------------------------------------------------------------------------------


def test_run_not_executable(tmp_path):
    # run exists but cannot be executed.
    d = cinit(tmp_path, "web")
    (d / "run").chmod(0o644)
    if os.access(d / "run", os.X_OK):
        pytest.skip("root can execute anything with an x bit; this file has none, still")
    assert errors(tmp_path, "web") == [(str(d / "run"), None, None, "not executable")]


def test_run_is_a_directory(tmp_path):
    # run must be a file (or a link to one).
    d = cinit(tmp_path, "web", run=None)
    (d / "run").mkdir()
    assert errors(tmp_path, "web") == [(str(d / "run"), None, None,
                                        "not a file (or a symlink to one)")]


def test_respawn_and_wait_together(tmp_path):
    # Both flags: the service cannot be both.
    d = cinit(tmp_path, "web", flags=("respawn", "wait"))
    assert errors(tmp_path, "web") == [(str(d), None, None,
                                        "both 'respawn' and 'wait' are present; keep one")]


def test_needs_a_missing_service(tmp_path):
    # A needs/ entry naming no service: an error naming the directory and the entry.
    d = cinit(tmp_path, "web", needs=("db",))
    assert errors(tmp_path, "web") == [(str(d), None, "needs", "service 'db' not found")]


def test_invalid_name_in_wants(tmp_path):
    # An entry whose name is not a service name.
    d = cinit(tmp_path, "web")
    (d / "wants").mkdir()
    (d / "wants" / "bad name").write_text("")
    assert errors(tmp_path, "web") == [(str(d / "wants" / "bad name"), None, None,
                                        "invalid service name 'bad name'")]


def test_params_not_utf8(tmp_path):
    # params that is not text: the error names the file and line.
    d = cinit(tmp_path, "web")
    (d / "params").write_bytes(b"ok\n\xff\n")
    assert errors(tmp_path, "web") == [(str(d / "params"), 2, None, "not valid UTF-8 text")]


def test_params_without_run_is_a_warning(tmp_path):
    # params in a group has nothing to apply to.
    d = cinit(tmp_path, "group", run=None, params="x\n")
    loader = ServiceLoader([str(tmp_path)], {})
    assert loader.load("group")[0].type is ServiceType.INTERNAL
    assert [str(w) for w in loader.warnings] == [f"{d}/params: ignored: there is no 'run'"]
