"""The lifecycle's two axes: a service's process `Phase` (what its commands are doing) and the
`Input`s that can reach it. `lifecycle.py` holds the table of what each input does in each
phase; this module only names them, so the record can hold a phase without importing rules.

The phase is about processes only; the service's dependency state (STARTING, STARTED, ...) is
the graph's and lives beside it in the record. A handler may read both: a daemon that exits
while RUNNING failed to start if the service was STARTING, and crashed if it was STARTED.
"""

from __future__ import annotations

import enum


class Phase(enum.Enum):
    """What a service's commands are doing. Internal services are always IDLE."""

    IDLE = "idle"                    # no command runs and none is asked for
    DELAYED = "delayed"              # an automatic restart waits out restart-delay
    LAUNCHING = "launching"          # the start command was asked for; its exec not reported yet
    RUNNING = "running"              # the start command runs (a daemon, or a start script)
    INTERRUPTING = "interrupting"    # scripted: the start script got SIGINT, to cancel the start
    TERMINATING = "terminating"      # process: sent its stop signal; waiting for it to end
    STOP_LAUNCHING = "stop-launching"  # scripted: the stop command was asked for, not reported
    STOP_COMMAND = "stop-command"    # the stop command runs (a process's daemon still runs too)
    STOP_COMMAND_ONLY = "stop-command-only"  # process: the stop command runs; the daemon ended
    RECOVERY_DELAY = "recovery-delay"  # smooth recovery: the daemon died; dependents stay up
    RECOVERY_LAUNCHING = "recovery-launching"  # smooth recovery: the relaunch was asked for
    RECOVERING = "recovering"        # smooth recovery: relaunched, not ready yet


RECOVERY = frozenset({Phase.RECOVERY_DELAY, Phase.RECOVERY_LAUNCHING, Phase.RECOVERING})


class Input(enum.Enum):
    """What can happen to a service's processes."""

    # From the dependency rules.
    BRING_UP = "bring-up"            # its dependencies are up: start it
    BRING_DOWN = "bring-down"        # its dependents are down: stop it
    INTERRUPT = "interrupt"          # cancel a start under way (answers whether it is cancelled)
    # Reports from its watcher about the start command ...
    SPAWNED = "spawned"              # it executes (value: its pid)
    SPAWN_FAILED = "spawn-failed"    # it could not be executed (value: why)
    READY = "ready"                  # it wrote to its readiness pipe
    READY_FAILED = "ready-failed"    # it closed its readiness pipe without writing
    EXTEND_TIMEOUT = "extend-timeout"  # sd_notify EXTEND_TIMEOUT_USEC (value: seconds from now)
    WATCHDOG = "watchdog"            # it missed its watchdog; the watcher aborts it (value: why)
    EXITED = "exited"                # it ended (value: its ExitStatus)
    # ... and about the stop command.
    STOP_SPAWNED = "stop-spawned"
    STOP_SPAWN_FAILED = "stop-spawn-failed"
    STOP_EXITED = "stop-exited"
    # The watcher itself died: what it ran was killed with it.
    LOST = "lost"
    # Its one timer fired.
    START_TIMEOUT = "start-timeout"
    STOP_TIMEOUT = "stop-timeout"
    RESTART_DELAY = "restart-delay"
