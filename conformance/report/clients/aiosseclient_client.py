"""aiosseclient: ``async for event in aiosseclient(url)`` (its README), library defaults.

One request, no reconnection; ``Event.id`` is the id of that block only (``None`` without one).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from aiosseclient import aiosseclient

from ._common import Event, capable


@capable("headers", "last-event-id", "close")
async def target(
    url: str, headers: Mapping[str, str] | None = None, last_event_id: str | None = None
) -> AsyncIterator[Event]:
    async for item in aiosseclient(url, last_id=last_event_id, headers=dict(headers or {})):
        yield Event(item.event or "message", item.data, item.id or "")
