"""What goes on the wire: default headers, custom headers, method and body, preset ID, redirects."""

from __future__ import annotations

import json

from refclients_support import Reply

from conformance.sse import Event

ONE = Reply([b"data: x\n\n"])


def test_default_request_is_a_get_with_sse_headers_and_no_last_event_id(server, client):
    url = server.script(ONE)
    assert client(url).events == [Event("message", "x")]
    first = server.seen(url)[0]
    assert first.method == "GET"
    assert first.header("Accept") == b"text/event-stream"
    assert first.header("Cache-Control") == b"no-cache"
    assert first.header("Last-Event-ID") is None
    assert first.body == b""


def test_custom_headers_replace_defaults_and_are_sent_on_every_request(server, client):
    url = server.script(ONE)
    client(url, headers={"Authorization": "Bearer t", "accept": "text/event-stream, */*"})
    seen = server.seen(url)
    assert len(seen) == 2  # the reconnect after EOF, answered 204
    for request in seen:
        assert request.header("Authorization") == b"Bearer t"
        assert request.header("Accept") == b"text/event-stream, */*"


def test_post_body_is_resent_on_every_reconnect(server, client):
    url = server.script(Reply([b"id: 1\ndata: a\n\n"]), Reply([b"data: b\n\n"]))
    run = client(url, method="POST", body='{"q": "é"}', headers={"Content-Type": "application/json"})
    assert [e.data for e in run.events] == ["a", "b"]
    seen = server.seen(url)
    assert len(seen) == 3
    assert {(r.method, r.body, r.header("Content-Type")) for r in seen} == {
        ("POST", '{"q": "é"}'.encode(), b"application/json")
    }


def test_json_body_sets_content_type(server, client):
    url = server.script(ONE)
    client(url, method="post", json={"n": 1})
    first = server.seen(url)[0]
    assert (first.method, json.loads(first.body), first.header("Content-Type")) == (
        "POST",
        {"n": 1},
        b"application/json",
    )


def test_preset_last_event_id_is_sent_on_the_first_request(server, client):
    url = server.script(ONE)
    run = client(url, last_event_id="…7")
    assert run.events == [Event("message", "x", "…7")]  # the preset is the last event ID (N-19)
    assert server.seen(url)[0].header("Last-Event-ID") == "…7".encode()


def test_redirect_is_followed_and_reconnects_start_from_the_original_url(server, client):
    target = server.script(Reply([b"data: moved\n\n"]), name="target")
    redirect = server.script(Reply(status=307, headers={"Location": server.path(target)}))
    run = client(redirect)
    assert run.error is None
    assert run.events == [Event("message", "moved")]
    # The reconnect goes back to the original URL, which now answers 204 (N-06).
    assert len(server.seen(redirect)) == 2
    assert len(server.seen(target)) == 1


def test_303_turns_a_post_into_a_get_without_body(server, client):
    target = server.script(Reply([b"data: ok\n\n"]), name="target")
    redirect = server.script(Reply(status=303, headers={"Location": server.path(target)}))
    assert client(redirect, method="POST", body="q", max_reconnects=0).events == [Event("message", "ok")]
    assert (server.seen(target)[0].method, server.seen(target)[0].body) == ("GET", b"")


def test_307_keeps_a_post_and_its_body(server, client):
    target = server.script(Reply([b"data: ok\n\n"]), name="target")
    redirect = server.script(Reply(status=307, headers={"Location": server.path(target)}))
    assert client(redirect, method="POST", body="q", max_reconnects=0).events == [Event("message", "ok")]
    assert [(r.method, r.body) for r in server.seen(target)] == [("POST", b"q")]
