"""Command-line style options into a target and a run plan (for CLI and pytest), and the
case-selection options of ``client`` and ``serve-cases``. Bad input raises a one-line
:class:`conformance.errors.UsageError`: the faces print it and exit 2.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import shutil
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import UsageError
from ..rules import PROFILES
from .processes import memory_size
from .runner import CAPABILITIES, Item, plan_items
from .targets import CommandTarget, HarnessTarget, Target, load_target

__all__ = ["add_selection_options", "make_plan", "make_target", "memory_bytes", "positive"]


def make_target(
    spec: str | None, command: str | None, capabilities: Iterable[str], *, harness: str | None = None,
    max_memory: int | None = None,
) -> Target:
    """``module:callable``, ``--cmd`` or ``--harness``, exactly one; capabilities from the flags;
    ``max_memory`` (bytes, from :func:`memory_bytes`) bounds each Python worker."""
    declared = frozenset(capabilities)
    unknown = sorted(declared - set(CAPABILITIES))
    if unknown:
        raise UsageError(f"unknown capability {', '.join(unknown)}; known: {', '.join(CAPABILITIES)}")
    if sum(bool(given) for given in (spec, command, harness)) != 1:
        raise UsageError("give exactly one target: module:callable, --cmd 'PROGRAM ARGS {url}' or "
                         "--harness 'PROGRAM ARGS'")
    for program, kind in ((command, CommandTarget), (harness, HarnessTarget)):
        if program:
            target = kind(program, declared)
            _check_program(program)
            return target
    target = load_target(spec)
    target.capabilities = target.capabilities | declared  # type: ignore[union-attr]
    if max_memory is not None:
        target.max_memory = max_memory  # type: ignore[union-attr]
    return target


def memory_bytes(text: str, flag: str = "--max-memory") -> int:
    """``--max-memory`` (``flag``: the face's name for it): a size such as 2G, 512MiB or 1073741824."""
    size = memory_size(text)
    if size is None:
        raise UsageError(f"{flag} must be a size such as 2G, 512MiB or 1073741824, not {text!r}")
    return size


def _check_program(command: str) -> None:
    """A program that does not exist would fail every case: say so once, before the run."""
    program = shlex.split(command)[0]
    found = shutil.which(program) if os.sep not in program else os.access(program, os.X_OK)
    if not found:
        raise UsageError(f"--cmd: program {program!r} not found or not executable")


def make_plan(*, profile: str, pattern: str | None, chunkings: Sequence[str] | None) -> list[Item]:
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    try:
        items = plan_items(profile=profile, pattern=pattern, chunkings=chunkings or None)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not items:
        if not pattern:
            raise UsageError(f"no {profile} cases")
        prefixes = sorted({i.case.id.split("-")[0] for i in plan_items(profile=profile)})
        raise UsageError(f"no {profile} case matches {pattern!r} (case IDs start with "
                         f"{', '.join(prefixes)}; list them with: sse-conformance cases)")
    return items


def positive(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise UsageError(f"{name} must be a positive number, not {value!r}")
    return number


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", choices=PROFILES, default="generic",
                        help="generic (events) or openai (assembled text)")
    parser.add_argument("-k", metavar="PATTERN",
                        help="only cases whose ID or description matches (substring or glob)")
    parser.add_argument("--chunking", action="append", metavar="NAME",
                        help="only these chunkings (repeatable): whole, 1-byte, 2-byte, crlf, utf8, random, "
                        "random-SEED")
