"""Feed an SDK's ``SSEDecoder().iter_bytes()`` from an httpx byte stream (how the SDKs use it).

The SDKs check the status before decoding (non-2xx raises); nothing else is added. Releases
before the decoder took bytes (openai < 1.16.2, anthropic < 0.22.0) fed it httpx's
``iter_lines()`` instead; the adapter does what the installed release did, so a validation run
can judge any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx

from ._common import Event, events, tls_context


def decoded(url: str, make_decoder: Callable[[], Any]) -> Iterator[Event]:
    """Stream ``url`` and yield what the SDK decoder makes of the bytes."""
    headers = {"Accept": "text/event-stream"}
    with httpx.stream("GET", url, headers=headers, timeout=None, verify=tls_context()) as response:
        if not response.is_success:
            raise RuntimeError(f"HTTP {response.status_code}")
        decoder = make_decoder()
        if hasattr(decoder, "iter_bytes"):
            decoded_events = decoder.iter_bytes(response.iter_bytes())
        else:
            decoded_events = decoder.iter(response.iter_lines())
        yield from events(decoded_events, event="event", data="data", id="id")
