"""aiohttp-sse-client2: ``async with EventSource(url) as es: async for e in es`` (its README)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import timedelta

from aiohttp_sse_client2 import client as sse_client

from ._common import Event, capable


@capable("reconnect", "retry", "post", "headers", "close")
async def target(
    url: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    initial_retry_ms: int | None = None,
) -> AsyncIterator[Event]:
    initial = (
        {} if initial_retry_ms is None else {"reconnection_time": timedelta(milliseconds=initial_retry_ms)}
    )
    async with sse_client.EventSource(
        url, option={"method": method}, headers=dict(headers or {}), data=body, **initial
    ) as source:
        async for item in source:
            yield Event(item.type or "message", item.data, item.last_event_id or "")
