"""A request-head deadline for uvicorn, which has none: half-sent requests must not stay forever.

uvicorn arms its keep-alive timer only after a response and cancels it on any byte received, so
a client that sends ``GET / HTTP/1.1\\r\\nHost:`` and stops holds a connection for good (300 of
them held 300 sockets). This h11 protocol arms the same timer when the connection opens and
keeps it running until a *whole* request head has arrived (h11 then reports the request, which
cancels it); after a response uvicorn re-arms it itself. The timer's length is
``Config.timeout_keep_alive``; aiohttp needs no such class, its keep-alive timeout works so.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HeadDeadlineProtocol"]


class HeadDeadlineProtocol(H11Protocol):
    """``uvicorn.Config(http=HeadDeadlineProtocol, timeout_keep_alive=S)``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        # Unlike H11Protocol, bytes alone do not stop the timer: only a complete request head.
        self.conn.receive_data(data)
        self.handle_events()

    def _arm(self) -> None:
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive,
                                                            self.timeout_keep_alive_handler)
