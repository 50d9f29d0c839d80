"""What every third-party server app streams: the same logical events, serialized by each framework.

The apps differ only in how their framework (or the naive hand-rolled pattern) writes these
events, so any difference the server suite finds is the framework's, not the app's. The content
(``content.json``, read by the Node servers too) includes multi-line data with CR, LF and CRLF
because that is what framework helpers get wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GENERIC", "INTERVAL", "Item", "after", "hand_rolled", "openai_payloads"]

_CONTENT = json.loads((Path(__file__).with_name("content.json")).read_text(encoding="utf-8"))
INTERVAL: float = _CONTENT["interval"]  # seconds between events, so flushing per event is observable


@dataclass(frozen=True)
class Item:
    """One logical event: data plus optional type and id."""

    data: str
    event: str | None = None
    id: str | None = None


GENERIC: tuple[Item, ...] = tuple(Item(**item) for item in _CONTENT["events"])


def after(last_event_id: str | None) -> tuple[Item, ...]:
    """Resume support (S-19): the items after ``last_event_id``, or all of them."""
    ids = [item.id for item in GENERIC]
    if last_event_id in ids:
        return GENERIC[ids.index(last_event_id) + 1 :]
    return GENERIC


def openai_payloads() -> list[str]:
    """The data payloads of an OpenAI chat-completion stream, ending with ``[DONE]``."""
    return list(_CONTENT["openai"])


def hand_rolled(data: str, event: str | None = None, id: str | None = None) -> str:
    """The tutorial pattern: ``f"event: ..\\nid: ..\\ndata: {x}\\n\\n"``, data not split on line breaks."""
    head = f"event: {event}\n" if event else ""
    head += f"id: {id}\n" if id else ""
    return f"{head}data: {data}\n\n"
