"""FastAPI adapter: sse-starlette's ``EventSourceResponse`` and serializer, CRLF-separated.

sse-starlette is configured to conform: its unconditional ``Connection: keep-alive`` is removed
(S-05, illegal over HTTP/2), ``Cache-Control: no-cache``, its pinger writes a comment with the
same CRLF separator as the events (S-10, S-18), and HEAD returns headers only (its own #218
fix, P-01). Disconnects cancel the generator, whose cleanup updates ``/stats`` (P-04). Every
error is the same JSON as a 400, Starlette's 404 and 405 included; the body is read with the
same 413 bound as aiohttp's (uvicorn has none of its own).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from . import cors
from .routes import ROUTES, BadRequest, Route, Stream, StreamRequest, parse_body, problem, read_body
from .settings import Settings
from .stats import StreamStats

__all__ = ["SEP", "ConformingEventSourceResponse", "create_app", "stats_of"]

SEP = "\r\n"


class ConformingEventSourceResponse(EventSourceResponse):
    """``EventSourceResponse`` without the hop-by-hop ``Connection`` header it always adds."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("headers", {"Cache-Control": "no-cache"})
        kwargs.setdefault("sep", SEP)
        kwargs.setdefault("ping_message_factory", _ping)
        super().__init__(*args, **kwargs)
        del self.headers["connection"]


def _ping() -> ServerSentEvent:
    return ServerSentEvent(comment="ping", sep=SEP)


async def _items(stream: Stream, stats: StreamStats):
    async for event in stats.track(stream.events):
        yield ServerSentEvent(event.data, event=stream.event_line(event), id=event.id or None, sep=SEP)


async def _stream_request(request: Request, settings: Settings) -> StreamRequest:
    body = None
    if request.method == "POST":
        raw = await read_body(request.stream(), request.headers.get("content-length"), settings.max_body)
        body = parse_body(raw)
    return StreamRequest(
        path_params=dict(request.path_params),
        query=dict(request.query_params),
        last_event_id=request.headers.get("last-event-id", ""),  # Starlette headers: any case
        body=body,
    )


def _endpoint(route: Route, settings: Settings, stats: StreamStats):
    async def endpoint(request: Request) -> Response:
        try:
            stream = route.open(await _stream_request(request, settings), settings)
        except BadRequest as error:
            return JSONResponse(problem(str(error), error.status), status_code=error.status)
        return ConformingEventSourceResponse(
            _items(stream, stats), ping=stream.heartbeat, send_timeout=settings.send_timeout or None
        )

    return endpoint


async def _json_error(request: Request, error: Exception) -> Response:
    """Starlette's 404 and 405 as the same JSON as a 400 (not its ``{"detail": ...}``)."""
    assert isinstance(error, HTTPException)
    return JSONResponse(problem(str(error.detail), error.status_code), status_code=error.status_code,
                        headers=error.headers)


def stats_of(app: FastAPI) -> StreamStats:
    return app.state.stats


def create_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI reference app (any ASGI server; ``running("fastapi")`` uses uvicorn)."""
    settings = Settings.from_env() if settings is None else settings
    stats = StreamStats()
    # redirect_slashes off: /stream/0/ is a JSON 404 like any other unknown path (as on the
    # aiohttp server), not a 307 to /stream/0 (the property test found /stream/0%2F)
    app = FastAPI(title="sse-conformance reference server", openapi_url=None, docs_url=None,
                  redoc_url=None, redirect_slashes=False)
    app.state.stats = stats
    app.add_exception_handler(HTTPException, _json_error)

    async def stats_endpoint(request: Request) -> Response:
        return JSONResponse(stats.as_json())

    app.add_route("/stats", stats_endpoint, methods=["GET"])
    for route in ROUTES:
        app.add_route(route.path, _endpoint(route, settings, stats), methods=[route.method])
    if settings.allowed_origins:
        # '*' grants no credentials (Starlette would echo any origin with them); with '*' in
        # the list the named origins lose credentials too: the safe side of the one switch
        any_origin = "*" in settings.allowed_origins
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins),
            allow_credentials=not any_origin,
            allow_methods=list(cors.ALLOW_METHODS),
            allow_headers=list(cors.ANY_ORIGIN_HEADERS if any_origin else cors.ALLOW_HEADERS),
            max_age=cors.MAX_AGE,
        )
    return app
