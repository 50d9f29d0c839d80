"""The client-suite targets on their own: inputs mapped, connected before returning, reports shaped
(the opening's notice first: it came before the body)."""

from __future__ import annotations

import asyncio

import pytest
from refclients_support import HOLD, Reply

from conformance.client.runner import CAPABILITIES
from conformance.sse import Event
from reference_clients import aiohttp_client, httpx_client, requests_client

SYNC = {"httpx": httpx_client.conformance_target, "requests": requests_client.conformance_target}
ASYNC = {"httpx-async": httpx_client.async_conformance_target, "aiohttp": aiohttp_client.conformance_target}
BODY = Reply([b":c\ndata: a\n\n", HOLD])
EXPECTED = [{"open": True}, Event("message", "a"), {"comment": "c"}]


@pytest.mark.parametrize("target", [*SYNC.values(), *ASYNC.values()], ids=[*SYNC, *ASYNC])
def test_capabilities_are_the_runners_names(target):
    names = {"reconnect", "last-event-id", "retry", "post", "headers", "close", "comments"}
    assert names | {"read-timeout", "restart", "open", "notifications"} == set(target.capabilities)
    assert set(target.capabilities) <= set(CAPABILITIES)


@pytest.mark.parametrize("target", SYNC.values(), ids=SYNC.keys())
def test_sync_target_connects_before_returning_and_reports_comments_and_notices(server, target):
    url = server.script(BODY)
    inputs = {"method": "POST", "body": "b", "headers": {"X-A": "1"}, "last_event_id": "7"}
    reports = target(url, initial_retry_ms=5, **inputs)
    assert len(server.seen(url)) == 1  # before any iteration: a close now still made its request
    assert [next(reports) for _ in EXPECTED] == [EXPECTED[0], Event("message", "a", "7"), *EXPECTED[2:]]
    reports.close()
    first = server.seen(url)[0]
    assert (first.method, first.body, first.header("X-A"), first.header("Last-Event-ID")) == (
        "POST",
        b"b",
        b"1",
        b"7",
    )


@pytest.mark.parametrize("target", ASYNC.values(), ids=ASYNC.keys())
def test_async_target_connects_before_returning_and_reports_comments_and_notices(server, target):
    url = server.script(BODY)

    async def main() -> list[object]:
        reports = await target(url)
        assert len(server.seen(url)) == 1
        got = [await reports.__anext__() for _ in EXPECTED]
        await reports.aclose()
        return got

    assert asyncio.run(main()) == EXPECTED
    assert len(server.seen(url)) == 1  # closed: no reconnect
