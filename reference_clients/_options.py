"""The keyword options every reference client takes, declared once for type checkers."""

from __future__ import annotations

from typing import Any, TypedDict

from ._request import Headers

__all__ = ["Options"]


class Options(TypedDict, total=False):
    """``connect(url, **options)``: the same keywords for every transport.

    ``timeout`` bounds connecting (seconds); ``read_timeout`` bounds silence while reading, any
    byte resetting it (N-19), and on expiry the client reconnects like after a network error.
    ``max_line_bytes`` / ``max_event_bytes`` bound memory against a hostile peer (None: none).
    ``comments=True`` also yields a :class:`~reference_clients.Comment` for each comment line;
    ``notifications=True`` a :class:`~reference_clients.Notice` for what an EventSource fires
    as ``open`` and ``error``.
    """

    method: str
    headers: Headers | None
    body: bytes | str | None
    json: Any
    last_event_id: str
    retry_ms: int
    max_reconnects: int | None
    timeout: float | None
    read_timeout: float | None
    max_line_bytes: int | None
    max_event_bytes: int | None
    comments: bool
    notifications: bool
