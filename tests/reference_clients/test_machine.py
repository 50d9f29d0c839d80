"""The sans-IO machine alone: transitions, requests, response verdicts and redirects, no sockets."""

from __future__ import annotations

import pytest

from conformance.sse import Event
from reference_clients import (
    ConnectionLost,
    InvalidContentType,
    InvalidRedirect,
    InvalidStatus,
    LimitExceeded,
    Machine,
    ReadTimeout,
    State,
)
from reference_clients._judge import Verdict, mime_essence, redirected
from reference_clients._machine import TRANSITIONS, Input
from reference_clients._request import Request


def headers(**values: str):
    table = {k.lower().replace("_", "-"): v for k, v in values.items()}
    return lambda name: table.get(name.lower())


SSE = headers(content_type="text/event-stream")


def opened(machine: Machine) -> Machine:
    assert machine.response(200, SSE) is Verdict.OPEN
    return machine


def test_every_state_can_close_and_closed_is_final():
    assert all(TRANSITIONS[state, Input.CLOSE] is State.CLOSED for state in State)
    assert [key for key in TRANSITIONS if key[0] is State.CLOSED] == [(State.CLOSED, Input.CLOSE)]


def test_an_input_outside_the_table_is_a_transport_bug():
    machine = Machine("http://h/")
    with pytest.raises(RuntimeError, match="transport bug"):
        machine.waited()  # still CONNECTING


def test_first_request_has_sse_headers_and_no_last_event_id():
    request = Machine("http://h/", headers={"X-A": "1"}).request
    assert (request.method, request.url, request.body) == ("GET", "http://h/", None)
    assert request.header("accept") == "text/event-stream"
    assert request.header("cache-control") == "no-cache"
    assert request.header("x-a") == "1"
    assert request.header("last-event-id") is None


def test_a_last_event_id_header_from_the_caller_is_the_preset():
    machine = Machine("http://h/", headers={"last-event-id": "7"})
    assert machine.last_event_id == "7"
    assert [n for n, _ in machine.request.headers if n.lower() == "last-event-id"] == ["Last-Event-ID"]


def test_parser_state_resets_but_id_and_retry_survive_a_reconnect():
    machine = opened(Machine("http://h/", retry_ms=10))
    assert machine.feed(b"retry: 20\nid: abc\ndata: Hello\n\nid: def\ndata: Good") == [
        Event("message", "Hello", "abc")
    ]
    machine.body_ended()
    assert (machine.state, machine.delay) == (State.WAITING, 0.02)
    machine.waited()
    assert machine.request.header("Last-Event-ID") == "abc"
    opened(machine)
    assert machine.feed(b"bye\n\n") == []  # the partial line of the old body is gone
    assert machine.feed(b"data: again\n\n") == [Event("message", "again", "abc")]


def test_a_huge_retry_is_clamped_so_sleeping_cannot_overflow():
    machine = opened(Machine("http://h/"))
    machine.feed(b"retry: 99999999999999999999\n\n")
    assert machine.delay == 24 * 3600


@pytest.mark.parametrize(
    ("content_type", "essence"),
    [
        ("text/event-stream", "text/event-stream"),
        ("Text/Event-Stream ;charset=windows-1252", "text/event-stream"),
        ("text/event-stream;", "text/event-stream"),
        ("x bogus", "x bogus"),
        (None, None),
    ],
)
def test_mime_essence(content_type, essence):
    assert mime_essence(content_type) == essence


def test_failures_close_the_machine():
    for status, error in [(500, InvalidStatus), (301, InvalidRedirect)]:
        machine = Machine("http://h/")
        with pytest.raises(error):
            machine.response(status, headers())
        assert machine.state is State.CLOSED
    machine = Machine("http://h/")
    with pytest.raises(InvalidContentType):
        machine.response(200, headers(content_type="text/plain"))
    assert machine.closed


def test_204_closes_cleanly():
    machine = Machine("http://h/")
    assert machine.response(204, headers()) is Verdict.STOP
    assert machine.closed


def test_bound_errors_close_the_machine():
    machine = opened(Machine("http://h/", max_line_bytes=8))
    with pytest.raises(LimitExceeded):
        machine.feed(b"data: 123456789")
    assert machine.closed and machine.feed(b"\n\n") == []


def test_network_errors_retry_until_max_reconnects_then_raise():
    machine = Machine("http://h/", max_reconnects=1)
    machine.network_error(OSError("refused"))
    machine.waited()
    with pytest.raises(ReadTimeout) as raised:
        machine.network_error(TimeoutError(), timeout=True)
    assert isinstance(raised.value, ConnectionLost) and machine.closed


def test_redirect_chain_is_bounded():
    machine = Machine("http://h/")
    for _ in range(20):
        machine.response(302, headers(location="/next"))
    with pytest.raises(InvalidRedirect, match="more than 20"):
        machine.response(302, headers(location="/next"))


def _request(method="POST", url="http://a.test/x", body=b"q"):
    pairs = (("Authorization", "t"), ("Content-Type", "application/json"), ("Accept", "text/event-stream"))
    return Request(method, url, pairs, body)


def test_303_and_post_301_become_get_without_body():
    for status in (301, 302, 303):
        request = redirected(_request(), status, "/y")
        assert (request.method, request.url, request.body) == ("GET", "http://a.test/y", None)
        assert request.header("content-type") is None
    kept = redirected(_request(), 307, "/y")
    assert (kept.method, kept.body, kept.header("content-type")) == ("POST", b"q", "application/json")


def test_cross_origin_redirect_drops_credentials_same_origin_keeps_them():
    assert redirected(_request("GET"), 307, "http://b.test/").header("authorization") is None
    assert redirected(_request("GET"), 307, "http://a.test:80/z").header("authorization") == "t"


def test_redirect_to_a_non_http_url_is_refused():
    with pytest.raises(InvalidRedirect):
        redirected(_request("GET"), 302, "ftp://a.test/")
