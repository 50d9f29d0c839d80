"""sseclient-py (module ``sseclient``): ``SSEClient(requests_response).events()`` (its README)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import requests
import sseclient

from ._common import Event, capable, events


@capable("post", "headers", "close")
def target(
    url: str, method: str = "GET", headers: Mapping[str, str] | None = None, body: str | None = None
) -> Iterator[Event]:
    response = requests.request(
        method, url, stream=True, data=body, headers={"Accept": "text/event-stream", **(headers or {})}
    )
    response.raise_for_status()  # the README's pattern checks nothing else
    yield from events(
        sseclient.SSEClient(response, char_enc="utf-8").events(), event="event", data="data", id="id"
    )
