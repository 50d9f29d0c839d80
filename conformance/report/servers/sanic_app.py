"""Sanic, as its docs show for streaming: ``response = await request.respond(content_type=...)``
then ``await response.send(...)`` per event, hand-written lines; one process, no workers."""

from __future__ import annotations

import asyncio
import socket

from sanic import Request, Sanic

from ._content import INTERVAL, after, hand_rolled, openai_payloads
from ._serve import ANNOUNCE

app = Sanic("sse_conformance_report")
HEADERS = {"Cache-Control": "no-cache"}


@app.get("/events")
async def events(request: Request) -> None:
    response = await request.respond(content_type="text/event-stream", headers=HEADERS)
    for item in after(request.headers.get("last-event-id")):
        await asyncio.sleep(INTERVAL)
        await response.send(hand_rolled(item.data, item.event, item.id))
    await response.eof()


@app.route("/openai", methods=["GET", "POST"])
async def openai(request: Request) -> None:
    response = await request.respond(content_type="text/event-stream", headers=HEADERS)
    for payload in openai_payloads():
        await asyncio.sleep(INTERVAL)
        await response.send(hand_rolled(payload))
    await response.eof()


if __name__ == "__main__":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(f"{ANNOUNCE} http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    app.run(sock=sock, single_process=True, access_log=False, motd=False)
