"""One exception hierarchy for every reference client, whatever its HTTP library.

Callers catch :class:`SSEError` for "the stream is over and will not come back"; the subclasses
say why, and each carries the response status or the underlying cause where there is one.
"""

from __future__ import annotations

__all__ = [
    "ConnectionLost",
    "InvalidContentType",
    "InvalidRedirect",
    "InvalidStatus",
    "LimitExceeded",
    "ReadTimeout",
    "SSEError",
]


class SSEError(Exception):
    """The event stream failed and the client will not reconnect."""


class InvalidStatus(SSEError):
    """The server answered with a status other than 200 (N-04); 204 is a clean stop, not this."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"expected HTTP 200 from {url}, got {status}; not reconnecting (N-04)")
        self.status = status
        self.url = url


class InvalidRedirect(InvalidStatus):
    """A 3xx without a usable Location, or too many redirects (N-07): an error, never a loop."""

    def __init__(self, status: int, url: str, reason: str) -> None:
        SSEError.__init__(self, f"redirect {status} from {url}: {reason} (N-07)")
        self.status = status
        self.url = url


class InvalidContentType(SSEError):
    """A 200 whose MIME essence is not text/event-stream (N-03); the stream is not read."""

    def __init__(self, content_type: str | None, url: str) -> None:
        shown = "no Content-Type" if content_type is None else f"Content-Type {content_type!r}"
        super().__init__(f"expected text/event-stream from {url}, got {shown} (N-03)")
        self.content_type = content_type
        self.url = url


class LimitExceeded(SSEError):
    """A line or an event passed the client's bound: the peer is hostile or broken."""


class ConnectionLost(SSEError):
    """A network error, and no reconnect is left (``max_reconnects``); ``__cause__`` has it."""


class ReadTimeout(ConnectionLost):
    """The peer sent nothing for ``read_timeout`` seconds, and no reconnect is left."""
