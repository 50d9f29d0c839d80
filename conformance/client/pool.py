"""A pool of adapter processes (``Harness``), one run at a time on each."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from .protocol import Harness

__all__ = ["HarnessPool"]


class HarnessPool:
    """Up to ``size`` adapter processes; each run goes to an idle healthy one. One still letting
    go of a cancelled run is not idle (a run would share its CPU and GIL) for up to LET_GO_WAIT;
    one that dies or cannot let go is retired and replaced on demand."""

    def __init__(self, argv: Sequence[str], *, size: int, env: dict[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.size = max(1, size)
        self.env = env
        self.harnesses: list[Harness] = []
        self.implementation: dict[str, Any] = {}
        self._starting = 0  # processes being started for the pool
        self._started = asyncio.Event()  # set (and replaced) each time one of them is ready

    async def acquire(self) -> Harness:
        """A ready harness for one more run: an idle one; else a new one while the pool has room
        (started side by side: a start is mostly importing); else the least busy."""
        while True:
            retired = [h for h in self.harnesses if not h.healthy and not h.in_flight]
            self.harnesses = [h for h in self.harnesses if h not in retired]  # before an await
            for harness in retired:
                await harness.stop()
            healthy = [h for h in self.harnesses if h.healthy]
            idle = [h for h in healthy if not h.in_flight]
            if idle:
                return idle[0]  # no await before the caller's run registers on it
            if len(healthy) + self._starting < self.size:
                break
            letting_go = [h for h in healthy if not h.runs]
            if letting_go:  # its client about to let go of a cancelled run: wait, never share
                waits = {asyncio.ensure_future(h.let_go.wait()) for h in letting_go}
                _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for wait in pending:
                    wait.cancel()
                continue
            if healthy:
                return min(healthy, key=lambda h: h.in_flight)
            await self._started.wait()  # every process of the pool is still starting
        self._starting += 1
        try:
            harness = await self.start_one()
        finally:
            self._starting -= 1
            self._started.set()
            self._started = asyncio.Event()
        self.harnesses.append(harness)
        return harness

    async def start_one(self) -> Harness:
        """A new process outside the pool, for a run that needs a fresh one (its caller stops it)."""
        harness = Harness(self.argv, env=self.env)
        self.implementation = await harness.start()
        return harness

    async def close(self) -> None:
        harnesses, self.harnesses = self.harnesses, []
        await asyncio.gather(*(h.stop() for h in harnesses), return_exceptions=True)
