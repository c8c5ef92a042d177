"""Signal names and numbers: the one translation between the names the engine, the protocol
and the status objects use ("SIGTERM") and the numbers the kernel wants."""

from __future__ import annotations

import signal


def signal_number(value: str | int) -> int:
    """`"HUP"`, `"SIGHUP"`, `"1"` or `1` -> 1; ValueError with a readable message otherwise."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        number = int(value)
        if 0 < number < signal.NSIG:
            return number
        raise ValueError(f"signal number {number} is out of range (1-{signal.NSIG - 1})")
    name = value.strip().upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    if name[3:].isdigit():  # "SIG33": how `signal_name` spells a number Python has no name for
        return signal_number(name[3:])
    try:
        return int(signal.Signals[name])
    except KeyError:
        raise ValueError(f"unknown signal {value!r}") from None


def signal_name(number: int) -> str:
    """1 -> "SIGHUP"; a number with no name gives "SIG<number>"."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"


def normalise(value: str | int) -> str:
    """Any accepted spelling -> the canonical name ("hup" -> "SIGHUP")."""
    return signal_name(signal_number(value))
