"""What every zeroctl command shares: the connection (made only when a handler asks for it),
the translation of the client's errors into `Failure`s, and JSON or human output.

    session = Session(args)
    statuses = session.call("status", names=["web"])   # connects on first use
    session.show(statuses, render.status_blocks)       # JSON with --json, else text
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from cli.exits import (E_BAD_ENDPOINT, E_UNREACHABLE, ExitCode, Failure,
                       status_of_reply_code)


class Session:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self._client = None

    @property
    def endpoint(self) -> str:
        from broker.endpoints import TCP, EndpointError, default_control_endpoint, normalise
        given = getattr(self.args, "socket", None)
        try:
            endpoint = normalise(given) if given is not None else default_control_endpoint()
        except EndpointError as exc:
            where = "-s" if given is not None else "ZEROINIT_SOCKET"
            raise Failure(f"{where}: {exc}", ExitCode.USAGE, E_BAD_ENDPOINT) from None
        if endpoint.startswith(TCP) and not self._curve_dir:
            raise Failure(f"{endpoint}: a tcp:// endpoint needs CURVE keys: give --curve-dir "
                          f"DIR (see zeroctl keygen), or use an ipc endpoint",
                          ExitCode.USAGE, E_BAD_ENDPOINT)
        return endpoint

    @property
    def _curve_dir(self) -> str | None:
        import os
        return getattr(self.args, "curve_dir", None) or os.environ.get("ZEROINIT_CURVE_DIR")

    def _curve(self, endpoint: str) -> dict[str, bytes] | None:
        """Our key pair and the server's key, for a tcp:// endpoint (ipc needs none)."""
        from broker.endpoints import TCP
        if not endpoint.startswith(TCP):
            return None
        from broker.curve import CurveError, client_keys
        try:
            return client_keys(self._curve_dir)
        except CurveError as exc:
            raise Failure(f"--curve-dir: {exc}", ExitCode.USAGE, E_BAD_ENDPOINT) from None

    @property
    def client(self):
        """The connection to the supervisor, made on first use."""
        if self._client is None:
            from broker.client import Client, Unreachable
            try:
                endpoint = self.endpoint
                self._client = Client(endpoint, timeout=self.args.timeout,
                                      curve=self._curve(endpoint))
            except Unreachable as exc:
                raise Failure(str(exc), ExitCode.UNREACHABLE, E_UNREACHABLE) from None
        return self._client

    def call(self, kind: str, **fields: Any) -> Any:
        """One request; its error reply becomes a `Failure` with the reply's code. With
        --json, the statuses an error reply carries are printed first (the contract: stdout
        holds the status objects as they are after the command)."""
        from broker.client import RemoteError, Unreachable
        try:
            return self.client.call(kind, **fields)
        except Unreachable as exc:
            raise Failure(str(exc), ExitCode.UNREACHABLE, E_UNREACHABLE) from None
        except RemoteError as exc:
            statuses = exc.details.get("statuses")
            if self.args.json and statuses and kind in _STATUS_COMMANDS:
                self.emit(self.shaped(statuses))
                self.args.json_written = True
            raise Failure(exc.message, status_of_reply_code(exc.code), exc.code) from None

    def stream(self, kind: str, **fields: Any):
        from broker.client import RemoteError, Unreachable
        try:
            yield from self.client.stream(kind, **fields)
        except Unreachable as exc:
            raise Failure(str(exc), ExitCode.UNREACHABLE, E_UNREACHABLE) from None
        except RemoteError as exc:
            raise Failure(exc.message, status_of_reply_code(exc.code), exc.code) from None

    def shaped(self, statuses: list[dict[str, Any]]) -> Any:
        """The contract's shape: one status object for one named service, else an array."""
        names = getattr(self.args, "names", None) or []
        return statuses[0] if len(names) == 1 and len(statuses) == 1 else statuses

    def show(self, result: Any, human: Callable[[Any], str]) -> None:
        if self.args.json:
            self.emit(result)
        else:
            text = human(result)
            if text:
                print(text, flush=True)

    def emit(self, value: Any, compact: bool = False) -> None:
        emit_json(value, compact)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


# The commands whose error replies carry the statuses of the named services.
_STATUS_COMMANDS = {"start", "stop", "restart", "release", "wake", "status"}


def emit_json(value: Any, compact: bool = False) -> None:
    print(json.dumps(value, separators=(",", ":") if compact else None,
                     indent=None if compact else 2), flush=True)


def emit_error(code: str, message: str) -> None:
    """An error as JSON on stdout, so that `zeroctl --json ... | jq` always reads JSON."""
    emit_json({"error": code, "message": message})
