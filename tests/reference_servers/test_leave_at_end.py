"""A client that leaves as the stream ends gets no traceback in the server's log.

The selftest printed aiohttp's "Error handling request" with a traceback: a server check read the
last event and closed while the handler was about to write the terminating chunk."""

from __future__ import annotations

import logging
import socket
import struct
from urllib.parse import urlsplit

import pytest

import reference_servers

LAST = b"Stream complete"


def _read_last_event_then_reset(base: str) -> None:
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(b"GET /events?count=3&interval=0 HTTP/1.1\r\nHost: x\r\n\r\n")
        seen = b""
        while LAST not in seen:
            chunk = sock.recv(65536)
            if not chunk:
                return
            seen += chunk
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset


@pytest.mark.parametrize("kind", reference_servers.KINDS)
def test_a_client_leaving_after_the_last_event_logs_nothing(caplog, kind):
    caplog.set_level(logging.WARNING)
    with reference_servers.running(kind) as base:
        for _ in range(100):  # the race is lost a few times in a hundred
            _read_last_event_then_reset(base)
    servers = ("aiohttp", "uvicorn")
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith(servers)]
    assert [r.getMessage() for r in logged] == []
