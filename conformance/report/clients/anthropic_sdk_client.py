"""The anthropic SDK's SSE decoder: ``anthropic._streaming.SSEDecoder().iter_bytes(...)``.

Private API, but the exact code every ``messages.create(..., stream=True)`` call runs; the
public path parses Anthropic's own event dialect, which the OpenAI-profile cases do not speak.
"""

from __future__ import annotations

from collections.abc import Iterator

from anthropic._streaming import SSEDecoder

from ._common import Event
from ._sdk_decoder import decoded


def target(url: str) -> Iterator[Event]:
    yield from decoded(url, SSEDecoder)
