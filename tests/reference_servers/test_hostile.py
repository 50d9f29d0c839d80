"""Hostile or careless input gets one JSON 4xx before any stream, and bounded work (issue 12).

Each test here failed on the servers before the fix: a 200 with an aborted body, a 500 with a
traceback, a body buffered without limit, or a half-sent request held forever.
"""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest
from refservers_support import fetch, raw_request

import reference_servers
from conformance.sse import EventParser

RESUMABLE = {  # path -> the event types left after resuming past the end
    "/events?count=3&interval=0": ["complete"],
    "/stream/agent-1?count=3&interval=0": [],
    "/tasks/7/progress/stream?interval=0": ["complete"],
}
CLOSE_BOUND = 5.0  # seconds a server may take to close a half-sent request past its deadline


@pytest.mark.parametrize("digits", [4301, 8000])
@pytest.mark.parametrize("path", list(RESUMABLE))
def test_a_huge_last_event_id_resumes_at_the_end_with_a_clean_body(base, path, digits):
    """int() refuses over 4,300 digits: the stream used to crash after its 200."""
    response = raw_request(base, "GET", path, headers={"Last-Event-ID": "9" * digits})
    assert response.status == 200 and response.chunked_end
    parser = EventParser()
    events = parser.feed(response.body) + parser.close()
    assert [e.event for e in events] == RESUMABLE[path] and not parser.pending


def test_leading_zeros_still_resume_exactly(base):
    _, events = fetch(base, "/events?count=3&interval=0", headers={"Last-Event-ID": "0" * 5000 + "2"})
    assert [(e.event, json.loads(e.data)["counter"]) for e in events] == [("message", 3), ("complete", 3)]


@pytest.mark.parametrize(("path", "method", "status"), [
    ("/nope", "GET", 404), ("/events", "DELETE", 405), ("/v1/chat/completions", "GET", 405),
])
def test_router_errors_are_the_same_json_as_a_400(base, path, method, status):
    response = httpx.request(method, base + path, timeout=10)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["message"] and error["type"] == "invalid_request_error"


def test_a_declared_huge_body_is_refused_before_it_is_read(base):
    """100 MB announced, 64 KiB sent: the 413 comes at once instead of waiting to buffer it all."""
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /chat/sse HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000000\r\n\r\n" + b" " * 65536)
        head = b""
        while b"\r\n\r\n" not in head and (more := sock.recv(65536)):
            head += more
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"application/json" in head.lower()


@pytest.mark.parametrize("kind", reference_servers.KINDS)
def test_a_chunked_body_past_the_limit_is_a_413(kind):
    """No Content-Length to go by: the limit is counted as the body arrives."""
    body = json.dumps({"messages": [{"role": "user", "content": "x" * 40_000}]}).encode()
    with reference_servers.running(kind, max_body=16_384) as base:
        chunks = (body[i:i + 4096] for i in range(0, len(body), 4096))
        response = httpx.post(base + "/chat/sse", content=chunks, timeout=10)
        small = httpx.post(base + "/chat/sse", json={"messages": [], "interval": 0}, timeout=10)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert small.status_code == 200


@pytest.mark.parametrize("kind", reference_servers.KINDS)
def test_half_sent_requests_are_closed_after_the_header_timeout(kind):
    """300 half-sent requests used to stay open forever; here 20, each closed by the server."""
    with reference_servers.running(kind, header_timeout=0.3) as base:
        port = int(base.rsplit(":", 1)[1])
        socks = [socket.create_connection(("127.0.0.1", port), timeout=CLOSE_BOUND) for _ in range(20)]
        try:
            for sock in socks:
                sock.sendall(b"GET /events HTTP/1.1\r\nHost: t\r\nX-Slow: ")
            assert all(_closed_by_server(sock) for sock in socks)
        finally:
            for sock in socks:
                sock.close()


@pytest.mark.parametrize("kind", reference_servers.KINDS)
def test_a_half_sent_second_request_on_a_kept_alive_connection_is_closed(kind):
    with reference_servers.running(kind, header_timeout=0.3) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=CLOSE_BOUND) as sock:
            sock.sendall(b"GET /stats HTTP/1.1\r\nHost: t\r\n\r\n")
            first = b""
            while not first.endswith(b"}"):
                first += sock.recv(4096)
            sock.sendall(b"GET /events HTTP/1.1\r\nHo")
            assert _closed_by_server(sock)


@pytest.mark.parametrize("kind", reference_servers.KINDS)
def test_the_header_timeout_never_cuts_a_stream(kind):
    """The deadline covers the request head only: a stream longer than it ends cleanly."""
    with reference_servers.running(kind, header_timeout=0.1, heartbeat=0) as base:
        response = raw_request(base, "GET", "/events?count=3&interval=0.15")
    assert response.status == 200 and response.chunked_end
    assert response.body.count(b"id: ") == 3


def test_stream_timeout_with_no_interval_ticks_at_most_every_10_ms(base):
    """A clock has no count to bound it: interval=0 used to flood events for the whole limit."""
    _, events = fetch(base, "/stream/timeout?timeout=0.1&interval=0")
    assert events[-1].event == "error"
    assert len(events) <= 0.1 / 0.01 + 2


def _closed_by_server(sock: socket.socket) -> bool:
    """True when the server closes (EOF or reset) within CLOSE_BOUND; the bytes it sent first,
    if any (uvicorn may answer nothing, aiohttp nothing), do not matter."""
    deadline = time.monotonic() + CLOSE_BOUND
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            if not sock.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return False
