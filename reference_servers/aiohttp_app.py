"""aiohttp adapter: a raw ``StreamResponse`` writing the core serializer's bytes, LF-separated.

Headers are exactly what S-01..S-05 want and nothing hop-by-hop (no ``Connection``, unlike
aiohttp-sse). Each event is one ``write`` (flushed at once, S-06); heartbeats are comments
(S-18). Run with ``handler_cancellation=True`` so a client disconnect cancels the handler and
the scenario's cleanup runs at once (P-04); :func:`runner_options` says so for every runner.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from conformance.sse import Event, encode

from .cors import CorsPolicy
from .heartbeat import Heartbeat
from .routes import ROUTES, BadRequest, Route, Stream, StreamRequest, parse_body, problem
from .settings import Settings
from .stats import StreamStats

__all__ = ["HEADERS", "SEP", "create_app", "runner_options", "stats_of"]

SEP = "\n"
HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
PING = encode(comment="ping", sep=SEP)
MAX_BODY = 32 * 1024 * 1024
STATS_KEY = web.AppKey("stats", StreamStats)
_DISCONNECTED = (ConnectionResetError, BrokenPipeError)


def runner_options() -> dict[str, Any]:
    """Keyword arguments for ``web.AppRunner``/``web.run_app``: cancel handlers on disconnect."""
    return {"handler_cancellation": True, "shutdown_timeout": 0.5, "access_log": None}


def wire(stream: Stream, event: Event) -> bytes:
    return encode(event.data, event=stream.event_line(event), id=event.id or None, sep=SEP)


async def _stream_request(request: web.Request) -> StreamRequest:
    return StreamRequest(
        path_params=dict(request.match_info),
        query=dict(request.query),
        last_event_id=request.headers.get("Last-Event-ID", ""),  # CIMultiDict: any case
        body=parse_body(await request.read()) if request.can_read_body else None,
    )


async def _write_within(response: web.StreamResponse, data: bytes, seconds: float) -> None:
    """Write one event; a send that cannot finish in ``seconds`` raises a timeout (0: no limit).

    aiohttp has no send timeout of its own (aiohttp-sse sets TCP_USER_TIMEOUT instead); without
    one a frozen reader holds the handler and its generator forever (sse-starlette#89).
    """
    if not seconds:
        await response.write(data)
    elif hasattr(asyncio, "timeout"):  # Python 3.11+: no extra task per write
        async with asyncio.timeout(seconds):
            await response.write(data)
    else:  # pragma: no cover - Python 3.10
        await asyncio.wait_for(response.write(data), seconds)


def _handler(route: Route, settings: Settings):
    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            stream = route.open(await _stream_request(request), settings)
        except BadRequest as error:
            return web.json_response(problem(error), status=400)
        response = web.StreamResponse(status=200, headers=HEADERS)
        await response.prepare(request)
        if request.method == "HEAD":  # headers only: never start an endless body (P-01)
            await response.write_eof()
            return response
        stats = request.app[STATS_KEY]

        async def send(data: bytes) -> None:
            try:
                await _write_within(response, data, settings.send_timeout)
            except asyncio.TimeoutError:  # a client that stopped reading: drop it, never block forever
                if request.transport is not None:
                    request.transport.abort()  # the handler is then cancelled (disconnect)
                raise

        try:
            with stats.stream():
                async with Heartbeat(stream.heartbeat, lambda: send(PING)) as heartbeat, \
                        contextlib.aclosing(stream.events) as events:  # cleanup runs at once
                    async for event in events:
                        await send(wire(stream, event))
                        heartbeat.touch()
        except (*_DISCONNECTED, asyncio.TimeoutError):
            return response
        except asyncio.CancelledError:
            if not stats.ended_by_shutdown():
                raise
        await response.write_eof()
        return response

    return handle


async def _stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATS_KEY].as_json())


def _cors(policy: CorsPolicy):
    @web.middleware
    async def preflight(request: web.Request, handler):
        origin = request.headers.get("Origin")
        if (request.method == "OPTIONS" and policy.allows(origin)
                and "Access-Control-Request-Method" in request.headers):
            return web.Response(status=204, headers=policy.preflight_headers(origin))
        return await handler(request)

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        if policy.allows(origin):
            response.headers.update(policy.simple_headers(origin))

    return preflight, on_prepare


def stats_of(app: web.Application) -> StreamStats:
    return app[STATS_KEY]


def create_app(settings: Settings | None = None) -> web.Application:
    """The aiohttp reference app (serve it with :func:`runner_options`)."""
    settings = Settings.from_env() if settings is None else settings
    policy = CorsPolicy(settings.allowed_origins)
    preflight, on_prepare = _cors(policy)
    # Long chat contexts exceed aiohttp's 1 MiB default body limit; uvicorn has none.
    app = web.Application(middlewares=[preflight] if policy.origins else [], client_max_size=MAX_BODY)
    if policy.origins:
        app.on_response_prepare.append(on_prepare)
    app[STATS_KEY] = StreamStats()
    app.router.add_get("/stats", _stats)
    for route in ROUTES:
        if route.method == "GET":  # add_get also answers HEAD, which _handler ends at the headers
            app.router.add_get(route.path, _handler(route, settings))
        else:
            app.router.add_route(route.method, route.path, _handler(route, settings))
    return app
