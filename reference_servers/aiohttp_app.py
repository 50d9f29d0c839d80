"""aiohttp adapter: a raw ``StreamResponse`` writing the core serializer's bytes, LF-separated.

Headers are exactly what S-01..S-05 want and nothing hop-by-hop (no ``Connection``, unlike
aiohttp-sse). Each event is one ``write`` (flushed at once, S-06); heartbeats are comments
(S-18). Run with ``handler_cancellation=True`` so a client disconnect cancels the handler and
the scenario's cleanup runs at once (P-04), and with a keep-alive timeout of
``settings.header_timeout``: aiohttp arms it when a connection opens and after each response,
and it closes a connection still waiting for a whole request head (half-sent requests);
:func:`runner_options` says so for every runner. Every error is JSON, 404 and 405 included.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from conformance.sse import Event, encode

from .cors import CorsPolicy
from .heartbeat import Heartbeat
from .routes import ROUTES, BadRequest, Route, Stream, StreamRequest, parse_body, problem, read_body
from .settings import Settings
from .stats import StreamStats

__all__ = ["HEADERS", "SEP", "create_app", "runner_options", "stats_of"]

SEP = "\n"
HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
PING = encode(comment="ping", sep=SEP)
STATS_KEY = web.AppKey("stats", StreamStats)
_DISCONNECTED = (ConnectionResetError, BrokenPipeError)


def runner_options(settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for ``web.AppRunner``: cancel handlers on disconnect, and close
    connections that do not send a whole request head within ``header_timeout``."""
    settings = Settings() if settings is None else settings
    return {"handler_cancellation": True, "shutdown_timeout": 0.5, "access_log": None,
            "keepalive_timeout": settings.header_timeout}


def wire(stream: Stream, event: Event) -> bytes:
    return encode(event.data, event=stream.event_line(event), id=event.id or None, sep=SEP)


async def _stream_request(request: web.Request, settings: Settings) -> StreamRequest:
    body = None
    if request.can_read_body:
        raw = await read_body(request.content.iter_any(), request.headers.get("Content-Length"),
                              settings.max_body)
        body = parse_body(raw)
    return StreamRequest(
        path_params=dict(request.match_info),
        query=dict(request.query),
        last_event_id=request.headers.get("Last-Event-ID", ""),  # CIMultiDict: any case
        body=body,
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
            stream = route.open(await _stream_request(request, settings), settings)
        except BadRequest as error:
            return web.json_response(problem(str(error), error.status), status=error.status)
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
        with contextlib.suppress(*_DISCONNECTED):  # it left after the last event, before the end
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


@web.middleware
async def _json_errors(request: web.Request, handler):
    """The router's 404 and 405 (and any other HTTP error) as the same JSON as a 400."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        headers = {k: v for k, v in error.headers.items() if k.lower() == "allow"}
        return web.json_response(problem(error.reason, error.status), status=error.status,
                                 headers=headers)


def stats_of(app: web.Application) -> StreamStats:
    return app[STATS_KEY]


def create_app(settings: Settings | None = None) -> web.Application:
    """The aiohttp reference app (serve it with :func:`runner_options`)."""
    settings = Settings.from_env() if settings is None else settings
    policy = CorsPolicy(settings.allowed_origins)
    preflight, on_prepare = _cors(policy)
    middlewares = [_json_errors, preflight] if policy.origins else [_json_errors]
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body)
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
