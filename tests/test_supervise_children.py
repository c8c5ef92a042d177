"""A watcher's processes (actors/supervise/children.py, their output in output.py) with real
short commands: spawning and its failures in words, the output buffer and its size limit,
readiness, signals to the process or its group, and the collection of exits. Every wait is
on a file descriptor (a pidfd, a pipe) with a deadline; every process started here is killed
and reaped at the end.
"""

from __future__ import annotations

import os
import select

import pytest

from actors.supervise.children import ServiceProcesses, SpawnError
from actors.supervise.output import OutputBuffer

WAIT = 10.0


def readable(fd: int, timeout: float = WAIT) -> None:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    assert poller.poll(timeout * 1000), f"fd {fd} did not become readable within {timeout} s"


def sh(script: str, **launch) -> dict:
    return {"argv": ["/bin/sh", "-c", script], **launch}


@pytest.fixture
def make():
    """ServiceProcesses whose leftovers are killed and reaped after the test."""
    made: list[ServiceProcesses] = []

    def build(log=None, seed=b""):
        procs = ServiceProcesses(log or {"type": "none"}, seed)
        made.append(procs)
        return procs

    yield build
    for procs in made:
        procs.kill()
        for child in list(procs.children.values()):
            readable(child.pidfd)
        procs.reap()


def wait_exit(procs: ServiceProcesses, role: str = "start"):
    """The exit of `role`'s command, collected once its pidfd says it ended."""
    readable(procs.children[role].pidfd)
    [exit] = procs.reap()
    return exit


def read_all(procs: ServiceProcesses, expected: bytes) -> None:
    """Read output until `expected` has been seen (the pipe stays open for the next launch)."""
    seen = b""
    while expected not in seen:
        readable(procs.out.fd)
        seen += procs.out.read()


# ---------------------------------------------------------------------------------------------
# The output buffer
# ---------------------------------------------------------------------------------------------


def test_output_buffer_keeps_the_last_size_bytes():
    # A ring: new output pushes the oldest out, and the buffer says it lost some.
    buf = OutputBuffer(8)
    buf.append(b"1234")
    assert buf.snapshot() == b"1234" and not buf.truncated
    buf.append(b"56789")
    assert buf.snapshot() == b"23456789" and buf.truncated
    buf.clear()
    assert buf.snapshot() == b"" and not buf.truncated


def test_output_buffer_seed_is_cut_to_size_and_size_zero_keeps_nothing():
    # A new watcher starts with its predecessor's output, no more than its own size.
    assert OutputBuffer(4, b"abcdef").snapshot() == b"cdef"
    assert OutputBuffer(4, b"abcdef").truncated
    assert not OutputBuffer(10, b"abc").truncated
    empty = OutputBuffer(0, b"abc")
    empty.append(b"more")
    assert empty.snapshot() == b""


# ---------------------------------------------------------------------------------------------
# Spawning, output and exits
# ---------------------------------------------------------------------------------------------


def test_spawned_command_output_is_captured_and_its_exit_collected(make):
    # stdout and stderr land in the buffer; the exit code, pid and role come back from reap.
    procs = make({"type": "buffer", "size": 1024})
    child = procs.spawn("start", sh("echo out; echo err >&2; exit 3", log={"type": "buffer"}))
    exit = wait_exit(procs)
    assert (exit.role, exit.pid, exit.code, exit.signal) == ("start", child.pid, 3, None)
    read_all(procs, b"err\n")
    assert procs.out.buffer.snapshot() == b"out\nerr\n"
    assert procs.children == {} and procs.last_exit is exit
    assert procs.reap() == []  # nothing more to collect


def test_output_beyond_the_buffer_size_keeps_the_end(make):
    # log-buffer-size 16: of 100 bytes of output, the last 16, marked truncated.
    procs = make({"type": "buffer", "size": 16})
    procs.spawn("start", sh("printf '%0100d' 7", log={"type": "buffer"}))
    wait_exit(procs)
    read_all(procs, b"7")
    assert procs.out.buffer.snapshot() == b"0" * 15 + b"7"
    assert procs.out.buffer.truncated


def test_output_pipe_is_kept_for_the_next_launch(make):
    # A restarted command writes into the same buffer, after the first one's output.
    procs = make({"type": "buffer", "size": 1024}, seed=b"before\n")
    for word in ("one", "two"):
        procs.spawn("start", sh(f"echo {word}", log={"type": "buffer"}))
        wait_exit(procs)
        read_all(procs, word.encode())
    assert procs.out.buffer.snapshot() == b"before\none\ntwo\n"


def test_log_type_none_keeps_no_output_and_file_appends(make, tmp_path):
    # log-type none: no pipe at all; a logfile is appended to, with the given mode.
    procs = make()
    procs.spawn("start", sh("echo lost"))
    assert procs.out.fd is None
    wait_exit(procs)
    logfile = tmp_path / "svc.log"
    logfile.write_text("old\n")
    procs.spawn("start", sh("echo new", log={"type": "file", "file": str(logfile),
                                             "mode": 0o640}))
    wait_exit(procs)
    assert logfile.read_text() == "old\nnew\n"


def test_environment_and_working_directory_are_the_launchs(make, tmp_path):
    # env_clear starts from nothing; env adds; cwd is where the command runs.
    procs = make({"type": "buffer", "size": 1024})
    procs.spawn("start", {"argv": ["/bin/sh", "-c", 'echo "$A|$HOME|$(pwd)"'],
                          "env_clear": True, "env": {"A": "1", "PATH": "/bin:/usr/bin"},
                          "cwd": str(tmp_path), "log": {"type": "buffer"}})
    wait_exit(procs)
    read_all(procs, b"\n")
    assert procs.out.buffer.snapshot() == f"1||{tmp_path}\n".encode()


def test_exit_by_a_signal_is_named(make):
    procs = make()
    procs.spawn("start", sh("kill -9 $$"))
    exit = wait_exit(procs)
    assert (exit.code, exit.signal) == (None, "SIGKILL")
    assert exit.as_json() == {"code": None, "signal": "SIGKILL"}


@pytest.mark.parametrize("launch, says", [
    ({"argv": []}, "no command to run"),
    ({"argv": ["/nonexistent/prog"]}, "/nonexistent/prog: No such file or directory"),
    ({"argv": ["no-such-program-here"]}, "no-such-program-here: No such file or directory"),
    ({"argv": ["/bin/true"], "cwd": "/nonexistent/dir"},
     "working directory /nonexistent/dir: No such file or directory"),
    ({"argv": ["/bin/true"], "log": {"type": "file", "file": "/nonexistent/dir/log"}},
     "cannot open logfile /nonexistent/dir/log: No such file or directory"),
])
def test_spawn_failure_says_why_in_words(make, launch, says):
    # A command that cannot start is a SpawnError naming what and why; nothing is left running.
    procs = make()
    with pytest.raises(SpawnError) as caught:
        procs.spawn("start", launch)
    assert str(caught.value) == says
    assert procs.children == {}


def test_a_second_command_of_the_same_role_is_refused_while_one_runs(make):
    procs = make()
    procs.spawn("start", sh("exec sleep 1000"))
    with pytest.raises(SpawnError, match="a start command is already running"):
        procs.spawn("start", sh("true"))
    stop = procs.spawn("stop", sh("exit 0"))  # another role may run beside it
    assert wait_exit(procs, "stop").pid == stop.pid
    assert set(procs.children) == {"start"}


# ---------------------------------------------------------------------------------------------
# Signals, and the kill of everything
# ---------------------------------------------------------------------------------------------


def test_signal_to_the_group_reaches_the_commands_children(make):
    # A group signal ends the command and what it started; `group=False` only the command.
    procs = make({"type": "buffer", "size": 1024})
    procs.spawn("start", sh("sleep 1000 & echo $!; wait", log={"type": "buffer"}))
    read_all(procs, b"\n")
    grandchild = int(procs.out.buffer.snapshot())
    grandchild_fd = os.pidfd_open(grandchild)
    try:
        procs.signal("SIGTERM", group=True)
        assert wait_exit(procs).signal == "SIGTERM"
        readable(grandchild_fd)  # it ended too (reaped by its parent's reaper, or left a zombie)
    finally:
        os.close(grandchild_fd)


def test_signal_to_the_process_only_leaves_its_group(make):
    procs = make({"type": "buffer", "size": 1024})
    procs.spawn("start", sh("trap 'exit 5' USR1; sleep 1000 & echo $!; wait",
                            log={"type": "buffer"}))
    read_all(procs, b"\n")
    grandchild = int(procs.out.buffer.snapshot())
    try:
        procs.signal("SIGUSR1", group=False)
        assert wait_exit(procs).code == 5
        os.kill(grandchild, 0)  # still there: the signal was for the command alone
    finally:
        os.kill(grandchild, 9)


def test_kill_ends_every_command_of_the_service(make):
    procs = make()
    procs.spawn("start", sh("exec sleep 1000"))
    procs.spawn("stop", sh("exec sleep 1000"))
    procs.kill()
    for role in ("start", "stop"):
        readable(procs.children[role].pidfd)
    exits = sorted((e.role, e.signal) for e in procs.reap())
    assert exits == [("start", "SIGKILL"), ("stop", "SIGKILL")]


# ---------------------------------------------------------------------------------------------
# Readiness
# ---------------------------------------------------------------------------------------------

READY_ON_20 = {"kind": "pipefd", "fd": 20, "var": None}  # 3-9 belong to pytest in here


def test_readiness_pipe_says_ready_once_then_closed_is_not_a_failure(make):
    # The first data is "ready"; more data, and the close after it, say nothing.
    procs = make()
    procs.spawn("start", {"argv": ["/bin/bash", "-c", "echo a >&20; echo b >&20; exec 20>&-; "
                                                      "exec sleep 1000"],
                          "ready": READY_ON_20})
    states = []
    while procs.ready_fd is not None:
        readable(procs.ready_fd)
        states.append(procs.read_ready())
    assert states[0] == "ready" and set(states[1:]) <= {None}
    assert procs.ready_seen


def test_readiness_fd_that_the_pipe_itself_got_is_passed_on(make):
    # The readiness fd asked for may be the very number the pipe's write end gets (the next
    # free one, here): it must still reach the command (a dup2 onto itself would have left
    # it close-on-exec, and the service could never say it is ready).
    procs = make()
    read_end, write_end = os.pipe()
    os.close(read_end)
    os.close(write_end)
    target = write_end
    if target < 10:
        pytest.skip("this process's next free descriptors are reserved ones")
    procs.spawn("start", {"argv": ["/bin/bash", "-c", f"echo ok >&{target}; exec sleep 1000"],
                          "ready": {"kind": "pipefd", "fd": target, "var": None}})
    readable(procs.ready_fd)
    assert procs.read_ready() == "ready"


def test_readiness_pipe_closed_without_a_word_is_closed(make):
    procs = make()
    procs.spawn("start", {"argv": ["/bin/bash", "-c", "exec 20>&-; exec sleep 1000"],
                          "ready": READY_ON_20})
    readable(procs.ready_fd)
    assert procs.read_ready() == "closed"
    assert procs.ready_fd is None and not procs.ready_seen
    assert "start" in procs.children  # the process itself goes on


def test_exit_before_readiness_closes_the_pipe_and_fds_follow(make):
    # fds() lists what the watcher polls; once the command is reaped, its pidfd and its
    # readiness pipe are gone from it.
    procs = make()
    child = procs.spawn("start", {"argv": ["/bin/sh", "-c", "exit 0"], "ready": READY_ON_20})
    assert set(procs.fds()) == {child.pidfd, procs.ready_fd}
    readable(child.pidfd)
    procs.reap()
    assert procs.fds() == [] and procs.ready_fd is None
