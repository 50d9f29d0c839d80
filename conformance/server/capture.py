"""One bounded HTTP exchange, recorded byte for byte with arrival times.

Why raw bytes: the checks judge what a client would see, so the body is read with
``aiter_raw`` (nothing decoded behind our back). ``Content-Encoding`` stays visible for the
compression pitfall; gzip/deflate are decoded here in bounded pieces (a zip bomb stops at
``max_bytes``, ``max_events`` or the time bound inside one read), so the checks judge the decoded
stream with true arrival times. The wire reads are recorded too (``raw_arrivals``): buffering is
judged on when bytes reached the client, before any decompression.
Every phase is bounded: headers by ``timeout``, the body by events, seconds and bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import os
import socket
import ssl
import time
import zlib
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import certifi
import httpx

from ..sse import EventParser
from .lateness import ReaderClock
from .overrun import Overrun, TimeBound

__all__ = ["Capture", "End", "Request", "Transport", "capture", "client_for", "tls_context"]

# Reads closer together than this are one arrival: bounds the record for 1-byte dribbles.
MERGE_SECONDS = 0.001
PIECE = 64 * 1024  # decoded bytes handled between two bound checks
HARD_SLACK = 3.0  # seconds past timeout + max_seconds before a stuck exchange is abandoned


class End(str, enum.Enum):
    """How the body ended; only CLEAN and ABORTED are the server's doing."""

    CLEAN = "clean"
    ABORTED = "aborted"  # incomplete chunked body, short Content-Length, reset
    MAX_EVENTS = "max-events"
    MAX_SECONDS = "max-seconds"
    MAX_BYTES = "max-bytes"
    NO_RESPONSE = "no-response"  # no status line and headers within the timeout
    UNREACHABLE = "unreachable"  # connection refused, DNS, TLS handshake: the URL is unusable
    FAILED = "failed"  # connected, but garbage instead of HTTP, a reset, a protocol error
    UNDECODABLE = "undecodable"  # a Content-Encoding the suite cannot decode: body not judged

    @property
    def limited(self) -> bool:
        """We stopped reading, so the tail of the body is our cut, not the server's."""
        return self in (End.MAX_EVENTS, End.MAX_SECONDS, End.MAX_BYTES)


@dataclass(frozen=True)
class Transport:
    """How to connect: which CAs to trust and which HTTP version to speak (curl's flags)."""

    cacert: str | None = None
    insecure: bool = False
    http2: bool = False
    http2_prior_knowledge: bool = False


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
    transport: Transport = Transport()


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
    raw_arrivals: list[tuple[float, int]] = field(default_factory=list, repr=False)  # (time, wire bytes)
    # The reader's lateness before each raw arrival, and before the headers (see lateness.py).
    raw_lateness: list[float] = field(default_factory=list, repr=False)
    headers_late: float = 0.0
    end_late: float = 0.0  # the reader's lateness before it saw the body end
    # its lateness over the whole exchange: elapsed less this is the time it waited on the server
    reader_late: float = 0.0
    on_headers: Callable[[], None] | None = field(default=None, repr=False, compare=False)  # called at once
    # called as the response is closed (its end read, or the suite done with it), while its
    # connection is still open: httpx closes it before the reader sees the end
    on_closing: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    # called with each TCP socket the request connects (P-07 reads the kernel's byte counts)
    on_socket: Callable[[socket.socket | None], None] | None = field(default=None, repr=False, compare=False)
    t_end: float | None = None  # when the body ended or the suite stopped reading it
    t0: float = 0.0  # time.monotonic() when the request was sent: the origin of every time above
    events_seen: int = 0
    end: End = End.CLEAN
    detail: str = ""
    elapsed: float = 0.0
    # what the reader took and spent past max_seconds: one piece at most (see overrun.py)
    past_bound: Overrun = field(default_factory=Overrun)

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

    def _wire(self, now: float, size: int, late: float = 0.0) -> None:
        """A wire read; a read merged into the arrival before it keeps that arrival's lateness
        (the lateness that counts is the one before the read that ended a silence)."""
        if not self.raw_arrivals or now - self.raw_arrivals[-1][0] >= MERGE_SECONDS:
            self.raw_arrivals.append((now, self.raw_size))
            self.raw_lateness.append(late)
        self.raw_size += size


def _decoder(encoding: str | None) -> Callable[[bytes], Iterator[bytes]]:
    """Split one wire read into decoded pieces of at most PIECE bytes (identity: slices).

    Pieces, not one call: a few KiB of gzip can inflate to gigabytes, and the caller checks its
    bounds (bytes, events, time) between pieces."""
    name = (encoding or "").strip().lower()
    if name in ("", "identity"):
        return lambda data: (data[i:i + PIECE] for i in range(0, len(data), PIECE))
    if name not in ("gzip", "x-gzip", "deflate"):
        raise _Undecodable(f"cannot decode Content-Encoding {encoding!r} (the suite asked for gzip)")
    inflater = zlib.decompressobj(47 if name != "deflate" else 15)

    def decode(data: bytes) -> Iterator[bytes]:
        try:
            while data:
                piece = inflater.decompress(data, PIECE)
                data = inflater.unconsumed_tail
                yield piece
        except zlib.error as error:
            raise _Undecodable(f"the {name} body does not decode: {error}") from None

    return decode


class _Undecodable(Exception):
    pass


async def _read_body(response: httpx.Response, cap: Capture, t0: float, clock: _Since,
                     bound: TimeBound) -> None:
    req = cap.request
    decode = _decoder(response.headers.get("content-encoding"))
    parser = EventParser()
    async for raw in response.aiter_raw():
        now = time.monotonic() - t0
        cap._wire(now, len(raw), clock.late())
        for whole in decode(raw):
            piece = whole[: req.max_bytes - len(cap.body)]
            if piece:  # a gzip header decodes to nothing: no arrival to record
                cap._add(now, piece)
                cap.events_seen += len(parser.feed(piece))
            bound.step(len(cap.body))
            end = _bound_reached(cap, t0)
            if end is not None:
                cap.end = end
                return
            await asyncio.sleep(0)  # let the time bound (wait_for) act between pieces
    cap.end = End.CLEAN


def _bound_reached(cap: Capture, t0: float) -> End | None:
    req = cap.request
    if cap.events_seen >= req.max_events:
        return End.MAX_EVENTS
    if len(cap.body) >= req.max_bytes:
        return End.MAX_BYTES
    if time.monotonic() - t0 >= req.max_seconds:
        return End.MAX_SECONDS
    return None


def _build(client: httpx.AsyncClient, req: Request, cap: Capture | None = None) -> httpx.Request:
    # UTF-8 bytes: a Last-Event-ID echoes whatever id the server sent, not only ASCII.
    headers = [(name, value.encode()) for name, value in req.headers]
    hooked = cap is not None and (cap.on_socket or cap.on_closing)
    extensions = {"trace": _connection_tracer(cap)} if hooked else {}
    return client.build_request(req.method, req.url, headers=headers, content=req.data, extensions=extensions)


def _connection_tracer(cap: Capture) -> Callable:
    """An httpcore trace hook: each connected TCP socket to ``on_socket`` (None once the
    connection starts TLS: its byte count then holds the handshake too), and ``on_closing``
    called as the response closes, before its connection does."""
    async def trace(event: str, info: dict) -> None:
        if event == "connection.connect_tcp.complete" and cap.on_socket is not None:
            sock = info["return_value"].get_extra_info("socket")
            if sock is not None:
                cap.on_socket(sock)
        elif event == "connection.start_tls.started" and cap.on_socket is not None:
            cap.on_socket(None)
        elif event == "http11.response_closed.started" and cap.on_closing is not None:
            cap.on_closing()

    return trace


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


MAX_REDIRECTS = 5


def client_for(req: Request) -> httpx.AsyncClient:
    """An httpx client speaking the asked HTTP version, trusting what the user said to trust."""
    tr = req.transport
    return httpx.AsyncClient(timeout=httpx.Timeout(req.timeout, read=None), follow_redirects=True,
                             max_redirects=MAX_REDIRECTS,
                             verify=tls_context(tr.cacert, tr.insecure, tr.http2),
                             http1=not tr.http2_prior_knowledge, http2=tr.http2 or tr.http2_prior_knowledge)


class _Since:
    """The reader's lateness since the previous reading (the first: since it was made)."""

    def __init__(self) -> None:
        self.clock = ReaderClock()
        self.start = self.mark = self.clock.now()

    def late(self) -> float:
        now = self.clock.now()
        late, self.mark = max(now - self.mark, 0.0), now
        return late

    def close(self) -> float:
        """The reader's lateness in all since the clock was made, which is then closed."""
        total = self.clock.now() - self.start
        self.clock.close()
        return max(total, 0.0)


async def _exchange(req: Request, cap: Capture) -> None:
    async with client_for(req) as client:
        clock = _Since()
        t0 = cap.t0 = time.monotonic()
        try:
            sent = client.send(_build(client, req, cap), stream=True)
            response = await asyncio.wait_for(sent, req.timeout)
        except asyncio.TimeoutError:
            cap.end, cap.detail = End.NO_RESPONSE, f"no response headers within {req.timeout:g} s"
            cap.headers_late = clock.late()
        except (httpx.HTTPError, OSError) as error:
            cap.end, cap.detail = unreachable(error, req)
        else:
            await _consume(response, cap, t0, clock)
        finally:
            cap.reader_late = clock.close()
        cap.elapsed = time.monotonic() - t0


async def _consume(response: httpx.Response, cap: Capture, t0: float, clock: _Since) -> None:
    cap.t_headers = time.monotonic() - t0
    cap.headers_late = clock.late()
    cap.status, cap.reason = response.status_code, response.reason_phrase
    if cap.on_headers is not None:
        cap.on_headers()
    cap.http_version = response.http_version
    cap.redirected_to = str(response.url) if response.history else ""
    cap.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
    budget = max(cap.request.max_seconds - cap.t_headers, 0.0)
    bound = TimeBound(t0 + cap.request.max_seconds)
    try:
        await asyncio.wait_for(_read_body(response, cap, t0, clock, bound), budget)
    except asyncio.TimeoutError:
        cap.end = End.MAX_SECONDS
    except _Undecodable as error:
        cap.end, cap.detail = End.UNDECODABLE, str(error)
    except (httpx.HTTPError, OSError) as error:
        cap.end, cap.detail = End.ABORTED, _describe(error)
    finally:  # the hard deadline too: a reader stopped by it has read past its bound
        cap.past_bound = bound.past(len(cap.body))
    cap.t_end = time.monotonic() - t0
    cap.end_late = clock.late()
    with contextlib.suppress(asyncio.TimeoutError, httpx.HTTPError):
        await asyncio.wait_for(response.aclose(), 1.0)


def tls_context(cacert: str | None, insecure: bool, http2: bool) -> ssl.SSLContext:
    """The TLS context for these settings; ``SSL_CERT_FILE``/``SSL_CERT_DIR`` count as settings."""
    return _tls(cacert, insecure, http2, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=8)
def _tls(cacert: str | None, insecure: bool, http2: bool, *_env: str | None) -> ssl.SSLContext:
    """Cached: building a context loads the CA bundle, ~0.1 s a request otherwise.

    --cacert alone, as curl does; else the system store with SSL_CERT_FILE/SSL_CERT_DIR (OpenSSL
    reads them) plus certifi's bundle, so a bare container still verifies public sites."""
    if insecure:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    elif cacert:
        context = ssl.create_default_context(cafile=cacert)
    else:
        context = ssl.create_default_context()
        context.load_verify_locations(certifi.where())
    # httpcore sets ALPN on the context it is given; one context per protocol choice keeps them apart.
    context.set_alpn_protocols(["h2", "http/1.1"] if http2 else ["http/1.1"])
    return context


# Failures before any HTTP exchange: the URL is unusable (exit 2), with what to do about it.
_UNREACHABLE_HINTS = (
    (ssl.SSLCertVerificationError, "the server's certificate is not trusted: pass its CA with "
                                   "--cacert FILE (or SSL_CERT_FILE), or skip the check with -k/--insecure"),
    (ssl.SSLError, "the TLS handshake failed: is this an https:// server? (http:// for plain HTTP)"),
    (socket.gaierror, "the host name does not resolve"),
    (ConnectionRefusedError, "nothing listens there (connection refused)"),
)


def unreachable(error: BaseException, req: Request) -> tuple[End, str]:
    """(UNREACHABLE, why and what to do) for connect/DNS/TLS failures and redirect loops;
    (FAILED, why) otherwise. A failure after a redirect names where it was sent."""
    if isinstance(error, httpx.TooManyRedirects):
        return End.UNREACHABLE, (f"a redirect loop: more than {MAX_REDIRECTS} redirects, the last to "
                                 f"{_failed_url(error)}; give the URL the redirects end at")
    if not isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol)):
        return End.FAILED, _describe(error)
    end, why = _connect_failure(error, req)
    target = _failed_url(error)
    asked = str(httpx.URL(req.url))  # as httpx spells it: http://host:9 is http://host:9/
    return end, (why if target in ("", asked) else f"redirected to {target}, where {why}")


def _failed_url(error: BaseException) -> str:
    with contextlib.suppress(RuntimeError):  # httpx raises it when the error has no request
        return str(error.request.url)  # type: ignore[attr-defined]
    return ""


def _connect_failure(error: BaseException, req: Request) -> tuple[End, str]:
    chain, cause = [], error
    while cause is not None and len(chain) < 8:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for kind, hint in _UNREACHABLE_HINTS:
        found = next((c for c in chain if isinstance(c, kind)), None)
        if found is not None:
            return End.UNREACHABLE, f"{hint} ({_describe(found)})"
    if isinstance(error, httpx.ConnectTimeout):
        return End.UNREACHABLE, f"could not connect within {req.timeout:g} s ({_describe(error)})"
    return End.UNREACHABLE, _describe(error)


def _describe(error: BaseException) -> str:
    """A one-line reason a person can act on, without the httpx class zoo."""
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}".splitlines()[0]
