"""Feed an SDK's ``SSEDecoder().iter_bytes()`` from an httpx byte stream (how the SDKs use it).

The SDKs check the status before decoding (non-2xx raises); nothing else is added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx

from ._common import Event, events


def decoded(url: str, make_decoder: Callable[[], Any]) -> Iterator[Event]:
    """Stream ``url`` and yield what the SDK decoder makes of the bytes."""
    with httpx.stream("GET", url, headers={"Accept": "text/event-stream"}, timeout=None) as response:
        if not response.is_success:
            raise RuntimeError(f"HTTP {response.status_code}")
        yield from events(
            make_decoder().iter_bytes(response.iter_bytes()), event="event", data="data", id="id"
        )
