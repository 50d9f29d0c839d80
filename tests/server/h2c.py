"""HTTP/2 with prior knowledge (h2c) for the faulty server: the same paths, spoken as HTTP/2.

A real h2 stack (the ``h2`` library) with outbound validation off, so the server can commit the
one HTTP/2-only fault the suite judges: connection-specific headers (S-05, RFC 9113 §8.2.2).
"""

from __future__ import annotations

import asyncio

import h2.config
import h2.connection
import h2.events

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
BODY = b"id: 1\ndata: one\n\nid: 2\ndata: two\n\n"
BASE = [(":status", "200"), ("content-type", "text/event-stream"), ("cache-control", "no-cache")]
# path -> extra response headers; each variant sends BODY and ends the stream.
H2_VARIANTS = {
    "/ok-h2": [],
    "/h2-keep-alive": [("connection", "keep-alive"), ("keep-alive", "timeout=5")],
}


async def serve_h2c(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes) -> None:
    """Serve one h2c connection whose first bytes (``head``) were already read."""
    config = h2.config.H2Configuration(client_side=False, validate_outbound_headers=False,
                                       normalize_outbound_headers=False)
    conn = h2.connection.H2Connection(config=config)
    conn.initiate_connection()
    data = head + await reader.readexactly(len(PREFACE) - len(head))
    while data:
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                path = dict(event.headers).get(b":path", b"/").decode().split("?")[0]
                _respond(conn, event.stream_id, path)
        writer.write(conn.data_to_send())
        await writer.drain()
        data = await reader.read(65536)


def _respond(conn: h2.connection.H2Connection, stream_id: int, path: str) -> None:
    extra = H2_VARIANTS.get(path)
    if extra is None:
        conn.send_headers(stream_id, [(":status", "404")], end_stream=True)
        return
    conn.send_headers(stream_id, BASE + extra)
    conn.send_data(stream_id, BODY, end_stream=True)
