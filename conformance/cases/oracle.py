"""What the suite's own parser makes of a case: the cross-check that keeps the corpus honest.

Feeding a connection's bytes, under a chunking, through :class:`conformance.sse.EventParser`
must give the case's ``expect``. The tests run this for every single-connection case; runners
can use it to label a difference as "the client" rather than "the case".

The openai profile's assembled text follows the OpenAI SDK: concatenate
``choices[0].delta.content`` of each JSON payload, stop at data ``[DONE]``; an ``event: error``,
a payload with an ``error`` key, or a payload that is not a JSON object is an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from conformance.sse import Event, EventParser

from .chunkings import Chunking
from .model import Connection

__all__ = ["Assembled", "assemble_openai", "parse_connection"]


def parse_connection(connection: Connection, chunking: Chunking) -> tuple[list[Event], int | None]:
    """The events and final retry value of one connection's body fed chunk by chunk."""
    parser = EventParser()
    events: list[Event] = []
    for run in connection.byte_runs():
        for chunk in chunking.split(run):
            events += parser.feed(chunk)
    events += parser.close()
    return events, parser.retry


@dataclass(frozen=True)
class Assembled:
    """The openai profile's outcome: the text, or an error; ``done`` is whether [DONE] came."""

    text: str
    error: bool
    done: bool


def _is_error(event: Event) -> bool:
    if event.event == "error":
        return True
    try:
        payload = json.loads(event.data)
    except ValueError:
        return True
    return not isinstance(payload, dict) or "error" in payload


def _content(event: Event) -> str:
    choices = json.loads(event.data).get("choices") or []
    delta = (choices[0].get("delta") or {}) if choices else {}
    content = delta.get("content")
    return content if isinstance(content, str) else ""


def assemble_openai(events: list[Event]) -> Assembled:
    """Assemble an OpenAI chat-completion stream the way the SDK consumer sees it."""
    parts: list[str] = []
    for event in events:
        if event.data.startswith("[DONE]"):
            return Assembled("".join(parts), False, True)
        if _is_error(event):
            return Assembled("".join(parts), True, False)
        parts.append(_content(event))
    return Assembled("".join(parts), False, False)
