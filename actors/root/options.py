"""What a root is started with: `zeroinit`'s command line, parsed (cli/zeroinit.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from actors.root.zygote_client import ZygoteClient
from broker import endpoints


@dataclass
class RootOptions:
    services: list[str] = field(default_factory=lambda: ["boot"])
    dirs: list[str] = field(default_factory=endpoints.default_services_dirs)
    endpoint: str = field(default_factory=endpoints.default_control_endpoint)
    socket_mode: int = 0o600
    ready_fd: int | None = None
    quiet: bool = False
    profile: str | None = None
    services_given: bool = False       # SERVICE... named on the command line
    endpoint_given: bool = False       # -s given (else a fallback may be used)
    main_command: list[str] | None = None  # container mode: `-- CMD [ARG...]`
    zygote: ZygoteClient | None = None    # forked already (early, from a small process)
    curve_dir: str | None = None  # --curve-dir: CURVE keys, for a tcp:// endpoint
    metrics: str | None = None    # --metrics HOST:PORT
