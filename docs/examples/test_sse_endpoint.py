"""Copy this file into your tests: your SSE endpoint checked inside your own pytest suite.

Installing sse-conformance gives pytest the ``sse_conformance`` fixture. Your app is served on
127.0.0.1 (a free port) by uvicorn (ASGI: FastAPI, Starlette, Litestar...) or by a threaded
streaming WSGI server (Flask, Django...) for the length of the check, and judged over real HTTP.
Replace the small app below with ``from myproject.main import app``.
"""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from conformance import check_server

app = FastAPI()
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@app.get("/events")
async def events() -> StreamingResponse:
    async def stream():
        for i in range(1, 4):
            yield f"id: {i}\ndata: tick {i}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers=SSE_HEADERS)


@app.post("/chat")
async def chat() -> StreamingResponse:
    async def stream():
        for word in ("Hello", " world"):
            chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": word}}]}
            yield f"data: {__import__('json').dumps(chunk)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers=SSE_HEADERS)


def test_the_event_stream_conforms(sse_conformance):
    report = sse_conformance.server("/events", app=app)
    assert report.ok, report.explain()


def test_the_chat_stream_speaks_openai(sse_conformance):
    # data= implies POST, as curl -d does
    report = sse_conformance.server("/chat", app=app, profile="openai", data='{"messages": []}',
                                    headers=[("Content-Type", "application/json")])
    assert report.ok, report.explain()


def test_strictly_without_the_fixture():
    # SHOULD findings fail too; raise_for_failures() raises with the explained failures
    check_server("/events", app=app, strict=True).raise_for_failures()
