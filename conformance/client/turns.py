"""Turns for the cases of megabytes: one per CPU at once in a process, whatever run they belong
to, so each parses at about the speed it has alone and "still parsing at its deadline" is about
the client. A waiter is ranked by facts its run has shown, never a guess at its speed: the
deadlines its large items met (a fast parser does not wait behind a quadratic one's), then how
many of its items parse now (a turn for each run before a second for any), then its arrival.
Every item still runs; only the order changes.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["Turns", "large_items_limit", "next_turn"]

Rank = Callable[[], tuple[int, ...]]  # a waiter's run as it is now, read at each pick: lower first


def next_turn(waiting: Sequence[tuple[tuple[int, ...], int]]) -> int:
    """The waiter to go next, of (rank of its run, arrival number) each: lowest rank, then earliest."""
    return min(range(len(waiting)), key=waiting.__getitem__)


@dataclass
class _Waiter:
    rank: Rank
    arrival: int
    given: asyncio.Future[None] = field(repr=False)


class Turns:
    """``size`` turns at once: :meth:`acquire` waits for one, :meth:`release` hands it on."""

    def __init__(self, size: int) -> None:
        self.free = max(1, size)
        self.waiting: list[_Waiter] = []
        self._arrivals = itertools.count()

    async def acquire(self, rank: Rank = tuple) -> None:
        """Wait for a turn (a free one at once, if nobody waits)."""
        if self.free and not self.waiting:
            self.free -= 1
            return
        waiter = _Waiter(rank, next(self._arrivals), asyncio.get_running_loop().create_future())
        self.waiting.append(waiter)
        try:
            await waiter.given
        except asyncio.CancelledError:
            if waiter in self.waiting:
                self.waiting.remove(waiter)
            elif waiter.given.done() and not waiter.given.cancelled():
                self.release()  # given the turn as it was cancelled: the next one has it
            raise

    def release(self) -> None:
        """A turn ended: straight to the next waiter, or back to the free ones."""
        self.waiting = [w for w in self.waiting if not w.given.done()]  # cancelled meanwhile
        if not self.waiting:
            self.free += 1
            return
        chosen = self.waiting.pop(next_turn([(w.rank(), w.arrival) for w in self.waiting]))
        chosen.given.set_result(None)


_LARGE_AT_ONCE: dict[asyncio.AbstractEventLoop, Turns] = {}  # not weak: a waiter refers to its loop


def large_items_limit() -> Turns:
    """The turns for items of over a megabyte in this process, whatever run they belong to: one
    per CPU, so their deadlines judge the client, not the machine's load."""
    for other in [known for known in _LARGE_AT_ONCE if known.is_closed()]:
        del _LARGE_AT_ONCE[other]
    return _LARGE_AT_ONCE.setdefault(asyncio.get_running_loop(), Turns(os.cpu_count() or 1))
