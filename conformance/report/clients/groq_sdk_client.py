"""The groq SDK's SSE decoder: ``groq._streaming.SSEDecoder().iter_bytes(...)``.

Private API, but the exact code every ``chat.completions.create(..., stream=True)`` call runs.
"""

from __future__ import annotations

from collections.abc import Iterator

from groq._streaming import SSEDecoder

from ._common import Event
from ._sdk_decoder import decoded


def target(url: str) -> Iterator[Event]:
    yield from decoded(url, SSEDecoder)
