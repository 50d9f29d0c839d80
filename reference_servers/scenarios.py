"""The scenarios, written once as async generators of core ``Event`` values.

Both adapters serve these unchanged; they only decide the bytes (separator, serializer) and
the transport. Each generator is the pattern users build (``shared/seeds``): counters with ids
that resume after ``Last-Event-ID``, per-agent messages, an agent's status/thought/token
stream, task progress, an error event, a time limit, and an OpenAI-compatible chat stream.
JSON payloads are built with ``json.dumps``, so echoed user text (a query, an agent id) can
never carry a raw CR or LF into the stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from conformance.sse import Event

from . import chat

__all__ = [
    "DONE",
    "TASK_STEPS",
    "THOUGHTS",
    "agent_messages",
    "agent_thinking",
    "chat_completion",
    "counter",
    "resume_point",
    "stream_error",
    "stream_timeout",
    "task_progress",
]

DONE = "[DONE]"
MIN_TICK = 0.01  # seconds between /stream/timeout counts, whatever the interval
THOUGHTS = (
    "Breaking down the problem",
    "Searching for relevant information",
    "Processing the data",
    "Formulating a response",
)
ANSWER = "Based on my analysis, here is the answer."
TASK_STEPS = (("Initializing", 10), ("Loading data", 30), ("Processing", 60), ("Finalizing", 90),
              ("Complete", 100))


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _timestamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def resume_point(last_event_id: str, total: int) -> int:
    """How many numbered events the client already has (S-19).

    Ids are "1".."total". The header is opaque text: an id this server never sent (empty,
    not ASCII digits, or zero) replays from the start; one past the end resumes at the end.
    The work is linear in the header's length (Python's ``int()`` refuses over 4,300 digits).
    """
    value = last_event_id.strip()
    if not (value.isascii() and value.isdigit()):
        return 0
    digits = value.lstrip("0")
    if len(digits) > len(str(total)):  # past the end, however long: never int() 5,000 digits
        return total
    return min(int(digits or "0"), total)


async def counter(count: int, interval: float, last_event_id: str = "") -> AsyncIterator[Event]:
    """``GET /events``: id'd counter messages, then ``complete``; resumes after Last-Event-ID."""
    start = resume_point(last_event_id, count)
    for n in range(start + 1, count + 1):
        if n > start + 1:
            await asyncio.sleep(interval)
        data = {"counter": n, "message": f"Agent update #{n}", "timestamp": _timestamp()}
        yield Event("message", _json(data), str(n))
    if count > start:
        await asyncio.sleep(interval)
    yield Event("complete", _json({"counter": count, "message": "Stream complete"}))


async def agent_messages(agent_id: str, count: int, interval: float, last_event_id: str = "",
                         ) -> AsyncIterator[Event]:
    """``GET /stream/{agent_id}``: ``agent_message`` events for one agent, resumable by sequence."""
    start = resume_point(last_event_id, count)
    for n in range(start + 1, count + 1):
        if n > start + 1:
            await asyncio.sleep(interval)
        data = {"agent_id": agent_id, "sequence": n, "message": f"Message {n} from {agent_id}",
                "timestamp": _timestamp()}
        yield Event("agent_message", _json(data), str(n))


async def agent_thinking(query: str, interval: float) -> AsyncIterator[Event]:
    """``GET /agent/stream?query=Q``: status, thoughts, tokens, complete.

    The query is echoed in exactly one event (the status), JSON-encoded, so CR, LF, NUL or a
    ``\\ndata: injected`` payload stays inside one data line.
    """
    yield Event("status", _json({"message": "Analyzing query...", "query": query}))
    for step, thought in enumerate(THOUGHTS, 1):
        await asyncio.sleep(interval)
        yield Event("thought", _json({"step": step, "total": len(THOUGHTS), "thought": thought}))
    for token in chat.tokens(ANSWER):
        await asyncio.sleep(interval)
        yield Event("token", _json({"token": token}))
    await asyncio.sleep(interval)
    yield Event("complete", _json({"done": True, "thoughts_count": len(THOUGHTS),
                                   "response_length": len(ANSWER)}))


async def task_progress(task_id: str, interval: float, last_event_id: str = "") -> AsyncIterator[Event]:
    """``GET /tasks/{task_id}/progress/stream``: id'd progress steps, then ``complete``."""
    start = resume_point(last_event_id, len(TASK_STEPS))
    for n, (step, percent) in enumerate(TASK_STEPS[start:], start + 1):
        if n > start + 1:
            await asyncio.sleep(interval)
        data = {"task_id": task_id, "step": step, "progress": percent, "timestamp": _timestamp()}
        yield Event("progress", _json(data), str(n))
    await asyncio.sleep(interval)
    yield Event("complete", _json({"task_id": task_id, "final_status": "success"}))


async def stream_error(interval: float) -> AsyncIterator[Event]:
    """``GET /stream/error``: work starts, fails, and the failure is an ``error`` event (then a
    clean end: the status is already 200, so the error can only travel in the stream)."""
    yield Event("message", _json({"msg": "Starting"}))
    await asyncio.sleep(interval)
    yield Event("error", _json({"error": "Simulated failure while processing", "type": "ValueError"}))


async def stream_timeout(limit: float, interval: float) -> AsyncIterator[Event]:
    """``GET /stream/timeout``: counts until ``limit`` seconds pass, then a timeout ``error``.

    It counts at most every ``MIN_TICK`` seconds: a clock, unlike a counter, has no ``count``
    to bound it, and ``interval=0`` must not flood an hour of events as fast as the CPU goes.
    """
    interval = max(interval, MIN_TICK)
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < limit:
        n += 1
        yield Event("message", _json({"count": n}))
        await asyncio.sleep(min(interval, max(0.0, limit - (time.monotonic() - started))))
    yield Event("error", _json({"error": "Stream timeout exceeded", "timeout": limit}))


async def chat_completion(request: chat.ChatRequest, interval: float) -> AsyncIterator[Event]:
    """``POST /v1/chat/completions`` and ``/chat/sse``: OpenAI chunks, then ``data: [DONE]``.

    No ``id`` and no named events (the openai SDK crashes on ``id`` plus keep-alives, O-06).
    With ``fail_after: N`` the stream sends N content chunks, then the provider's error
    payload, then ends cleanly *without* ``[DONE]``, as OpenAI does (O-05): a client that waits
    for ``[DONE]`` sees the stream end early and must report the error.
    """
    make = chat.chunker(request, chat.now())
    pieces = chat.tokens(chat.reply_for(request.messages))
    failing = request.fail_after is not None
    if failing:
        pieces = pieces[: request.fail_after]
    yield Event(data=make({"role": "assistant", "content": ""}))
    for token in pieces:
        await asyncio.sleep(interval)
        yield Event(data=make({"content": token}))
    await asyncio.sleep(interval)
    if failing:
        yield Event(*chat.error_event(request.error_style))
        return
    yield Event(data=make({}, "stop"))
    yield Event(data=DONE)
