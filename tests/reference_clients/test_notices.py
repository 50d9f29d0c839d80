"""Notices (``notifications=True``): what an EventSource fires as open and error, in order
among the events, from the machine alone and from every transport on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest
from refclients_support import ABORT, NO_RESPONSE, Reply

from conformance.sse import Event
from reference_clients import (
    InvalidStatus,
    Machine,
    Notice,
    State,
    aiohttp_client,
    httpx_client,
    requests_client,
)
from reference_clients._machine import NOTICES, TRANSITIONS, Input

OPEN = Notice("open", State.OPEN)
RECONNECTING = Notice("error", State.WAITING)  # readyState CONNECTING: a reconnect follows
FAILED = Notice("error", State.CLOSED)
SSE = {"content-type": "text/event-stream"}.get


def test_announce_fires_open_reestablish_and_fail_fire_error_and_nothing_else_fires():
    """The spec's three steps, as the table says them: into OPEN is open; into WAITING or
    CLOSED is error, except the caller's own close; a redirect and the wait fire nothing."""
    for (_, event), state in TRANSITIONS.items():
        if state is State.OPEN:
            assert NOTICES.get(event) == "open", event
        elif state in (State.WAITING, State.CLOSED) and event is not Input.CLOSE:
            assert NOTICES.get(event) == "error", event
        else:
            assert event not in NOTICES, event


def test_the_machine_notes_each_notice_with_the_state_it_left_only_when_asked():
    machine = Machine("http://h/", notifications=True)
    machine.network_error(OSError("refused"))
    machine.waited()
    machine.response(200, SSE)
    machine.body_ended()
    assert machine.take_notices() == [RECONNECTING, OPEN, RECONNECTING] and machine.take_notices() == []
    machine.waited()
    with pytest.raises(InvalidStatus):
        machine.response(500, SSE)
    assert machine.take_notices() == [FAILED]
    quiet = Machine("http://h/")
    quiet.response(200, SSE)
    quiet.body_ended()
    assert quiet.take_notices() == []
    closed = Machine("http://h/", notifications=True)
    closed.close()
    assert closed.take_notices() == []  # close() fires no error


def test_every_transport_yields_notices_among_its_events(server, client):
    url = server.script(
        Reply([b"retry: 10\ndata: a\n\n"]),
        Reply([b"data: b\n\ndata: par", ABORT]),
        Reply([NO_RESPONSE]),
        Reply([b"data: c\n\n"]),
    )
    run = client(url, notifications=True)
    assert run.error is None
    a, b, c = (Event("message", data) for data in "abc")
    # EOF, a drop, a network error before any response: each an error before the reconnect;
    # the final 204 fails the connection
    assert run.events == [
        *(OPEN, a, RECONNECTING),
        *(OPEN, b, RECONNECTING),
        RECONNECTING,
        *(OPEN, c, RECONNECTING),
        FAILED,
    ]


TARGETS = {
    "httpx": httpx_client.conformance_target,
    "requests": requests_client.conformance_target,
    "httpx-async": httpx_client.async_conformance_target,
    "aiohttp": aiohttp_client.conformance_target,
}


@pytest.mark.parametrize("target", TARGETS.values(), ids=TARGETS.keys())
def test_a_target_whose_first_connection_fails_reports_the_error_then_raises(server, target):
    """The target connects before returning; the failure is raised only after its notice."""
    url = server.script(Reply([b"data: no\n\n"], status=500))

    async def drain(reports) -> list[object]:
        if asyncio.iscoroutine(reports):
            reports = await reports
        got: list[object] = []
        with pytest.raises(InvalidStatus):
            while True:
                got.append(await reports.__anext__() if hasattr(reports, "__anext__") else next(reports))
        return got

    assert asyncio.run(drain(target(url))) == [{"error": True}]
    assert len(server.seen(url)) == 1
