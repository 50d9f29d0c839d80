"""One bounded HTTP exchange, recorded byte for byte with arrival times.

Why raw bytes: the checks judge what a client would see, so the body is read with
``aiter_raw`` (nothing decoded behind our back). ``Content-Encoding`` stays visible for the
compression pitfall; gzip/deflate are decoded here, per read and bounded by ``max_bytes`` (a
zip bomb stops at the bound), so the checks judge the decoded stream with true arrival times.
Every phase is bounded: headers by ``timeout``, the body by events, seconds and bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import ssl
import time
import zlib
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

import certifi
import httpx

from ..sse import EventParser

__all__ = ["Capture", "End", "Request", "capture"]

# Reads closer together than this are one arrival: bounds the record for 1-byte dribbles.
MERGE_SECONDS = 0.001
HARD_SLACK = 3.0  # seconds past timeout + max_seconds before a stuck exchange is abandoned


class End(str, enum.Enum):
    """How the body ended; only CLEAN and ABORTED are the server's doing."""

    CLEAN = "clean"
    ABORTED = "aborted"  # incomplete chunked body, short Content-Length, reset
    MAX_EVENTS = "max-events"
    MAX_SECONDS = "max-seconds"
    MAX_BYTES = "max-bytes"
    NO_RESPONSE = "no-response"  # no status line and headers within the timeout
    FAILED = "failed"  # connection refused, DNS, TLS, garbage instead of HTTP
    UNDECODABLE = "undecodable"  # a Content-Encoding the suite cannot decode: body not judged

    @property
    def limited(self) -> bool:
        """We stopped reading, so the tail of the body is our cut, not the server's."""
        return self in (End.MAX_EVENTS, End.MAX_SECONDS, End.MAX_BYTES)


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    data: bytes | None = None
    timeout: float = 10.0
    max_events: int = 1000
    max_seconds: float = 10.0
    max_bytes: int = 8 * 1024 * 1024


@dataclass
class Capture:
    """What one request saw. Times are seconds since the request started."""

    request: Request
    status: int | None = None
    reason: str = ""
    http_version: str = ""
    redirected_to: str = ""  # the final URL when redirects were followed (as EventSource does, N-06)
    headers: list[tuple[str, str]] = field(default_factory=list)
    t_headers: float | None = None
    body: bytearray = field(default_factory=bytearray, repr=False)
    raw_size: int = 0
    arrivals: list[tuple[float, int]] = field(default_factory=list, repr=False)  # (time, body offset)
    events_seen: int = 0
    end: End = End.CLEAN
    detail: str = ""
    elapsed: float = 0.0

    @property
    def answered(self) -> bool:
        return self.status is not None

    def header(self, name: str) -> str | None:
        """All values of a header joined with ", " (RFC 9110 list form), or None."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    def time_at(self, offset: int) -> float | None:
        """When the body byte at ``offset`` arrived."""
        index = bisect_right(self.arrivals, offset, key=lambda a: a[1]) - 1
        return self.arrivals[index][0] if index >= 0 else None

    def _add(self, now: float, data: bytes) -> None:
        if not self.arrivals or now - self.arrivals[-1][0] >= MERGE_SECONDS:
            self.arrivals.append((now, len(self.body)))
        self.body += data


def _decoder(encoding: str | None) -> Callable[[bytes, int], bytes] | None:
    """A bounded incremental decoder for gzip/deflate; None when the body is not encoded."""
    name = (encoding or "").strip().lower()
    if name in ("", "identity"):
        return None
    if name not in ("gzip", "x-gzip", "deflate"):
        raise _Undecodable(f"cannot decode Content-Encoding {encoding!r} (the suite asked for gzip)")
    inflater = zlib.decompressobj(47 if name != "deflate" else 15)

    def decode(data: bytes, room: int) -> bytes:
        try:
            return inflater.decompress(data, max(room, 1))
        except zlib.error as error:
            raise _Undecodable(f"the {name} body does not decode: {error}") from None

    return decode


class _Undecodable(Exception):
    pass


async def _read_body(response: httpx.Response, cap: Capture, t0: float) -> None:
    req = cap.request
    decode = _decoder(response.headers.get("content-encoding"))
    parser = EventParser()
    async for raw in response.aiter_raw():
        now = time.monotonic() - t0
        cap.raw_size += len(raw)
        room = req.max_bytes - len(cap.body)
        data = decode(raw, room) if decode else raw[:room]
        if data:
            cap._add(now, data)
            cap.events_seen += len(parser.feed(data))
        if cap.events_seen >= req.max_events:
            cap.end = End.MAX_EVENTS
            return
        if len(cap.body) >= req.max_bytes:
            cap.end = End.MAX_BYTES
            return
    cap.end = End.CLEAN


def _build(client: httpx.AsyncClient, req: Request) -> httpx.Request:
    # UTF-8 bytes: a Last-Event-ID echoes whatever id the server sent, not only ASCII.
    headers = [(name, value.encode()) for name, value in req.headers]
    return client.build_request(req.method, req.url, headers=headers, content=req.data)


async def capture(req: Request, into: Capture | None = None) -> Capture:
    """Run one request within its bounds. Never raises for anything the server does.

    ``into`` is a Capture to fill (so a progress ticker can watch it grow). A hard deadline
    backs up the per-phase bounds, so even a stuck close (TLS shutdown) cannot hang a run."""
    cap = into if into is not None else Capture(req)
    started = time.monotonic()
    try:
        await asyncio.wait_for(_exchange(req, cap), req.timeout + req.max_seconds + HARD_SLACK)
    except asyncio.TimeoutError:
        if not cap.elapsed:  # stuck before the body was done (else only the close was stuck)
            late = "the exchange passed the suite's hard deadline"
            cap.end, cap.detail = (End.MAX_SECONDS, late) if cap.answered else (End.NO_RESPONSE, late)
    if not cap.elapsed:
        cap.elapsed = time.monotonic() - started
    return cap


async def _exchange(req: Request, cap: Capture) -> None:
    timeout = httpx.Timeout(req.timeout, read=None)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True, max_redirects=5,
                                 verify=_tls()) as client:
        t0 = time.monotonic()
        try:
            response = await asyncio.wait_for(client.send(_build(client, req), stream=True), req.timeout)
        except asyncio.TimeoutError:
            cap.end, cap.detail = End.NO_RESPONSE, f"no response headers within {req.timeout:g} s"
        except (httpx.HTTPError, OSError) as error:
            cap.end, cap.detail = End.FAILED, _describe(error)
        else:
            await _consume(response, cap, t0)
        cap.elapsed = time.monotonic() - t0


async def _consume(response: httpx.Response, cap: Capture, t0: float) -> None:
    cap.t_headers = time.monotonic() - t0
    cap.status, cap.reason = response.status_code, response.reason_phrase
    cap.http_version = response.http_version
    cap.redirected_to = str(response.url) if response.history else ""
    cap.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
    budget = max(cap.request.max_seconds - cap.t_headers, 0.0)
    try:
        await asyncio.wait_for(_read_body(response, cap, t0), budget)
    except asyncio.TimeoutError:
        cap.end = End.MAX_SECONDS
    except _Undecodable as error:
        cap.end, cap.detail = End.UNDECODABLE, str(error)
    except (httpx.HTTPError, OSError) as error:
        cap.end, cap.detail = End.ABORTED, _describe(error)
    with contextlib.suppress(asyncio.TimeoutError, httpx.HTTPError):
        await asyncio.wait_for(response.aclose(), 1.0)


@functools.lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """One TLS context per process: building one loads the CA bundle, ~0.1 s a request otherwise."""
    return ssl.create_default_context(cafile=certifi.where())


def _describe(error: BaseException) -> str:
    """A one-line reason a person can act on, without the httpx class zoo."""
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}".splitlines()[0]
