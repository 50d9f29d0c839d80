"""Starlette's plain ``StreamingResponse`` over hand-written SSE lines (no SSE helper), as the
many "SSE with FastAPI/Starlette" tutorials do; under uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from ._content import INTERVAL, after, hand_rolled, openai_payloads
from ._serve import serve_asgi


async def events(request: Request) -> StreamingResponse:
    async def generate() -> AsyncIterator[str]:
        for item in after(request.headers.get("last-event-id")):
            await asyncio.sleep(INTERVAL)
            yield hand_rolled(item.data, item.event, item.id)

    return StreamingResponse(generate(), media_type="text/event-stream")


async def openai(request: Request) -> StreamingResponse:
    async def generate() -> AsyncIterator[str]:
        for payload in openai_payloads():
            await asyncio.sleep(INTERVAL)
            yield hand_rolled(payload)

    return StreamingResponse(generate(), media_type="text/event-stream")


def create_app() -> Starlette:
    return Starlette(routes=[Route("/events", events), Route("/openai", openai, methods=["GET", "POST"])])


if __name__ == "__main__":
    serve_asgi(create_app())
