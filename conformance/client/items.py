"""Pure planning: every case of a profile under its chunkings (``Item``), and what one run of a
case asks of the client (its ``Invocation``) and allows it (its deadline)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..cases import load_cases
from ..cases.chunkings import Chunking, chunking, chunkings_for
from ..cases.model import Case, Sleep
from .observation import Invocation

__all__ = ["CAPABILITIES", "ONE_SPLIT_BYTES", "Item", "case_sleeps", "case_timeout", "chunkings_of",
           "invocation_for", "is_large", "plan_items"]

CAPABILITIES = (
    *("reconnect", "last-event-id", "retry", "post", "headers", "comments", "open", "close"),
    *("read-timeout", "restart", "notifications"),
)
BASE_TIMEOUT = 10.0  # seconds per case before its own sleeps and reconnections: a deadline that
# only a hung client meets (a run ends on a fact long before it, see .ending)
PER_RECONNECT = 4.0  # a client without retry support waits its default (about 3 s) each time
PER_MIB = 3.0  # seconds more per MiB a case sends
FAST_RETRY_MS = 10  # the initial reconnection time given to clients that take one
ONE_SPLIT_BYTES = 1 << 20  # a case sending more runs whole and under one split only


@dataclass(frozen=True)
class Item:
    """One case under one chunking: the unit the faces show (``CASE-ID[chunking]``)."""

    case: Case
    chunking: Chunking

    @property
    def name(self) -> str:
        return f"{self.case.id}[{self.chunking.name}]"


def _wanted(selection: Iterable[str] | None) -> Callable[[Chunking], bool]:
    if selection is None:
        return lambda c: True
    names = set(selection)
    for name in names:
        if name != "random":
            chunking(name)  # raises ValueError on an unknown name
    return lambda c: c.name in names or c.family in names


def plan_items(*, profile: str = "generic", pattern: str | None = None,
               chunkings: Iterable[str] | None = None) -> list[Item]:
    """Every case of the profile matching ``pattern``, under every allowed chunking (see
    :func:`chunkings_of`); ``random-SEED`` by name runs that seed (``--chunking random-7``)."""
    names = None if chunkings is None else tuple(chunkings)
    seeds = tuple(int(name[7:]) for name in names or () if name.startswith("random-") and name[7:].isdigit())
    return list(_plan(profile, pattern, names, seeds or None))


def chunkings_of(case: Case, seeds: Sequence[int] | None = None) -> list[Chunking]:
    """The chunkings ``case`` runs under; a large one only whole and its first split: its question
    is the size, and further splits of megabytes cost minutes and tell nothing more."""
    every = chunkings_for(case, **({} if seeds is None else {"seeds": seeds}))
    if not is_large(case):
        return every
    whole = [c for c in every if c.name == "whole"]
    return whole + [c for c in every if c.name != "whole"][:1]


@functools.lru_cache(maxsize=64)
def _plan(
    profile: str, pattern: str | None, chunkings: tuple[str, ...] | None, seeds: tuple[int, ...] | None
) -> tuple[Item, ...]:
    # Cached: splitting every case under every chunking to drop duplicates costs about a second.
    wanted = _wanted(chunkings)
    return tuple(
        Item(case, each)
        for case in load_cases(profile=profile, pattern=pattern)
        for each in chunkings_of(case, seeds)
        if wanted(each)
    )


def case_sleeps(case: Case) -> float:
    """Seconds the case server sleeps in the case's script, all connections together."""
    return sum(step.ms for conn in case.connections for step in conn.stream if isinstance(step, Sleep)) / 1000


def case_timeout(case: Case, scale: float) -> float:
    """The deadline of one case: a base, its own sleeps, each reconnection, its megabytes."""
    requests = max(case.expect.requests or 0, len(case.connections))
    size = PER_MIB * case.body_length / (1 << 20)
    return scale * (BASE_TIMEOUT + case_sleeps(case) + PER_RECONNECT * max(0, requests - 1) + size)


def is_large(case: Case) -> bool:
    """A case of megabytes: one split only, one per CPU at a time, and a client still parsing it
    at its deadline is slow, not wrong (one threshold for all three, so they never disagree)."""
    return case.body_length > ONE_SPLIT_BYTES


def invocation_for(case: Case, url: str, capabilities: frozenset[str]) -> Invocation:
    """The URL, plus the extra inputs the case asks for (only ever for declared capabilities)."""
    options = case.client
    custom_method = options.method != "GET" or options.body is not None
    return Invocation(
        url, method=options.method if custom_method else None, headers=options.headers or None,
        body=options.body, last_event_id=options.last_event_id,
        initial_retry_ms=(options.initial_retry_ms or FAST_RETRY_MS) if "retry" in capabilities else None,
        close_after_events=options.close_after_events if "close" in capabilities else None,
        read_timeout_ms=options.read_timeout_ms if "read-timeout" in capabilities else None,
        restart_after_events=options.restart_after_events if "restart" in capabilities else None,
    )
