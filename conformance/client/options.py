"""Turning command-line style options into a target and a run plan (shared by CLI and pytest).

Bad input raises :class:`conformance.cli.UsageError` with one line: the faces print it and exit 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..cli import UsageError
from .runner import CAPABILITIES, Item, plan_items
from .targets import PROFILES, CommandTarget, HarnessTarget, Target, TargetError, load_target

__all__ = ["make_plan", "make_target", "positive"]


def make_target(
    spec: str | None, command: str | None, capabilities: Iterable[str], *, harness: str | None = None
) -> Target:
    """``module:callable``, ``--cmd`` or ``--harness``, exactly one; capabilities from the flags."""
    declared = frozenset(capabilities)
    unknown = sorted(declared - set(CAPABILITIES))
    if unknown:
        raise UsageError(f"unknown capability {', '.join(unknown)}; known: {', '.join(CAPABILITIES)}")
    if sum(bool(given) for given in (spec, command, harness)) != 1:
        raise UsageError(
            "give exactly one target: module:callable, --cmd 'PROGRAM ARGS {url}' or --harness 'PROGRAM ARGS'"
        )
    try:
        if command:
            return CommandTarget(command, declared)
        if harness:
            return HarnessTarget(harness, declared)
        target = load_target(spec)
    except TargetError as error:
        raise UsageError(str(error)) from None
    target.capabilities = target.capabilities | declared  # type: ignore[union-attr]
    return target


def make_plan(
    *,
    profile: str,
    pattern: str | None,
    chunkings: Sequence[str] | None,
    seeds: Sequence[int] | None = None,
) -> list[Item]:
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    try:
        items = plan_items(profile=profile, pattern=pattern, chunkings=chunkings or None, seeds=seeds)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not items:
        raise UsageError(f"no {profile} case matches {pattern!r}" if pattern else f"no {profile} cases")
    return items


def positive(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a number, not {value!r}") from None
    if number <= 0:
        raise UsageError(f"{name} must be positive, not {value!r}")
    return number
