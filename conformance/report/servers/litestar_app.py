"""Litestar, the way its docs show: return ``ServerSentEvent`` over a generator of messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from litestar import Litestar, Request, get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from ._content import INTERVAL, after, openai_payloads
from ._serve import serve_asgi


@get("/events")
async def events(request: Request) -> ServerSentEvent:
    async def generate() -> AsyncIterator[ServerSentEventMessage]:
        for item in after(request.headers.get("last-event-id")):
            await asyncio.sleep(INTERVAL)
            yield ServerSentEventMessage(data=item.data, event=item.event, id=item.id)

    return ServerSentEvent(generate())


@get("/openai")  # not @route(GET+POST): a handler that accepts POST answers 201 by default
async def openai() -> ServerSentEvent:
    async def generate() -> AsyncIterator[ServerSentEventMessage]:
        for payload in openai_payloads():
            await asyncio.sleep(INTERVAL)
            yield ServerSentEventMessage(data=payload)

    return ServerSentEvent(generate())


def create_app() -> Litestar:
    return Litestar(route_handlers=[events, openai])


if __name__ == "__main__":
    serve_asgi(create_app())
