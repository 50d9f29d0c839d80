"""The one error a target raises: it is unusable (cannot be imported, split or started)."""

from __future__ import annotations

import shlex

__all__ = ["TargetError", "split_command"]


class TargetError(ValueError):
    """The target itself is unusable (cannot be imported, is not callable, will not start...)."""


def split_command(command: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as error:
        raise TargetError(f"cannot split {command!r}: {error}") from None
    if not argv:
        raise TargetError("the command is empty")
    return argv
