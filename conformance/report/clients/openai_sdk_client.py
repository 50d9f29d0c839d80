"""The openai SDK: its SSE decoder (generic profile) and its public ``stream=True`` path (openai).

``target`` is ``openai._streaming.SSEDecoder().iter_bytes(...)`` over httpx bytes (private API,
the exact code every ``stream=True`` call runs). ``openai_target`` is the public
``client.chat.completions.create(..., stream=True)``; its transport pins the request to the
case URL (the SDK would append ``/chat/completions``) and changes nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import openai
from openai._streaming import SSEDecoder

from ._common import Event
from ._sdk_decoder import decoded


def target(url: str) -> Iterator[Event]:
    yield from decoded(url, SSEDecoder)


class _PinnedTransport(httpx2.HTTPTransport):
    """Send every request to one URL, method, headers and body unchanged."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        pinned = httpx2.Request(request.method, self._url, headers=request.headers, content=request.read())
        return super().handle_request(pinned)


def openai_target(url: str) -> str:
    client = openai.OpenAI(
        base_url=url,
        api_key="sk-conformance",
        max_retries=0,
        http_client=httpx2.Client(transport=_PinnedTransport(url)),
    )
    with client:
        stream = client.chat.completions.create(
            model="conformance", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
