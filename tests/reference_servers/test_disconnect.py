"""A client that goes away frees its stream: /stats active_streams drops back (P-04)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from contextlib import ExitStack

import aiohttp
import httpx
import pytest

import reference_servers
from conformance.sse import EventParser

BOUND = 5.0  # seconds a server may take to notice a disconnect


def _active(base: str) -> int:
    return httpx.get(base + "/stats", timeout=5).json()["active_streams"]


def _wait_for_active(base: str, wanted: int) -> int:
    deadline = time.monotonic() + BOUND
    while (active := _active(base)) != wanted and time.monotonic() < deadline:
        time.sleep(0.02)  # polling a bounded condition, not waiting for time to pass
    return active


@pytest.mark.parametrize("path", ["/events?count=100000&interval=0.01",
                                  "/events?count=2&interval=60",  # idle: only heartbeats flow
                                  "/agent/stream?interval=30"])
def test_disconnect_stops_the_generator(base, path):
    assert _wait_for_active(base, 0) == 0
    before = httpx.get(base + "/stats", timeout=5).json()

    async def read_then_leave() -> None:
        async with aiohttp.ClientSession() as session, session.get(base + path) as response:
            parser = EventParser()
            while not parser.feed(await response.content.readany()):
                pass
            assert _active(base) == 1
        # leaving both blocks closes the connection mid-stream

    asyncio.run(read_then_leave())
    assert _wait_for_active(base, 0) == 0
    after = httpx.get(base + "/stats", timeout=5).json()
    assert after["closed"] == before["closed"] + 1


def test_many_disconnects_leave_nothing_behind(base):
    async def open_and_drop(session: aiohttp.ClientSession) -> None:
        async with session.get(base + "/events?count=100000&interval=0.01") as response:
            await response.content.readany()

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(open_and_drop(session) for _ in range(20)))

    asyncio.run(main())
    assert _wait_for_active(base, 0) == 0


def test_stopping_the_server_ends_open_streams_cleanly(kind):
    """Shutdown ends each body at an event boundary with the final chunk (S-21), no cut."""
    with ExitStack() as server, httpx.Client(timeout=10) as client:
        url = server.enter_context(reference_servers.running(kind, heartbeat=0.05))
        with client.stream("GET", url + "/events?count=5&interval=60") as response:
            parser = EventParser()
            chunks = response.iter_raw()
            events = []
            while not events:
                events += parser.feed(next(chunks))
            server.close()  # stop the server while the stream is open
            rest = b"".join(chunks)  # raises RemoteProtocolError on an incomplete chunked body
    events += parser.feed(rest)
    assert [e.id for e in events] == ["1"] and not parser.pending


def test_a_client_that_stops_reading_is_dropped_after_the_send_timeout(kind):
    """A frozen reader must not hold a stream forever (sse-starlette#89): one 8 MB chunk fills
    every socket buffer, the send cannot finish, and the stream is freed."""
    body = json.dumps({"messages": [{"role": "user", "content": "x" * 8_000_000}], "interval": 0})
    with reference_servers.running(kind, send_timeout=0.3, max_body=16 << 20) as base, \
            socket.socket() as frozen:
        frozen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        frozen.connect(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        frozen.sendall(b"POST /chat/sse HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(body), body.encode()))
        deadline = time.monotonic() + BOUND * 2
        while (stats := httpx.get(base + "/stats").json())["closed"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling a bounded condition
        assert stats == {"active_streams": 0, "opened": 1, "closed": 1}
