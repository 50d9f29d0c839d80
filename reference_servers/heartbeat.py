"""Idle heartbeats for adapters without a built-in pinger (aiohttp): merge events and ticks.

A comment is due only when ``interval`` seconds pass with no event (S-18, P-03). The scenario
runs in its own task so a slow step never delays a heartbeat; on exit (end, error, or the
handler cancelled by a client disconnect) that task is cancelled and the generator closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

__all__ = ["with_heartbeats"]

T = TypeVar("T")


async def with_heartbeats(items: AsyncIterator[T], interval: float) -> AsyncIterator[T | None]:
    """Yield each item, and ``None`` whenever ``interval`` seconds pass without one (0: never)."""
    iterator = items.__aiter__()
    pending: asyncio.Future[T] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(iterator.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=interval or None)
            if not done:
                yield None
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                pending = None
                return
            pending = None
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
