"""aiohttp-sse, as its README shows: ``async with sse_response(request) as resp: await resp.send()``."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp_sse import sse_response

from ._content import INTERVAL, after, openai_payloads
from ._serve import serve_aiohttp


async def events(request: web.Request) -> web.StreamResponse:
    async with sse_response(request) as resp:
        for item in after(request.headers.get("Last-Event-ID")):
            await asyncio.sleep(INTERVAL)
            await resp.send(item.data, event=item.event, id=item.id)
    return resp


async def openai(request: web.Request) -> web.StreamResponse:
    async with sse_response(request) as resp:
        for payload in openai_payloads():
            await asyncio.sleep(INTERVAL)
            await resp.send(payload)
    return resp


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/events", events)
    app.router.add_route("*", "/openai", openai)
    return app


if __name__ == "__main__":
    serve_aiohttp(create_app())
