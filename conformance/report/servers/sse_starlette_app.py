"""sse-starlette, the way its README shows: ``EventSourceResponse`` over an async generator of dicts."""

from __future__ import annotations

import asyncio

from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from ._content import INTERVAL, after, openai_payloads
from ._serve import serve_asgi


async def events(request: Request) -> EventSourceResponse:
    async def generate():  # type: ignore[no-untyped-def]
        for item in after(request.headers.get("last-event-id")):
            await asyncio.sleep(INTERVAL)
            yield {"data": item.data, "event": item.event, "id": item.id}

    return EventSourceResponse(generate())


async def openai(request: Request) -> EventSourceResponse:
    async def generate():  # type: ignore[no-untyped-def]
        for payload in openai_payloads():
            await asyncio.sleep(INTERVAL)
            yield {"data": payload}

    return EventSourceResponse(generate())


def create_app() -> Starlette:
    return Starlette(routes=[Route("/events", events), Route("/openai", openai, methods=["GET", "POST"])])


if __name__ == "__main__":
    serve_asgi(create_app())
