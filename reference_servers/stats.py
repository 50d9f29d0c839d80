"""Live stream accounting behind ``GET /stats``: proof that a client disconnect frees the stream.

One instance per app, so two servers in one process never share counters (P-04).
"""

from __future__ import annotations

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

    @contextmanager
    def stream(self) -> Iterator[None]:
        """Count one stream as active for the duration of the block (however it ends)."""
        self.active += 1
        self.opened += 1
        try:
            yield
        finally:
            self.active -= 1
            self.closed += 1

    async def track(self, items: AsyncIterator[T]) -> AsyncIterator[T]:
        """Yield ``items`` while counted as active; the generator's cleanup runs on disconnect."""
        with self.stream():
            try:
                async for item in items:
                    yield item
            finally:
                aclose = getattr(items, "aclose", None)
                if aclose is not None:
                    await aclose()

    def as_json(self) -> dict[str, int]:
        return {"active_streams": self.active, "opened": self.opened, "closed": self.closed}
