"""httpx-sse: ``connect_sse(client, method, url)`` then ``iter_sse()`` (its README, sync API)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import httpx
from httpx_sse import connect_sse

from ._common import Event, capable, events, tls_context


@capable("post", "headers", "close")
def target(
    url: str, method: str = "GET", headers: Mapping[str, str] | None = None, body: str | None = None
) -> Iterator[Event]:
    with (
        httpx.Client(timeout=None, verify=tls_context()) as client,
        connect_sse(client, method, url, headers=dict(headers or {}), content=body) as source,
    ):
        yield from events(source.iter_sse(), event="event", data="data", id="id")
