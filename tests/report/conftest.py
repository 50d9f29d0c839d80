"""Fixtures for the report tests: a tiny byte-exact SSE server and one real results document.

The document is produced by really running the suites (the server suite against the tiny
server, the client suite against a deliberately naive client), never pasted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

# what the tiny server sends: a bare CR inside data (S-11), then a clean event
NAIVE_BODY = b"data: a\rb\n\nid: 1\ndata: ok\n\n"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # the body ends when the connection closes

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(NAIVE_BODY)

    do_HEAD = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def report_cache() -> Any:
    """The report's private cache with every npm package the built-in rows name (installed once;
    CI installs them here too)."""
    from conformance.report import install
    from conformance.report.implementations import ROWS

    cache = install.default_cache()
    install.npm_packages(cache, {k: v for row in ROWS for k, v in row.npm().items()})
    return cache


@pytest.fixture(scope="session")
def tiny_server() -> Iterator[str]:
    """A stdlib server on 127.0.0.1 port 0 that sends ``NAIVE_BODY`` for any path."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def naive_client(url: str) -> Iterator[dict[str, str]]:
    """The classic hand-rolled client: split on blank LF lines, keep ``data: `` lines only."""
    with httpx.Client(timeout=5) as client:
        body = client.get(url).content.decode("utf-8", "replace")
    for block in body.split("\n\n"):
        data = [line[6:] for line in block.split("\n") if line.startswith("data: ")]
        if data:
            yield {"event": "message", "data": "\n".join(data), "id": ""}


@pytest.fixture(scope="session")
def real_document(tiny_server: str) -> dict[str, Any]:
    """A results document from real runs: one server, one client, one unavailable, one interop cell."""
    from conformance.client.runner import run_client_suite
    from conformance.report.document import FORMAT, Implementation
    from conformance.report.implementations import Probe
    from conformance.report.interop import interop_cell
    from conformance.server import run_server_suite
    from reference_clients.httpx_client import conformance_target

    server = Implementation("tiny | naive", "server", "third-party", "Python", version="0")
    server.add(run_server_suite(tiny_server + "/events", max_seconds=2), profile="generic", endpoint="events")
    client = Implementation("naive client", "client", "third-party", "Python", version="1")
    report = run_client_suite(naive_client, pattern="LE-00*", chunkings=["whole", "1-byte"])
    client.add(report, profile="generic")
    missing = Implementation(
        "ghost",
        "client",
        "third-party",
        "Python",
        status="unavailable",
        reason="ModuleNotFoundError: No module named 'ghost'",
    )
    cell = interop_cell(
        "reference httpx", conformance_target, "tiny", tiny_server, Probe("events", "/events")
    )
    return {
        "format": FORMAT,
        "meta": {
            "generated": "2026-11-20 00:00 UTC",
            "suite_version": "test",
            "python": "3.x",
            "case_groups": {"LE-001": "line-endings"},
        },
        "implementations": [server.to_json(), client.to_json(), missing.to_json()],
        "interop": [cell.to_json()],
    }
