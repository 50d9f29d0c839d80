"""A caller's own HTTP client or session is used as given and left open; ours are closed."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
import requests
from refclients_support import Reply

from conformance.sse import Event
from reference_clients import aiohttp_client, httpx_client, requests_client

ONE = Reply([b"data: x\n\n"])


def test_httpx_client_is_used_and_left_open(server):
    with httpx.Client(headers={"X-Mine": "1"}) as mine:
        url = server.script(ONE)
        assert list(httpx_client.connect(url, client=mine, max_reconnects=0)) == [Event("message", "x")]
        assert not mine.is_closed
        assert server.seen(url)[0].header("X-Mine") == b"1"


def test_requests_session_is_used_and_left_open(server):
    with requests.Session() as mine:
        mine.headers["X-Mine"] = "1"
        url = server.script(ONE)
        assert list(requests_client.connect(url, session=mine, max_reconnects=0)) == [Event("message", "x")]
        assert mine.get(server.script(Reply(status=204, headers={}))).status_code == 204  # still usable
        assert server.seen(url)[0].header("X-Mine") == b"1"


def test_aiohttp_session_is_used_and_left_open(server):
    async def main() -> list[Event]:
        async with aiohttp.ClientSession(headers={"X-Mine": "1"}) as mine:
            url = server.script(ONE)
            events = [e async for e in aiohttp_client.connect(url, session=mine, max_reconnects=0)]
            assert not mine.closed
            assert server.seen(url)[0].header("X-Mine") == b"1"
            return events

    assert asyncio.run(main()) == [Event("message", "x")]


def test_owned_httpx_client_is_closed_when_the_stream_ends(server):
    stream = httpx_client.connect(server.script(ONE), max_reconnects=0)
    assert list(stream) == [Event("message", "x")]
    assert stream._transport._client.is_closed
