"""What actually goes on the wire, read from a raw socket: headers, framing, heartbeats, HEAD."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest
from refservers_support import raw_request

from conformance.sse import EventParser, LineDecoder, LineKind
from reference_servers import ENDPOINTS

SEPARATOR = {"aiohttp": "\n", "fastapi": "\r\n"}
HOP_BY_HOP = ("Connection", "Keep-Alive", "Proxy-Connection", "Upgrade")


@pytest.mark.parametrize("ep", ENDPOINTS, ids=lambda e: e.name)
def test_headers_and_framing_on_the_wire(base, kind, ep):
    response = raw_request(base, ep.method, ep.url_path, body=ep.body_text(),
                           headers={"Accept-Encoding": "gzip, br"})
    assert response.status == 200
    content_type = response.header("Content-Type")
    assert len(content_type) == 1
    essence = content_type[0].replace(" ", "").lower()
    assert essence in ("text/event-stream", "text/event-stream;charset=utf-8")
    assert response.header("Cache-Control")[0] in ("no-cache", "no-store")
    assert response.header("X-Accel-Buffering") == ["no"]
    for name in ("Content-Length", "Content-Encoding", *HOP_BY_HOP):
        assert response.header(name) == [], name
    assert response.header("Transfer-Encoding") == ["chunked"]
    assert response.chunked_end  # a clean end of the chunked body (S-21)
    body = response.body
    body.decode("utf-8")  # S-02: strict UTF-8 throughout
    lines = LineDecoder().feed(body)
    assert {line.terminator for line in lines} == {SEPARATOR[kind]}  # S-10
    assert lines[-1].kind is LineKind.BLANK  # S-09: the stream ends on a blank line
    for line in lines:
        if line.kind is LineKind.FIELD:
            assert line.name in ("data", "event", "id")
            assert line.text.startswith(f"{line.name}: ")  # S-12: one space after the colon
    parser = EventParser()
    assert parser.feed(body) and not parser.pending


def test_heartbeat_comments_arrive_while_idle(base, kind):
    body = raw_request(base, "GET", "/events?count=2&interval=0.15").body
    sep = SEPARATOR[kind]
    assert f"{sep}{sep}: ping{sep}{sep}".encode() in body  # a comment block, between events
    parser = EventParser()
    parser.keep_comments()
    events = parser.feed(body)
    assert [e.event for e in events] == ["message", "message", "complete"]  # P-03: never an event
    assert len(parser.comments) >= 2


def test_heartbeat_interval_is_a_query_parameter(base):
    quiet = raw_request(base, "GET", "/events?count=2&interval=0.15&heartbeat=0").body
    assert b": ping" not in quiet


def _pipelined(base: str, method: str, path: str) -> bytes:
    """``method`` then a HEAD asking to close, on one connection: all the server sends until it
    closes. A body sent after the first response's headers comes before the second status line,
    so whether one was sent is read from the bytes, not from a wait for more."""
    parts = urlsplit(base)
    ask = f"{{}} {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n"
    data = (ask.format(method) + "\r\n" + ask.format("HEAD") + "Connection: close\r\n\r\n").encode()
    received = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):
            received += chunk
    return received


def _two_heads_only(received: bytes) -> bool:
    """Two responses of headers alone, each a 200, and nothing else."""
    first, _, rest = received.partition(b"\r\n\r\n")
    second, _, tail = rest.partition(b"\r\n\r\n")
    return (first.startswith(b"HTTP/1.1 200") and second.startswith(b"HTTP/1.1 200")
            and rest.endswith(b"\r\n\r\n") and tail == b"")


@pytest.mark.parametrize("path", [e.url_path for e in ENDPOINTS if e.method == "GET"])
def test_head_returns_headers_only_and_promptly(base, path):
    started = time.monotonic()
    response = raw_request(base, "HEAD", path.replace("count=", "count=9999"), timeout=5)
    assert time.monotonic() - started < 5
    assert response.status == 200
    assert response.header("Content-Type")[0].startswith("text/event-stream")
    assert response.header("Content-Length") in ([], ["0"])
    assert _two_heads_only(_pipelined(base, "HEAD", path.replace("count=", "count=9999")))


def test_a_body_after_the_headers_is_seen_by_the_head_check(base):
    # the check above, on a GET of a short stream: its body comes before the second status line
    received = _pipelined(base, "GET", "/events?count=1&interval=0&heartbeat=0")
    assert b"data:" in received and not _two_heads_only(received)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/events?count=2&interval=60", None),
    ("POST", "/chat/sse", {"messages": [], "interval": 60}),
])
def test_each_event_is_flushed_as_it_is_produced(base, method, path, body):
    """The next event is a minute away, so the first can only arrive if it was flushed (S-06)."""
    with httpx.Client(timeout=10) as client, client.stream(method, base + path, json=body) as response:
        parser = EventParser()
        events = []
        for chunk in response.iter_raw():
            events += parser.feed(chunk)
            if events:
                break
    assert len(events) == 1 and events[0].data.startswith("{")
