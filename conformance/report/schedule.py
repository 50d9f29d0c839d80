"""Row slots: how many client rows run their small cases at once, and when the rows' tail begins.

A row takes a slot to start and gives it back as soon as only its cases of megabytes are left
to judge: those wait for a turn of their own (one per CPU for the whole process, see
:mod:`conformance.client.turns`), not for a row slot, so a row whose last cases queue behind a
quadratic parser's no longer keeps the next row from starting. The tail is the part of the run
where no row waits for a slot and at most one holds one: fewer than two CPUs are running small
cases, and the interop matrix can run beside what is left instead of after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from ..client.items import Item, is_large

__all__ = ["RowSlots", "when_small_judged"]

Progress = Callable[[Item, list], None]


class RowSlots:
    """``jobs`` slots for ``rows`` rows, taken in the order asked; :attr:`tail` as the module says."""

    def __init__(self, jobs: int, rows: int) -> None:
        self.limit = asyncio.Semaphore(max(1, jobs))
        self.waiting = rows
        self.holding = 0
        self.tail = asyncio.Event()
        self._look()

    async def take(self) -> Callable[[], None]:
        """Wait for a slot; returns the function that gives it back (once, whoever calls it)."""
        await self.limit.acquire()
        self.waiting -= 1
        self.holding += 1
        self._look()
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                self.holding -= 1
                self.limit.release()
                self._look()

        return give_back

    def _look(self) -> None:
        if self.waiting == 0 and self.holding <= 1:
            self.tail.set()


def when_small_judged(items: Sequence[Item], then: Callable[[], None]) -> Progress:
    """A progress callback that calls ``then`` once every item of ``items`` under a megabyte has
    been judged (at once if there is none)."""
    left = sum(not is_large(item.case) for item in items)
    if not left:
        then()

    def tick(item: Item, results: list) -> None:
        nonlocal left
        if not is_large(item.case):
            left -= 1
            if left == 0:
                then()

    return tick
