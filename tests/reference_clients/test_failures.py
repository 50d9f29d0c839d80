"""Failing for good: 204, bad statuses, wrong MIME types, broken redirects, hostile peers."""

from __future__ import annotations

import pytest
from refclients_support import HOLD, Reply

from conformance.sse import Event
from reference_clients import (
    ConnectionLost,
    InvalidContentType,
    InvalidRedirect,
    InvalidStatus,
    LimitExceeded,
    ReadTimeout,
)


def test_204_stops_cleanly_with_no_further_request(server, client):
    url = server.script(Reply(status=204, headers={}))
    run = client(url)
    assert (run.events, run.error) == ([], None)
    assert len(server.seen(url)) == 1


@pytest.mark.parametrize("status", [201, 404, 500, 503])
def test_non_200_status_raises_with_no_further_request(server, client, status):
    url = server.script(Reply([b"data: never\n\n"], status=status))
    run = client(url)
    assert run.events == []
    assert isinstance(run.error, InvalidStatus)
    assert run.error.status == status
    assert len(server.seen(url)) == 1


@pytest.mark.parametrize("content_type", ["text/html", "text/x-bogus", None, "text/event-streams"])
def test_wrong_content_type_raises_with_no_further_request(server, client, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    url = server.script(Reply([b"data: never\n\n"], headers=headers))
    run = client(url)
    assert run.events == []
    assert isinstance(run.error, InvalidContentType)
    assert run.error.content_type == content_type
    assert len(server.seen(url)) == 1


@pytest.mark.parametrize("location", [None, ""])
def test_redirect_without_location_is_an_error_not_a_loop(server, client, location):
    headers = {} if location is None else {"Location": location}
    url = server.script(Reply(status=301, headers=headers))
    run = client(url)
    assert isinstance(run.error, InvalidRedirect)
    assert len(server.seen(url)) == 1


def test_never_ending_line_raises_the_bound_error(server, client):
    url = server.script(Reply([b"data: " + b"x" * 4096] * 8 + [HOLD]))
    run = client(url, max_line_bytes=16 * 1024)
    assert isinstance(run.error, LimitExceeded)
    assert len(server.seen(url)) == 1


def test_huge_event_raises_the_bound_error(server, client):
    lines = b"data: " + b"x" * 1000 + b"\n"
    url = server.script(Reply([lines * 4] * 6 + [HOLD]))
    run = client(url, max_event_bytes=20_000)
    assert isinstance(run.error, LimitExceeded)


def test_silent_peer_hits_the_read_timeout(server, client):
    url = server.script(Reply([b"data: a\n\n", HOLD]))
    run = client(url, read_timeout=0.3, max_reconnects=0)
    assert run.events == [Event("message", "a")]
    assert isinstance(run.error, ReadTimeout)


def test_read_timeout_reconnects_when_allowed(server, client):
    url = server.script(Reply([b"id: 9\ndata: a\n\n", HOLD]), Reply([b"data: b\n\n"]))
    run = client(url, read_timeout=0.3)
    assert run.error is None
    assert [e.data for e in run.events] == ["a", "b"]
    assert server.seen(url)[1].header("Last-Event-ID") == b"9"


def test_unreachable_server_raises_once_reconnects_run_out(client):
    run = client("http://127.0.0.1:9/", max_reconnects=1)
    assert isinstance(run.error, ConnectionLost)
    assert not isinstance(run.error, ReadTimeout)
    assert run.error.__cause__ is not None


def test_a_callers_mistake_is_raised_not_retried(server, client):
    # A header value with a line break is refused by every HTTP library; retrying cannot help.
    url = server.script(Reply([b"data: a\n\n"]))
    with pytest.raises(Exception) as raised:  # each library has its own exception for this
        client(url, headers={"X-Bad": "a\r\nInjected: 1"}, max_reconnects=None)
    assert not isinstance(raised.value, ConnectionLost)
    assert server.seen(url) == []
