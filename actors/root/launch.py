"""What a watcher needs to start one of a service's commands, built from its spec.

The root sends this map (msgpack-friendly, no live objects) with every `spawn` order, so the
watcher never parses configuration and a reloaded spec applies at the next launch.
"""

from __future__ import annotations

from typing import Any

from actors.engine.model import Role
from actors.loader.spec import ServiceSpec, ServiceType


def launch_for(spec: ServiceSpec, role: Role) -> dict[str, Any]:
    command = spec.command if role is Role.START else spec.stop_command
    ready = spec.ready_notification
    uses_readiness = (ready is not None and role is Role.START
                      and spec.type is ServiceType.PROCESS)
    return {
        "argv": list(command),
        "cwd": spec.working_dir,
        "env": dict(spec.env),
        "env_clear": spec.env_clear,
        "env_unset": list(spec.env_unset),
        "user": None if spec.run_as is None else {
            "uid": spec.run_as.uid, "gid": spec.run_as.gid,
            "groups": list(spec.run_as.groups), "name": spec.run_as.name,
        },
        "log": {"type": spec.log_type.value, "file": spec.logfile,
                "mode": spec.logfile_mode, "size": spec.log_buffer_size,
                "max_size": spec.logfile_max_size, "keep": spec.logfile_keep},
        "ready": None if not uses_readiness else {
            "kind": ready.kind.value, "fd": ready.fd, "var": ready.var,
        },
        # ready-notification = notify only (the loader drops it otherwise): seconds; 0: none.
        "watchdog": spec.watchdog_timeout if uses_readiness else 0.0,
        "stop_timeout": spec.stop_timeout,
        "nice": spec.nice,
        "oom_score_adj": spec.oom_score_adj,
        "rlimits": [list(limit) for limit in spec.rlimits],
        "group": spec.signals_group,
    }
