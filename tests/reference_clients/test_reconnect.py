"""Reconnection: Last-Event-ID, the retry delay, partial events, network errors, limits."""

from __future__ import annotations

from refclients_support import ABORT, HOLD, NO_RESPONSE, Reply

from conformance.sse import Event


def test_reconnect_after_eof_sends_the_last_event_id(server, client):
    url = server.script(Reply([b"id: 42\ndata: a\n\n"]), Reply([b"data: b\n\n"]))
    run = client(url)
    assert run.error is None
    assert run.events == [Event("message", "a", "42"), Event("message", "b", "42")]
    first, second, third = server.seen(url)  # the third is answered 204: the end
    assert first.header("Last-Event-ID") is None
    assert second.header("Last-Event-ID") == b"42"
    assert third.header("Last-Event-ID") == b"42"


def test_non_ascii_id_goes_out_as_utf8_bytes(server, client):
    url = server.script(Reply(["id: …\ndata: a\n\n"]))
    client(url)
    assert server.seen(url)[1].header("Last-Event-ID") == b"\xe2\x80\xa6"


def test_empty_id_means_no_header_at_all(server, client):
    url = server.script(Reply([b"id: 1\ndata: a\n\nid\ndata: b\n\n"]), Reply([b"data: c\n\n"]))
    run = client(url)
    assert [(e.data, e.id) for e in run.events] == [("a", "1"), ("b", ""), ("c", "")]
    assert server.seen(url)[1].header("Last-Event-ID") is None


def test_partial_event_is_discarded_and_its_id_never_applies(server, client):
    # N-14: the drop leaves "id: def" pending; the next connection still resumes from "abc".
    url = server.script(
        Reply([b"id: abc\ndata: Hello\n\nid: def\ndata: Goodbye", ABORT]),
        Reply([b"data: We meet again\n\n"]),
    )
    run = client(url)
    assert run.error is None
    assert run.events == [Event("message", "Hello", "abc"), Event("message", "We meet again", "abc")]
    assert server.seen(url)[1].header("Last-Event-ID") == b"abc"


def _gap(server, url: str) -> float:
    first, second = server.seen(url)[:2]
    assert first.ended is not None
    return second.arrived - first.ended


def test_retry_field_sets_the_delay_before_the_next_request(server, client):
    url = server.script(Reply([b"retry: 150\ndata: a\n\n"]))
    run = client(url, retry_ms=5000)  # the server's 150 ms wins over the configured 5 s
    assert run.events == [Event("message", "a")]
    assert 0.15 <= _gap(server, url) < 3.0


def test_retry_ms_option_is_the_delay_until_the_server_sends_retry(server, client):
    url = server.script(Reply([b"data: a\n\n"]))
    client(url, retry_ms=120)
    assert 0.12 <= _gap(server, url) < 3.0


def test_invalid_retry_values_leave_the_delay_alone(server, client):
    url = server.script(Reply([b"retry: 1_000\nretry: +1000\nretry:  1000\ndata: a\n\n"]))
    client(url, retry_ms=10)
    assert _gap(server, url) < 0.9


def test_network_error_before_the_response_means_retry(server, client):
    url = server.script(Reply([NO_RESPONSE]), Reply([b"data: after\n\n"]))
    run = client(url)
    assert run.error is None
    assert run.events == [Event("message", "after")]
    assert len(server.seen(url)) == 3


def test_max_reconnects_ends_the_stream_cleanly_after_eof(server, client):
    url = server.script(Reply([b"data: a\n\n"]), Reply([b"data: b\n\n"]), Reply([b"data: c\n\n"]))
    run = client(url, max_reconnects=1)
    assert run.error is None
    assert [e.data for e in run.events] == ["a", "b"]
    assert len(server.seen(url)) == 2


def test_leaving_the_loop_closes_without_reconnecting(server, client):
    url = server.script(Reply([b"data: a\n\ndata: b\n\n", HOLD]), Reply([b"data: c\n\n"]))
    run = client(url, limit=1)
    assert run.events == [Event("message", "a")]
    assert len(server.seen(url)) == 1


def test_id_with_outer_spaces_is_sent_without_them(server, client):
    # HTTP trims a header value's outer whitespace; the event keeps the id exactly (N-11).
    url = server.script(Reply([b"id:  x \ndata: a\n\n"]), Reply([b"data: b\n\n"]))
    run = client(url)
    assert run.error is None
    assert [e.id for e in run.events] == [" x ", " x "]
    assert server.seen(url)[1].header("Last-Event-ID") == b"x"


def test_a_dropped_reconnect_still_waits_the_retry_time(server, client):
    # aiohttp resends a dropped GET at once unless told not to; that would skip N-13's wait.
    url = server.script(Reply([b"retry: 150\ndata: a\n\n"]), Reply([NO_RESPONSE]), Reply([b"data: b\n\n"]))
    run = client(url)
    assert [e.data for e in run.events] == ["a", "b"]
    seen = server.seen(url)
    assert len(seen) == 4
    assert seen[1].ended is not None
    assert seen[2].arrived - seen[1].ended >= 0.15
