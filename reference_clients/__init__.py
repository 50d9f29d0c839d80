"""Reference SSE clients: one sans-IO reconnection machine, thin aiohttp/httpx/requests transports.

Each transport module has ``connect(url, **options)`` (httpx also ``aconnect``; aiohttp's is
async-iterable) yielding :class:`conformance.sse.Event` s, reconnecting with ``Last-Event-ID``
after the ``retry`` delay, stopping on 204, and raising an :class:`SSEError` subclass on a bad
status, a wrong Content-Type or a hostile peer. The transports are imported on demand, so
using one does not require the other HTTP libraries.
"""

from ._drive import AsyncEventStream, EventStream
from ._errors import (
    ConnectionLost,
    InvalidContentType,
    InvalidRedirect,
    InvalidStatus,
    LimitExceeded,
    ReadTimeout,
    SSEError,
)
from ._machine import Comment, Machine, Notice, State
from ._request import Request

__all__ = [
    "AsyncEventStream",
    "Comment",
    "ConnectionLost",
    "EventStream",
    "InvalidContentType",
    "InvalidRedirect",
    "InvalidStatus",
    "LimitExceeded",
    "Machine",
    "Notice",
    "ReadTimeout",
    "Request",
    "SSEError",
    "State",
]
