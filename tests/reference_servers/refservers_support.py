"""Test helpers: fetch a stream with httpx and parse it with the suite's own parser, or speak
raw HTTP/1.1 over a socket to see exactly what the server put on the wire."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance.sse import Event, EventParser

TIMEOUT = 10.0
ALLOWED = "http://allowed.test"  # the CORS origin the shared test servers allow
HEARTBEAT = 0.05  # their heartbeat: short, so idle streams show comments at once
_CLIENT = httpx.Client(timeout=TIMEOUT)  # one client: building one costs more than a short stream


def fetch(base: str, path: str, method: str = "GET", body: Any = None,
          headers: dict[str, str] | None = None) -> tuple[httpx.Response, list[Event]]:
    """Read a whole stream; return the response (content kept) and its parsed events."""
    response = _CLIENT.request(method, base + path, json=body, headers=headers)
    parser = EventParser()
    return response, parser.feed(response.content) + parser.close()


def payloads(events: list[Event]) -> list[Any]:
    return [json.loads(e.data) for e in events]


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    chunked_end: bool  # the body ended with the zero-length chunk, not a cut connection

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def raw_request(base: str, method: str, path: str, headers: dict[str, str] | None = None,
                body: bytes = b"", timeout: float = TIMEOUT) -> RawResponse:
    """Send one HTTP/1.1 request on a fresh socket and read the response to its end."""
    parts = urlsplit(base)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", "Accept: text/event-stream"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    deadline = time.monotonic() + timeout
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(data)
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            buffer += _recv(sock, deadline)
        head, _, rest = buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers_out = [tuple(s.strip() for s in h.split(":", 1)) for h in header_lines]
        response = RawResponse(int(status_line.split()[1]), headers_out, b"", False)  # type: ignore[arg-type]
        if method == "HEAD" or response.status in (204, 304):
            return response
        if any(v.lower() == "chunked" for v in response.header("Transfer-Encoding")):
            response.body, response.chunked_end = _dechunk(sock, rest, deadline)
            return response
        length = response.header("Content-Length")
        while (int(length[0]) > len(rest)) if length else (chunk := _recv(sock, deadline, eof_ok=True)):
            rest += _recv(sock, deadline) if length else chunk
        response.body = rest
        return response


def _recv(sock: socket.socket, deadline: float, eof_ok: bool = False) -> bytes:
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    chunk = sock.recv(65536)
    if not chunk and not eof_ok:
        raise ConnectionError("connection closed early")
    return chunk


def _dechunk(sock: socket.socket, buffer: bytes, deadline: float) -> tuple[bytes, bool]:
    body = b""
    while True:
        while b"\r\n" not in buffer:
            more = _recv(sock, deadline, eof_ok=True)
            if not more:
                return body, False
            buffer += more
        size_line, _, buffer = buffer.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        while len(buffer) < size + 2:
            more = _recv(sock, deadline, eof_ok=True)
            if not more:
                return body + buffer[:size], False
            buffer += more
        if size == 0:
            return body, buffer[:2] == b"\r\n"
        body += buffer[:size]
        buffer = buffer[size + 2:]
