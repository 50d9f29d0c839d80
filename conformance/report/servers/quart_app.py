"""Quart, as its docs show for SSE: an async generator in ``make_response`` with
``mimetype="text/event-stream"`` and ``timeout = None``; hand-written lines, under uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from quart import Quart, Response, make_response, request

from ._content import INTERVAL, after, hand_rolled, openai_payloads
from ._serve import serve_asgi

app = Quart(__name__)


async def _stream(lines: AsyncIterator[str]) -> Response:
    response = await make_response(lines, {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    response.timeout = None  # its docs: otherwise the stream is cut after 60 s
    return response


@app.get("/events")
async def events() -> Response:
    last_event_id = request.headers.get("Last-Event-ID")

    async def generate() -> AsyncIterator[str]:
        for item in after(last_event_id):
            await asyncio.sleep(INTERVAL)
            yield hand_rolled(item.data, item.event, item.id)

    return await _stream(generate())


@app.route("/openai", methods=["GET", "POST"])
async def openai() -> Response:
    async def generate() -> AsyncIterator[str]:
        for payload in openai_payloads():
            await asyncio.sleep(INTERVAL)
            yield hand_rolled(payload)

    return await _stream(generate())


if __name__ == "__main__":
    serve_asgi(app)
