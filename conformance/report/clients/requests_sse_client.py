"""requests-sse: ``with EventSource(url) as es: for e in es`` (its README), library defaults kept."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta

from requests_sse import EventSource

from ._common import Event, capable, events


@capable("reconnect", "last-event-id", "retry", "post", "headers", "close")
def target(
    url: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    last_event_id: str | None = None,
    initial_retry_ms: int | None = None,
) -> Iterator[Event]:
    initial = (
        {} if initial_retry_ms is None else {"reconnection_time": timedelta(milliseconds=initial_retry_ms)}
    )
    with EventSource(
        url, method=method, headers=dict(headers or {}), data=body, latest_event_id=last_event_id, **initial
    ) as source:
        yield from events(source, event="type", data="data", id="last_event_id")
