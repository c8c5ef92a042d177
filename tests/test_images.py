"""The container files: Docker isn't available here, so the Dockerfile and
docker-compose.test.yml are checked for what they must say, and the image's own service set
runs for real as PID 1 of a PID namespace with the image's entrypoint arguments."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.supervisor import ZEROCTL, ZEROINIT

ROOT = Path(__file__).resolve().parent.parent
INSTRUCTIONS = {"FROM", "COPY", "RUN", "ENV", "ENTRYPOINT", "CMD", "WORKDIR", "ARG", "LABEL",
                "EXPOSE", "USER", "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "ADD"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) per instruction, continuation lines joined."""
    instructions, pending = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip("\\").strip() + " "
        if line.endswith("\\"):
            continue
        word, _, rest = pending.strip().partition(" ")
        instructions.append((word, rest.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def stages() -> dict[str, list[tuple[str, str]]]:
    result: dict[str, list[tuple[str, str]]] = {}
    current = None
    for word, rest in dockerfile_instructions():
        if word == "FROM":
            current = rest.split(" AS ")[-1].strip() if " AS " in rest else rest
            result[current] = []
        result[current].append((word, rest))
    return result


def test_dockerfile_is_well_formed():
    # Every line is a known instruction; JSON-form arguments parse; COPY sources exist.
    for word, rest in dockerfile_instructions():
        assert word in INSTRUCTIONS, word
        if word in ("ENTRYPOINT", "CMD") and rest.startswith("["):
            assert isinstance(json.loads(rest), list)
        if word == "COPY":
            for source in shlex.split(rest)[:-1]:
                assert (ROOT / source).exists(), f"COPY source {source} is missing"


def test_runtime_stage_is_the_contract_example():
    # Slim Python 3.11, zeroinit in /opt/zeroinit, services from /etc/zeroinit.d, and
    # ENTRYPOINT ["/opt/zeroinit/bin/zeroinit", "--"].
    runtime = stages()["runtime"]
    assert runtime[0] == ("FROM", "python:3.11-slim AS runtime")
    assert any(w == "RUN" and "python -m venv /opt/zeroinit" in r for w, r in runtime)
    assert ("COPY", "config/container/ /etc/zeroinit.d/") in runtime
    entrypoint = [json.loads(r) for w, r in runtime if w == "ENTRYPOINT"]
    assert entrypoint == [["/opt/zeroinit/bin/zeroinit", "--"]]
    assert [w for w, _ in runtime].count("CMD") == 1


def test_compose_runs_the_test_stage_as_root():
    # docker-compose.test.yml (JSON, which is YAML too) builds the test stage and runs pytest
    # as root with the privileges the namespace tests need.
    compose = json.loads((ROOT / "docker-compose.test.yml").read_text())
    tests = compose["services"]["tests"]
    assert tests["build"] == {"context": ".", "dockerfile": "Dockerfile", "target": "test"}
    assert tests["user"] == "root" and tests["privileged"] is True
    assert tests["command"][-3:] == ["pytest", "-n", "auto"]
    assert "test" in stages()


def test_image_services_are_valid():
    # The services the image copies to /etc/zeroinit.d load without an error.
    result = subprocess.run([*ZEROCTL, "check", "-d", str(ROOT / "config/container")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4 services checked: no errors."


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a PID namespace")
def test_image_example_runs_as_pid1(tmp_path):
    # The image's entrypoint and services, as PID 1: db and web start before main; main's
    # exit code (3 here) is the container's.
    env = {**os.environ, "DEMO_BIN": str(ROOT / "config/bin"), "DEMO_DIR": str(tmp_path)}
    result = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", *ZEROINIT, "-d",
         str(ROOT / "config/container"), "-s", str(tmp_path / "control"), "--",
         "sh", "-c", "exit 3"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 3, result.stderr
    out = result.stdout
    assert out.index("[  OK  ] db") < out.index("[  OK  ] web") < out.index("[  OK  ] main")
    assert out.index("[STOPPD] web") < out.index("[STOPPD] db")
