"""Django's ``StreamingHttpResponse`` over hand-written SSE lines, the pattern of its docs and
tutorials (Django has no SSE helper); the ASGI handler under uvicorn, an async generator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    SECRET_KEY="sse-conformance-report",  # a local test app: nothing is signed
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402  (after settings)
from django.http import HttpRequest, StreamingHttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

from ._content import INTERVAL, after, hand_rolled, openai_payloads  # noqa: E402
from ._serve import serve_asgi  # noqa: E402


def events(request: HttpRequest) -> StreamingHttpResponse:
    async def generate() -> AsyncIterator[str]:
        for item in after(request.headers.get("Last-Event-ID")):
            await asyncio.sleep(INTERVAL)
            yield hand_rolled(item.data, item.event, item.id)

    return StreamingHttpResponse(generate(), content_type="text/event-stream")


def openai(request: HttpRequest) -> StreamingHttpResponse:
    async def generate() -> AsyncIterator[str]:
        for payload in openai_payloads():
            await asyncio.sleep(INTERVAL)
            yield hand_rolled(payload)

    return StreamingHttpResponse(generate(), content_type="text/event-stream")


urlpatterns = [path("events", events), path("openai", openai)]

if __name__ == "__main__":
    serve_asgi(get_asgi_application())
