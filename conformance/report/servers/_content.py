"""What every third-party server app streams: the same logical events, serialized by each framework.

The apps differ only in how their framework (or the naive hand-rolled pattern) writes these
events, so any difference the server suite finds is the framework's, not the app's. The content
includes multi-line data with CR, LF and CRLF because that is what framework helpers get wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["GENERIC", "INTERVAL", "Item", "after", "openai_payloads"]

INTERVAL = 0.02  # seconds between events, so flushing per event is observable


@dataclass(frozen=True)
class Item:
    """One logical event: data plus optional type and id."""

    data: str
    event: str | None = None
    id: str | None = None


GENERIC: tuple[Item, ...] = (
    Item("hello", id="1"),
    Item('{"n": 2}', event="update", id="2"),
    Item("l1\nl2\rl3\r\nl4", id="3"),
    Item("bye", id="4"),
)


def after(last_event_id: str | None) -> tuple[Item, ...]:
    """Resume support (S-19): the items after ``last_event_id``, or all of them."""
    ids = [item.id for item in GENERIC]
    if last_event_id in ids:
        return GENERIC[ids.index(last_event_id) + 1 :]
    return GENERIC


def openai_payloads(words: tuple[str, ...] = ("Hello", ",", " world", "!")) -> list[str]:
    """The data payloads of an OpenAI chat-completion stream, ending with ``[DONE]``."""
    base = {"id": "chatcmpl-demo", "object": "chat.completion.chunk", "created": 0, "model": "demo"}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    chunks += [{**base, "choices": [{"index": 0, "delta": {"content": w}}]} for w in words]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return [json.dumps(c, separators=(",", ":")) for c in chunks] + ["[DONE]"]
