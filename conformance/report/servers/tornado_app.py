"""Tornado, as its docs show for streaming: ``self.write(...)`` then ``await self.flush()`` per
event, hand-written lines, on Tornado's own HTTPServer."""

from __future__ import annotations

import asyncio
import socket

import tornado.httpserver
import tornado.web

from ._content import INTERVAL, after, hand_rolled, openai_payloads
from ._serve import ANNOUNCE


class Events(tornado.web.RequestHandler):
    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        for item in after(self.request.headers.get("Last-Event-ID")):
            await asyncio.sleep(INTERVAL)
            self.write(hand_rolled(item.data, item.event, item.id))
            await self.flush()


class OpenAI(tornado.web.RequestHandler):
    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        for payload in openai_payloads():
            await asyncio.sleep(INTERVAL)
            self.write(hand_rolled(payload))
            await self.flush()

    post = get


async def main() -> None:
    app = tornado.web.Application([("/events", Events), ("/openai", OpenAI)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets([sock])
    print(f"{ANNOUNCE} http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
