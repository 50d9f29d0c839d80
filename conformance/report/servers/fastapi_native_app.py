"""FastAPI's native SSE (``fastapi.sse``, FastAPI >= 0.135), the way its docs show.

Plain strings are JSON-encoded by design, so text goes out as ``raw_data``; that is the documented
way to send non-JSON payloads such as the OpenAI ``[DONE]`` sentinel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI, Header
from fastapi.sse import EventSourceResponse, ServerSentEvent

from ._content import INTERVAL, after, openai_payloads
from ._serve import serve_asgi

app = FastAPI()


@app.get("/events", response_class=EventSourceResponse)
async def events(last_event_id: str | None = Header(default=None)) -> AsyncIterator[ServerSentEvent]:
    for item in after(last_event_id):
        await asyncio.sleep(INTERVAL)
        yield ServerSentEvent(raw_data=item.data, event=item.event, id=item.id)


@app.api_route("/openai", methods=["GET", "POST"], response_class=EventSourceResponse)
async def openai() -> AsyncIterator[ServerSentEvent]:
    for payload in openai_payloads():
        await asyncio.sleep(INTERVAL)
        yield ServerSentEvent(raw_data=payload)


def create_app() -> FastAPI:
    return app


if __name__ == "__main__":
    serve_asgi(create_app())
