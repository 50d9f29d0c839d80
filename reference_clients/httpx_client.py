"""httpx transport: ``connect`` (sync) and ``aconnect`` (async) event streams.

Body bytes come from ``iter_bytes`` / ``aiter_bytes`` (content-decoded, never split into lines
nor decoded with a guessed charset); redirects are the machine's, so httpx never follows them.
"""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

import anyio.abc  # these imports: see _TLS below
import anyio.streams.tls
import anyio.to_thread  # noqa: F401
import httpcore  # noqa: F401
import httpx

from ._drive import AsyncEventStream, EventStream
from ._machine import Machine
from ._request import Request
from ._target import make_async_target, make_target

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._options import Options

__all__ = ["aconnect", "async_conformance_target", "conformance_target", "connect"]


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.header = response.headers.get
        self.chunks = response.iter_bytes


class _AsyncResponse(_Response):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response)
        self.chunks = response.aiter_bytes  # type: ignore[assignment]


def _send_args(request: Request) -> dict[str, object]:
    return {"headers": request.header_bytes(), "content": request.body}


# Warm at import: httpx imports httpcore (h11, h2) when its first client is built, httpcore
# imports anyio for the first async request, and a TLS context loads the CA bundle: together
# about 0.2 s of CPU in each new process. Done here, a lane or worker pays it once, at its start.
_TLS: ssl.SSLContext = httpx.create_ssl_context()  # one for every owned client
# httpx reads the proxy variables of the environment at every Client(), 0.2 ms of CPU each, and
# the suite builds a client per run: read once here, as the CA bundle is. With none set, a client
# that does not read them is the same client (with a TLS context given, they are all it reads).
_PROXIED = any(urllib.request.getproxies().get(scheme) for scheme in ("http", "https", "all"))


class _Client:
    """What both transports share: the errors, the timeouts, and who owns the client."""

    # Not all of httpx.TransportError: LocalProtocolError (a bad header) and UnsupportedProtocol
    # are the caller's mistakes and must not loop.
    network_errors = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)
    timeout_errors = (httpx.ReadTimeout,)

    def __init__(self, machine: Machine, client: Any, factory: Callable[..., Any]) -> None:
        self._timeout = httpx.Timeout(machine.timeout, read=machine.read_timeout)
        # One connection per request, as the other transports: a reused connection races a
        # server that closes after its response, and the request that meets the reset is lost.
        self._client = client or factory(
            timeout=self._timeout, limits=httpx.Limits(max_keepalive_connections=0), verify=_TLS,
            trust_env=_PROXIED,
        )
        self._owned = client is None


class _Transport(_Client):
    @contextmanager
    def open(self, request: Request) -> Iterator[_Response]:
        with self._client.stream(
            request.method, request.url, timeout=self._timeout, **_send_args(request)
        ) as response:
            yield _Response(response)

    def close(self) -> None:
        if self._owned:
            self._client.close()


class _AsyncTransport(_Client):
    @asynccontextmanager
    async def open(self, request: Request) -> AsyncIterator[_AsyncResponse]:
        async with self._client.stream(
            request.method, request.url, timeout=self._timeout, **_send_args(request)
        ) as response:
            yield _AsyncResponse(response)

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()


def connect(url: str, *, client: httpx.Client | None = None, **options: Unpack[Options]) -> EventStream:
    """Open an event stream with httpx; iterate it for events. ``client`` is yours to close."""
    machine = Machine(url, **options)
    return EventStream(machine, _Transport(machine, client, httpx.Client))


def aconnect(
    url: str, *, client: httpx.AsyncClient | None = None, **options: Unpack[Options]
) -> AsyncEventStream:
    """Async twin of :func:`connect`: ``async for event in aconnect(url): ...``."""
    machine = Machine(url, **options)
    return AsyncEventStream(machine, _AsyncTransport(machine, client, httpx.AsyncClient))


conformance_target = make_target(connect)
async_conformance_target = make_async_target(aconnect)
