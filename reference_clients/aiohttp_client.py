"""aiohttp transport: an async event stream over an ``aiohttp.ClientSession``.

Body bytes come from ``content.iter_any()`` (whatever has arrived), never ``readline`` or line
iteration, which split on LF only and so never end a CR-terminated line.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import aiohttp

from ._drive import AsyncEventStream
from ._machine import Machine
from ._request import Request
from ._target import make_async_target

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._options import Options

__all__ = ["conformance_target", "connect"]

# aiohttp >= 3.10 tells a read timeout apart; before that every timeout is ServerTimeoutError.
_READ_TIMEOUT = getattr(aiohttp, "SocketTimeoutError", aiohttp.ServerTimeoutError)


class _Response:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.status = response.status
        self.header = response.headers.get
        self.chunks = response.content.iter_any


def _own_session() -> aiohttp.ClientSession:
    """A session that never reuses a connection and never resends a request by itself.

    Reuse races a server that closes after a response (the redirect then meets a reset and the
    reconnect goes back to the original URL), and aiohttp >= 3.10 resends a GET at once when the
    server drops it, which would skip the reconnection time (N-09, N-13). Neither has a public
    switch for the second, hence the guarded private attribute.
    """
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
    return session


class _Transport:
    # Connection failures only: InvalidURL and the like are the caller's mistakes, never retried.
    network_errors = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)
    timeout_errors = (_READ_TIMEOUT,)

    def __init__(self, machine: Machine, session: aiohttp.ClientSession | None) -> None:
        self._session = session
        self._owned = session is None
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=machine.timeout, sock_read=machine.read_timeout
        )

    @asynccontextmanager
    async def open(self, request: Request) -> AsyncIterator[_Response]:
        if self._session is None:  # made here: a session needs the running loop
            self._session = _own_session()
        # aiohttp would add Content-Type: application/octet-stream to a bytes body; the other
        # transports send none, so only the caller's Content-Type goes out.
        skip = () if request.header("content-type") else ("Content-Type",)
        async with self._session.request(
            request.method,
            request.url,
            headers=list(request.headers),
            data=request.body,
            allow_redirects=False,  # the machine follows redirects (N-06, N-07, N-08)
            timeout=self._timeout,
            skip_auto_headers=skip,
        ) as response:
            yield _Response(response)

    async def aclose(self) -> None:
        if self._owned and self._session is not None:
            await self._session.close()


def connect(
    url: str, *, session: aiohttp.ClientSession | None = None, **options: Unpack[Options]
) -> AsyncEventStream:
    """``async for event in connect(url): ...`` with aiohttp. ``session`` is yours to close."""
    machine = Machine(url, **options)
    return AsyncEventStream(machine, _Transport(machine, session))


conformance_target = make_async_target(connect)
