"""Live stream accounting behind ``GET /stats``, and the clean end of open streams at shutdown.

One instance per app, so two servers in one process never share counters. ``/stats`` proves a
client disconnect frees the stream (P-04); :meth:`StreamStats.shutdown` ends every open stream
at an event boundary with a clean end of body (S-21) instead of cutting connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["StreamStats"]

T = TypeVar("T")


class StreamStats:
    def __init__(self) -> None:
        self.active = 0
        self.opened = 0
        self.closed = 0
        self.closing = False
        self._tasks: set[asyncio.Task] = set()

    @contextmanager
    def stream(self) -> Iterator[None]:
        """Count one stream as active for the block; its task is cancelled at shutdown."""
        task = asyncio.current_task()
        self.active += 1
        self.opened += 1
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            self.active -= 1
            self.closed += 1
            self._tasks.discard(task)  # type: ignore[arg-type]

    def ended_by_shutdown(self) -> bool:
        """Call in ``except CancelledError``: True (and the cancel consumed) when the cancel came
        from :meth:`shutdown`, so the caller ends the body cleanly; False means re-raise."""
        if not self.closing:
            return False
        task = asyncio.current_task()
        if task is not None and hasattr(task, "uncancel"):  # Python 3.11+
            task.uncancel()
        return True

    async def track(self, items: AsyncIterator[T]) -> AsyncIterator[T]:
        """Yield ``items`` while counted as active; the generator's cleanup runs on disconnect."""
        with self.stream():
            try:
                async for item in items:
                    yield item
            except asyncio.CancelledError:
                if not self.ended_by_shutdown():
                    raise
            finally:
                aclose = getattr(items, "aclose", None)
                if aclose is not None:
                    await aclose()

    def shutdown(self) -> None:
        """Ask every open stream to end now (call on the server's loop)."""
        self.closing = True
        for task in list(self._tasks):
            task.cancel()

    async def drain(self, bound: float) -> None:
        """Wait (up to ``bound`` seconds) until no stream is active."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + bound
        while self.active and loop.time() < deadline:
            await asyncio.sleep(0.01)

    def as_json(self) -> dict[str, int]:
        return {"active_streams": self.active, "opened": self.opened, "closed": self.closed}
