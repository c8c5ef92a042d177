"""zeroctl's exit statuses and its one kind of error, in one place.

The statuses are the contract's (shared/DESIGN.md, "Commands"): 0 success; 1 the operation
failed or was refused; 2 bad usage; 3 the supervisor could not be reached. A reply's error code
(broker/protocol.py) decides the status of a refused request: only a malformed request is a
usage error.

A `Failure` ends a command with one sentence on stderr; with `--json`, stdout also holds
`{"error": CODE, "message": SENTENCE}` so that a pipe into `jq` never breaks.
"""

from __future__ import annotations

import enum

from broker import protocol


class ExitCode(enum.IntEnum):
    OK = 0           # the command did what was asked
    FAILED = 1       # it failed or was refused (a failed start, dependents, unknown service)
    USAGE = 2        # bad usage: an unknown command, a bad option or endpoint
    UNREACHABLE = 3  # the supervisor could not be reached within the timeout


# The `error` of zeroctl's own failures in --json output (a reply's code is passed on as is).
E_USAGE = "usage"
E_UNREACHABLE = "unreachable"
E_BAD_ENDPOINT = "bad-endpoint"
E_NO_SERVICES = "no-services"
E_KEYGEN = "keygen"
E_INTERNAL = "internal"

_STATUS_OF_REPLY_CODE = {
    protocol.E_BAD_REQUEST: ExitCode.USAGE,
    protocol.E_UNKNOWN_SERVICE: ExitCode.FAILED,
    protocol.E_REFUSED: ExitCode.FAILED,
    protocol.E_FAILED: ExitCode.FAILED,
    protocol.E_UNAUTHORISED: ExitCode.FAILED,
    protocol.E_SHUTTING_DOWN: ExitCode.FAILED,
}


def status_of_reply_code(code: str) -> ExitCode:
    """The exit status for an error reply; a code this version doesn't know is a failure."""
    return _STATUS_OF_REPLY_CODE.get(code, ExitCode.FAILED)


class Failure(Exception):
    """Ends the command with a one-sentence message, an exit status and an error code."""

    def __init__(self, message: str, status: ExitCode = ExitCode.FAILED,
                 code: str = protocol.E_FAILED):
        super().__init__(message)
        self.status = status
        self.code = code


HELP = """exit status:
  0  success (a service that failed is still a success for `status` and `list`: the
     command reported it; read its "failed" field)
  1  the operation failed or was refused (a service failed to start, dependents block a
     stop, unknown service)
  2  bad usage (unknown command or option, bad endpoint)
  3  the supervisor could not be reached within the timeout"""
