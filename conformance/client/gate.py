"""Alone: attempts share the machine, a confirmation has it to itself (see :class:`AloneGate`)."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator

__all__ = ["AloneGate", "alone_gate"]


class AloneGate:
    """Runs share the machine; a confirmation has it to itself.

    One gate per event loop, shared by every ClientRun on it (the report runs several clients
    at once): an attempt holds it shared, a confirmation exclusively, so "run again alone" means
    no other item of any run is running. Waiting confirmations go first."""

    def __init__(self) -> None:
        self.condition = asyncio.Condition()
        self.running = 0
        self.alone = False
        self.waiting = 0

    @contextlib.asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        async with self.condition:
            await self.condition.wait_for(lambda: not self.alone and not self.waiting)
            self.running += 1
        try:
            yield
        finally:
            async with self.condition:
                self.running -= 1
                self.condition.notify_all()

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self.condition:
            self.waiting += 1
            try:
                await self.condition.wait_for(lambda: not self.running and not self.alone)
            finally:
                self.waiting -= 1
            self.alone = True
        try:
            yield
        finally:
            async with self.condition:
                self.alone = False
                self.condition.notify_all()


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AloneGate] = weakref.WeakKeyDictionary()


def alone_gate() -> AloneGate:
    """The gate of the running event loop."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = AloneGate()
    return gate
