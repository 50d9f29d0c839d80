"""A scripted aiohttp server on 127.0.0.1 for the reference-client tests, and one sync facade
over every transport so each test runs against all four clients.

Each URL path gets a script: one :class:`Reply` per request, in order; later requests get 204
(as the suite's case server does), so a reconnecting client always terminates. The server writes
each chunk as its own HTTP chunk, pausing briefly between chunks so the client reads them
separately, and records every request (method, raw header bytes, body, arrival time).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from conformance.sse import Event
from reference_clients import SSEError, aiohttp_client, httpx_client, requests_client

SSE = {"Content-Type": "text/event-stream"}
HOLD = "hold"  # keep the connection open, sending nothing more, until the client leaves
ABORT = "abort"  # drop the connection mid-body, with no terminating chunk
NO_RESPONSE = "no-response"  # as the only step: close the socket before any status line
CHUNK_GAP = 0.02  # seconds between chunks: lets the client read them one by one


@dataclass
class Reply:
    body: Sequence[bytes | str] = ()
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: dict(SSE))


@dataclass
class Recorded:
    method: str
    path: str
    raw_headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    arrived: float
    ended: float | None = None  # when the reply's body ended (for reconnect delays)

    def header(self, name: str) -> bytes | None:
        wanted = name.lower().encode()
        return next((v for n, v in self.raw_headers if n.lower() == wanted), None)


class ScriptServer:
    """Runs in its own thread and loop so sync clients and async clients can both use it."""

    def __init__(self) -> None:
        self._scripts: dict[str, list[Reply]] = {}
        self.requests: dict[str, list[Recorded]] = {}
        self._names = itertools.count()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="refclients-server", daemon=True)
        self._thread.start()
        self._started.wait(10)

    def script(self, *replies: Reply, name: str = "s") -> str:
        """Register replies under a fresh path; return its URL."""
        path = f"/{name}/{next(self._names)}"
        self._scripts[path] = list(replies)
        self.requests[path] = []
        return self.base + path

    def path(self, url: str) -> str:
        return url.removeprefix(self.base)

    def seen(self, url: str) -> list[Recorded]:
        return self.requests[self.path(url)]

    # -- serving -----------------------------------------------------------------------------
    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        self._started.set()
        self._loop.run_forever()

    def close(self) -> None:
        async def stop() -> None:
            self._stopping.set()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        record = Recorded(
            request.method, request.path, tuple(request.raw_headers), body, time.monotonic()
        )
        self.requests.setdefault(request.path, []).append(record)
        script = self._scripts.get(request.path, [])
        reply = script.pop(0) if script else Reply(status=204, headers={})
        if list(reply.body) == [NO_RESPONSE]:
            assert request.transport is not None
            request.transport.close()
            record.ended = time.monotonic()
            raise asyncio.CancelledError  # aiohttp writes nothing for a closed transport
        kind = web.StreamResponse if "Content-Type" in reply.headers else _UntypedResponse
        response = kind(status=reply.status, headers=reply.headers)
        if reply.status not in (204, 304):
            response.enable_chunked_encoding()
        await response.prepare(request)
        for index, step in enumerate(reply.body):
            if index:
                await asyncio.sleep(CHUNK_GAP)
            if step == HOLD:
                await self._hold(request)
                record.ended = time.monotonic()
                return response
            if step == ABORT:
                assert request.transport is not None
                request.transport.abort()
                record.ended = time.monotonic()
                return response
            await response.write(step.encode() if isinstance(step, str) else step)
        # Stamped before the end is written: the client cannot see it earlier, while after
        # write_eof() returns a busy loop may resume later than the client reconnects.
        record.ended = time.monotonic()
        await response.write_eof()
        return response

    async def _hold(self, request: web.Request) -> None:
        """Wait until the client disconnects or the server stops."""
        while not self._stopping.is_set() and request.transport and not request.transport.is_closing():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 0.05)


class _UntypedResponse(web.StreamResponse):
    """A response with no Content-Type at all (aiohttp would add application/octet-stream)."""

    async def _prepare_headers(self) -> None:
        await super()._prepare_headers()
        self._headers.pop("Content-Type", None)


# -- one facade over the four clients ------------------------------------------------------------


@dataclass
class Run:
    """What one client run produced: the events, then the SSEError that ended it, if any."""

    events: list[Event] = field(default_factory=list)
    error: SSEError | None = None
    limit: int | None = None

    def add(self, event: Event) -> bool:
        """Record an event; True when the caller has seen enough and leaves the loop."""
        self.events.append(event)
        return self.limit is not None and len(self.events) >= self.limit


def _sync(connect: Callable[..., Any]) -> Callable[..., Run]:
    def run(url: str, *, limit: int | None = None, **options: Any) -> Run:
        result = Run(limit=limit)
        try:
            with connect(url, **options) as stream:
                for event in stream:
                    if result.add(event):
                        break
        except SSEError as error:
            result.error = error
        return result

    return run


def _async(connect: Callable[..., Any]) -> Callable[..., Run]:
    async def main(url: str, result: Run, options: dict[str, Any]) -> Run:
        try:
            async with connect(url, **options) as stream:
                async for event in stream:
                    if result.add(event):
                        break
        except SSEError as error:
            result.error = error
        return result

    def run(url: str, *, limit: int | None = None, **options: Any) -> Run:
        return asyncio.run(main(url, Run(limit=limit), options))

    return run


CLIENTS: dict[str, Callable[..., Run]] = {
    "httpx": _sync(httpx_client.connect),
    "httpx-async": _async(httpx_client.aconnect),
    "aiohttp": _async(aiohttp_client.connect),
    "requests": _sync(requests_client.connect),
}
