"""Judging a response's status line and headers: open, stop, follow a redirect, or fail.

Redirects are followed here rather than by each HTTP library, so that every transport behaves
the same: a 3xx with a missing or empty Location is an error, not a loop (N-07), credentials
are dropped on a cross-origin hop (N-08), and the hop limit is the Fetch standard's 20.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

from ._errors import InvalidContentType, InvalidRedirect, InvalidStatus
from ._request import Request

__all__ = ["MAX_REDIRECTS", "Verdict", "judge", "mime_essence", "redirected"]

MAX_REDIRECTS = 20
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding", "content-language"})


class Verdict(enum.Enum):
    OPEN = "open"  # 200 text/event-stream: read the body
    STOP = "stop"  # 204: the server asks the client to stop for good (N-05)
    REDIRECT = "redirect"  # a 3xx with a Location: make the request redirected() returns


def mime_essence(content_type: str | None) -> str | None:
    """type/subtype, lowercased and stripped of parameters (N-03), or None if absent."""
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip(" \t").lower()


def judge(request: Request, status: int, header: Callable[[str], str | None]) -> Verdict:
    """Decide what a response means; raise the matching :class:`SSEError` for a failure.

    ``header(name)`` looks a response header up case-insensitively (None when absent).
    """
    if status == 200:
        content_type = header("content-type")
        if mime_essence(content_type) != "text/event-stream":
            raise InvalidContentType(content_type, request.url)
        return Verdict.OPEN
    if status == 204:
        return Verdict.STOP
    if status in REDIRECT_STATUSES:
        if not header("location"):
            raise InvalidRedirect(status, request.url, "missing or empty Location header")
        return Verdict.REDIRECT
    raise InvalidStatus(status, request.url)


def redirected(request: Request, status: int, location: str) -> Request:
    """The request a redirect asks for, as Fetch's HTTP-redirect fetch builds it."""
    url = urljoin(request.url, location.strip())
    if urlsplit(url).scheme not in ("http", "https"):
        raise InvalidRedirect(status, request.url, f"Location {location!r} is not an http(s) URL")
    method, body, drop = request.method, request.body, set()
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, body, drop = "GET", None, set(_BODY_HEADERS)
    if _origin(url) != _origin(request.url):
        drop |= _CREDENTIAL_HEADERS
    headers = tuple((n, v) for n, v in request.headers if n.lower() not in drop)
    return replace(request, method=method, url=url, headers=headers, body=body)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.hostname, port
