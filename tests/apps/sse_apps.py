"""Small SSE apps the in-process tests serve: raw ASGI and WSGI, correct and broken.

No framework on purpose: the suite must serve any ASGI 3 / WSGI callable, not one framework's.
"""

import asyncio
import time

HEADERS = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"), ("X-Accel-Buffering", "no")]
EVENTS = [f"id: {i}\ndata: tick {i}\n\n".encode() for i in range(1, 4)]
PAUSE = 0.4  # between the first and the second event of the slow streams


async def asgi_app(scope, receive, send):
    """/events: three events; /slow: a pause after the first; /chat: POST only (405 otherwise)."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path, method = scope["path"], scope["method"]
    if path == "/chat" and method != "POST":
        await send({"type": "http.response.start", "status": 405, "headers": [(b"allow", b"POST")]})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [(k.lower().encode(), v.encode()) for k, v in HEADERS]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if method == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return
    for i, event in enumerate(EVENTS):
        await send({"type": "http.response.body", "body": event, "more_body": True})
        if path == "/slow" and i == 0:
            await asyncio.sleep(PAUSE)
    await send({"type": "http.response.body", "body": b""})


def wsgi_app(environ, start_response):
    """The same endpoints as asgi_app, as a WSGI generator."""
    path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
    if path == "/chat" and method != "POST":
        start_response("405 Method Not Allowed", [("Allow", "POST"), ("Content-Length", "0")])
        return []
    if path == "/chat":
        environ["wsgi.input"].read()
    start_response("200 OK", list(HEADERS))
    if method == "HEAD":
        return []

    def body():
        for i, event in enumerate(EVENTS):
            yield event
            if path == "/slow" and i == 0:
                time.sleep(PAUSE)

    return body()


def merged_app(environ, start_response):
    """Forgets the blank lines between events: three messages merge into one (S-09 fails)."""
    start_response("200 OK", list(HEADERS))
    return [b"id: 1\ndata: a\nid: 2\ndata: b\nid: 3\ndata: c\n\n"]


def crashing_app(environ, start_response):
    raise RuntimeError("boom")


not_an_app = 42


def no_cache_header_app(environ, start_response):
    """Correct framing, but no Cache-Control: S-03 (a SHOULD) warns."""
    start_response("200 OK", [("Content-Type", "text/event-stream"), ("X-Accel-Buffering", "no")])
    return [] if environ["REQUEST_METHOD"] == "HEAD" else list(EVENTS)


ASKED: list[str] = []  # the paths counted_app was asked for


def counted_app(environ, start_response):
    """The good stream, noting each request: whether a run asked the app at all is a fact to check."""
    ASKED.append(environ["PATH_INFO"])
    return wsgi_app(environ, start_response)


CHUNK = (b'data: {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", '
         b'"choices": [{"index": 0, "delta": {"content": "%s"}, "finish_reason": null}]}\n\n')


def chat_app(environ, start_response):
    """An OpenAI-compatible chat stream on POST (the docs/CI.md recipe's second step)."""
    if environ["REQUEST_METHOD"] != "POST":
        start_response("405 Method Not Allowed", [("Allow", "POST"), ("Content-Length", "0")])
        return []
    environ["wsgi.input"].read()
    start_response("200 OK", list(HEADERS))
    return [CHUNK % b"hel", CHUNK % b"lo", b"data: [DONE]\n\n"]
