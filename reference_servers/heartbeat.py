"""Idle heartbeats for adapters without a built-in pinger (aiohttp).

A comment is due only when ``interval`` seconds pass with nothing written (S-18, P-03). One
small task per stream sleeps until the stream has been idle that long, then calls ``beat``;
the writer calls :meth:`Heartbeat.touch` after each event, which costs an attribute store, so
the scenario runs in the handler's own task with no extra task per event. Each ``beat`` is one
whole write, so a comment can only land between events, never inside one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from types import TracebackType

__all__ = ["Heartbeat"]


class Heartbeat:
    """``async with Heartbeat(interval, beat) as heartbeat:`` calls ``beat()`` whenever
    ``interval`` seconds pass without ``heartbeat.touch()`` (0: never)."""

    def __init__(self, interval: float, beat: Callable[[], Awaitable[None]]) -> None:
        self.interval = interval
        self._beat = beat
        self._task: asyncio.Task[None] | None = None
        self._last = 0.0

    def touch(self) -> None:
        """Something was just written: the idle clock restarts."""
        self._last = self._loop.time()

    async def __aenter__(self) -> Heartbeat:
        self._loop = asyncio.get_running_loop()
        self.touch()
        if self.interval:
            self._task = asyncio.ensure_future(self._run())
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def _run(self) -> None:
        while True:
            idle = self._loop.time() - self._last
            if idle < self.interval:
                await asyncio.sleep(self.interval - idle)
                continue
            await self._beat()
            self.touch()
