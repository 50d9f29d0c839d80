"""A byte-exact HTTP/1.1 server on raw asyncio: every fault a server can commit, on its own path.

Each variant is a function (request -> steps). A step is bytes to write, a float (sleep that
many seconds: the fault itself, e.g. a buffered burst), ABORT (reset the connection), HANG
(never write again) or LOCK (wait for the one worker, held until the response ends: a sync server
with a single worker). No framework in the way, so any byte sequence can be produced. A client
that opens with the HTTP/2 preface gets the h2c variants of ``h2c.py``.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from h2c import serve_h2c

ABORT = "abort"
HANG = "hang"
LOCK = "lock"

GOOD_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


@dataclass
class Req:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def head(status: str = "200 OK", headers: dict[str, str] | None = None, *, chunked: bool = True) -> bytes:
    fields = dict(GOOD_HEADERS if headers is None else headers)
    if chunked:
        fields["Transfer-Encoding"] = "chunked"
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in fields.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST = b"0\r\n\r\n"


def stream(*parts: bytes | float, headers: dict[str, str] | None = None, end: bytes = LAST) -> list:
    """A chunked 200 response: each bytes part is one chunk, each float a pause before the next."""
    return [head(headers=headers), *(chunk(p) if isinstance(p, bytes) else p for p in parts), end]


def events(n: int, sep: bytes = b"\n", start: int = 1, ids: bool = True) -> list[bytes]:
    out = []
    for i in range(start, start + n):
        idline = b"id: %d%s" % (i, sep) if ids else b""
        out.append(idline + b"data: event %d%s%s" % (i, sep, sep))
    return out


def chat(*payloads: str) -> list[bytes]:
    return [b"data: " + p.encode() + b"\n\n" for p in payloads]


def chunk_json(text: str) -> str:
    return json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                       "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})


OPENAI_OK = [chunk_json("Hel"), chunk_json("lo"), "[DONE]"]


def _resumable(req: Req, *, shift: int = 0, restart: bool = False) -> list:
    last = req.headers.get("last-event-id")
    start = 1 if last is None or restart else int(last) + 1 + shift
    return stream(*events(max(0, 6 - start + 1), start=start))


def buffered(_req: Req) -> list:
    """A whole stream held back and sent at its end, a second after the headers."""
    return [head(), 1.1, b"".join(chunk(e) for e in events(5)), LAST]


def gzipped(body: bytes) -> list:
    h = dict(GOOD_HEADERS, **{"Content-Encoding": "gzip"})
    return stream(gzip.compress(body), headers=h)


def endless(_req: Req) -> Iterator:
    yield head()
    i = 0
    while True:
        i += 1
        yield chunk(b"data: %d\n\n" % i)
        if i % 50 == 0:
            yield 0.001


def batched(_req: Req) -> list:
    """What a byte buffer in front of a fast stream delivers: 4 batches of 8 events, cut mid-event,
    each after a long silence (the buffer filling)."""
    body = b"".join(events(32))
    size = len(body) // 4 + 5  # not an event boundary: the buffer, not the app, decides the cut
    return [head(), *(x for i in range(0, len(body), size) for x in (0.8, chunk(body[i:i + size]))), LAST]


def gzip_held(_req: Req) -> list:
    """Old GZipMiddleware: headers held until the compressor emits, glued to a gzip body."""
    h = head(headers=dict(GOOD_HEADERS, **{"Content-Encoding": "gzip"}))
    return [3.1, h + chunk(gzip.compress(b"".join(events(3)))), LAST]


@functools.cache
def _bomb() -> bytes:
    return gzip.compress(b"data: x\n\n" * 5_000_000, compresslevel=9)  # 45 MB in about 90 KB


@functools.cache
def _no_blank() -> bytes:
    return b"data: x\n" * 2_000_000


def flood_newlines(_req: Req) -> Iterator:
    yield head()
    while True:
        yield chunk(b"\n" * 65536)


def live(count: int, gap: float, size: int = 0) -> list:
    """A correct live stream, one event every ``gap`` seconds (padded to about ``size`` bytes) and
    no Server header: the origin the delivery tests put real proxies in front of."""
    pad = b"x" * max(0, size - 24)
    written = (chunk(b"id: %d\ndata: %s\n\n" % (i, pad)) for i in range(1, count + 1))
    return [head(), *(x for event in written for x in (event, gap)), LAST]


def gzip_header_first(body: bytes) -> list:
    """A compressor that lets its 10-byte header out at once and holds every event to the end
    (Express compression() without res.flush(), old GZipMiddleware)."""
    packed = gzip.compress(body)
    return [head(headers=dict(GOOD_HEADERS, **{"Content-Encoding": "gzip"})), chunk(packed[:10]), 1.2,
            chunk(packed[10:]), LAST]


def length_streamed(_req: Req) -> list:
    """A Content-Length declared up front, the body still written event by event."""
    parts = events(5)
    fields = dict(GOOD_HEADERS, **{"Content-Length": str(sum(map(len, parts)))})
    return [head(headers=fields, chunked=False), *(x for e in parts for x in (e, 0.2))]


# path -> (request -> steps). Correct variants first, then faults.
VARIANTS: dict[str, Callable[[Req], object]] = {
    "/ok-lf": lambda r: stream(*events(3), 0.02, *events(2, start=4)),
    "/ok-crlf": lambda r: stream(*events(5, b"\r\n")),
    "/ok-cr": lambda r: stream(*events(5, b"\r")),
    "/ok-bom": lambda r: stream(b"\xef\xbb\xbf" + b"".join(events(3))),
    "/ok-comments": lambda r: stream(b": hello\n\n", *events(2), b": ping\n\n", *events(1, start=3)),
    "/ok-nospace": lambda r: stream(b"id:1\ndata:a\n\ndata:b\n\n"),
    "/ok-retry": lambda r: stream(b"retry: 3000\n\n", *events(3)),
    "/ok-split": lambda r: stream(b"da", b"ta: \xc3", b"\xa9t\xc3\xa9\r", b"\n\r\n", *events(2)),
    "/ok-openai": lambda r: stream(*chat(*OPENAI_OK)),
    "/ok-openai-error": lambda r: stream(*chat(chunk_json("a"), '{"error": {"message": "overloaded"}}',
                                               "[DONE]")),
    "/ok-anthropic-error": lambda r: stream(*chat(chunk_json("a")), b"event: error\n" + chat(
        '{"type": "error", "error": {"type": "overloaded_error"}}')[0]),
    "/resumable": _resumable,
    "/resume-restarts": lambda r: _resumable(r, restart=True),
    "/resume-utf8": lambda r: stream("id: ü1\ndata: a\n\nid: ü2\ndata: b\n\n".encode()),
    "/resume-skips": lambda r: _resumable(r, shift=1),
    "/steady": lambda r: stream(*(x for e in events(48) for x in (e, 0.05))),  # 2.4 s, never silent
    "/ok-idle": lambda r: stream(b": ping\n\n", 0.15, b": ping\n\n", 0.15, b": ping\n\n", 0.15, *events(1)),
    "/idle-silent": lambda r: stream(*events(1), 0.9, *events(1, start=2)),
    "/keep-alive": lambda r: stream(*events(2), headers=dict(GOOD_HEADERS, Connection="keep-alive",
                                                             **{"Keep-Alive": "timeout=5"})),
    "/proxied": lambda r: stream(*events(2), headers={**GOOD_HEADERS, "X-Accel-Buffering": "yes",
                                                      "Via": "1.1 nginx", "Server": "nginx"}),
    "/gzip": lambda r: gzipped(b"".join(events(3))),
    # a comment flushed at once, a slow backlog lookup, the backlog in one write, then live events
    "/comment-backlog": lambda r: stream(b": connected\n\n", 1.5, b"".join(events(5)),
                                         *(x for e in events(3, start=6) for x in (0.25, e))),
    "/cors": lambda r: stream(*events(2), headers=dict(GOOD_HEADERS, **{
        "Access-Control-Allow-Origin": r.headers.get("origin", "*"),
        "Access-Control-Allow-Headers": "Last-Event-ID"})),
    # the app writes five events in one write every 0.7 s: grouped by the app, or by a timed flush
    "/app-groups": lambda r: stream(
        *(x for i in range(1, 26, 5) for x in (b"".join(events(5, start=i)), 0.7))),
    "/length-streamed": length_streamed,
    # a stream of about 15 ms that ends by itself (P-07 races it with a second request's answer)
    "/short": lambda r: stream(*(x for e in events(4) for x in (e, 0.004))),
    "/live": lambda r: live(25, 0.1),  # 2.5 s of events, each written alone
    "/live-fast": lambda r: live(60, 0.05, 300),  # 18 KB in 3 s: fills a proxy's 4-8 KiB buffer
    # -- faults ---------------------------------------------------------------------------
    "/wrong-type": lambda r: stream(*events(2), headers=dict(GOOD_HEADERS, **{"Content-Type": "text/plain"})),
    "/html-200": lambda r: stream(b"<!doctype html>\n<html><body>Not here</body></html>\n",
                                  headers=dict(GOOD_HEADERS, **{"Content-Type": "text/html"})),
    "/status-500": lambda r: stream(b"Internal Server Error", headers={"Content-Type": "text/plain"}),
    "/status-204": lambda r: [head("204 No Content", {}, chunked=False)],
    "/latin1-charset": lambda r: stream(*events(2), headers=dict(
        GOOD_HEADERS, **{"Content-Type": "text/event-stream; charset=iso-8859-1"})),
    "/no-cache-control": lambda r: stream(*events(2), headers={"Content-Type": "text/event-stream"}),
    "/no-blank-lines": lambda r: stream(b"data: 1\n", b"data: 2\n", b"data: 3\n"),
    "/unterminated": lambda r: stream(*events(2), b"data: last\n"),
    "/unterminated-line": lambda r: stream(*events(2), b"data: last"),
    "/invalid-utf8": lambda r: stream(*events(1), b"data: caf\xe9\n\n"),
    "/late-bom": lambda r: stream(*events(1), b"\xef\xbb\xbfdata: x\n\n"),
    "/aborted": lambda r: [*stream(*events(2), end=b""), b"5\r\ndat", ABORT],
    "/aborted-boundary": lambda r: [*stream(*events(2), end=b""), ABORT],
    "/slow-start": lambda r: [head(), 1.05, *(x for e in events(4) for x in (chunk(e), 0.1)), LAST],
    "/buffered": buffered,
    "/brotli": lambda r: stream(b"\x8b\x00\x80data: x\n\n\x03",
                                headers={**GOOD_HEADERS, "Content-Encoding": "br"}),
    "/content-length": lambda r: [head(headers=dict(GOOD_HEADERS, **{"Content-Length": "46"}), chunked=False),
                                  b"".join(events(2))],
    "/batched": batched,
    "/gzip-held": gzip_held,
    "/gzip-bomb": lambda r: stream(_bomb(), headers=dict(GOOD_HEADERS, **{"Content-Encoding": "gzip"})),
    "/short-serial": lambda r: [LOCK, head(), *(x for e in events(4) for x in (chunk(e), 0.004)), LAST],
    "/single-worker": lambda r: [LOCK, head(), *(x for e in events(15) for x in (chunk(e), 0.2)), LAST],
    "/heartbeat-data": lambda r: stream(*(x for e in events(3) for x in (e, b"data: ping\n\n"))),
    "/event-trailing-space": lambda r: stream(b"event: success \ndata: x\n\n", *events(1)),
    "/event-newline": lambda r: stream(b"event: a\nb\ndata: x\n\n", *events(1)),
    "/headers-late": lambda r: [3.1, head(), chunk(events(1)[0]), 0.05, chunk(events(1, start=2)[0]), LAST],
    "/field-case": lambda r: stream(b"Data: a\n\n", *events(1)),
    "/error-field": lambda r: stream(*chat(chunk_json("a")), b"error: boom\n\n", *chat("[DONE]")),
    "/nul-id": lambda r: stream(b"id: a\x00b\ndata: x\n\n"),
    "/bad-retry": lambda r: stream(b"retry: 1.5s\n\n", *events(1)),
    "/event-no-data": lambda r: stream(b"event: update\n\n", *events(1)),
    "/bare-cr": lambda r: stream(b"data: line one\rline two\n\n", *events(1)),
    "/run-together": lambda r: stream(b"id: 1\ndata: a\nid: 2\ndata: b\n\n"),
    "/no-events": lambda r: stream(b": only a comment\n\n"),
    "/heartbeat-event": lambda r: stream(*events(1), b"event: keep-alive\ndata:\n\n"),
    "/missing-done": lambda r: stream(*chat(*OPENAI_OK[:2])),
    "/done-unterminated": lambda r: stream(*chat(*OPENAI_OK[:2]), b"data: [DONE]\n"),
    "/after-done": lambda r: stream(*chat(*OPENAI_OK), *chat(chunk_json("late"))),
    "/not-json": lambda r: stream(*chat(chunk_json("a"), "hello world", "[DONE]")),
    "/wrong-shape": lambda r: stream(*chat('{"text": "a"}', "[DONE]")),
    "/vllm-error": lambda r: stream(*chat(chunk_json("a"), '{"object": "error", "message": "x"}', "[DONE]")),
    "/error-then-more": lambda r: stream(*chat('{"error": {"message": "x"}}', chunk_json("b"), "[DONE]")),
    "/id-keepalive": lambda r: stream(b"id: 1\n" + chat(chunk_json("a"))[0], b": ping\n\n", *chat("[DONE]")),
    "/id-extra-blank": lambda r: stream(b"id: 1\n" + chat(chunk_json("a"))[0] + b"\n", *chat("[DONE]")),
    "/meta-only": lambda r: stream(b"retry: 1000\n\n", *chat(*OPENAI_OK)),
    "/endless": endless,
    "/flood-newlines": flood_newlines,
    # Connection: close, since this server closes after each response (else httpx may reuse it).
    "/moved": lambda r: [b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /ok-lf\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n"],
    "/never-answers": lambda r: [HANG],
    "/headers-then-hang": lambda r: [head(), HANG],
    "/garbage": lambda r: [b"hello there\r\n\r\n"],
    "/reset-at-once": lambda r: [ABORT],
    "/huge-line": lambda r: stream(b"data: " + b"x" * (3 << 20)),
    "/comment-then-held": lambda r: stream(b": connected\n\n", 1.2, b"".join(events(5))),
    "/gzip-header-held": lambda r: gzip_header_first(b"".join(events(5))),
    # 16 MB of data lines with no blank line, in about 30 KB of gzip: stops at --max-bytes
    "/gzip-no-blank": lambda r: gzipped(_no_blank()),
    "/head-hangs": lambda r: [HANG] if r.method == "HEAD" else stream(*events(2)),
    "/head-fails": lambda r: [ABORT] if r.method == "HEAD" else stream(*events(2)),
}


async def _read_request(reader: asyncio.StreamReader, first: bytes) -> Req | None:
    try:
        raw = first + await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    first, *lines = raw.decode("latin-1").split("\r\n")
    method, path, _ = first.split(" ", 2)
    headers = {}
    for line in lines:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", 0) or 0))
    return Req(method, path.split("?")[0], headers, body)


_worker: dict[str, asyncio.Lock] = {}


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    lock = _worker.setdefault("lock", asyncio.Lock())
    held = False
    try:
        first = await reader.readexactly(3)
        if first == b"PRI":  # the HTTP/2 connection preface: h2c with prior knowledge
            await serve_h2c(reader, writer, first)
            return
        req = await _read_request(reader, first)
        if req is None:
            return
        variant = VARIANTS.get(req.path)
        if variant is None:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        steps = variant(req)
        if req.method == "HEAD" and isinstance(steps, list) and steps[0] != HANG:
            steps = [s for s in steps if s == LOCK][:1] + [s for s in steps if isinstance(s, bytes)][:1]
        for step in steps:
            if step == LOCK:
                await lock.acquire()
                held = True
                continue
            if step == ABORT:
                writer.transport.abort()
                return
            if step == HANG:
                await reader.read()  # until the client gives up
                return
            if isinstance(step, float):
                await writer.drain()
                await asyncio.sleep(step)
            else:
                writer.write(step)
                await writer.drain()
    except (ConnectionError, asyncio.CancelledError, asyncio.IncompleteReadError):
        return
    finally:
        if held:
            lock.release()
        if not writer.transport.is_closing():
            writer.close()


@contextmanager
def running() -> Iterator[str]:
    """Serve every variant on 127.0.0.1 (port 0) in a background thread; yield the base URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict = {}

    async def main() -> None:
        server = await asyncio.start_server(_serve, "127.0.0.1", 0)
        holder["server"] = server
        holder["url"] = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        started.set()
        async with server:
            await server.serve_forever()

    thread = threading.Thread(target=lambda: loop.run_until_complete(_guard(main())), daemon=True)
    thread.start()
    started.wait(5)
    try:
        yield holder["url"]
    finally:
        loop.call_soon_threadsafe(holder["server"].close)
        thread.join(5)
        loop.close()


async def _guard(coro) -> None:
    """Run the server; once it stops, end the handlers still streaming (a probe's open stream)."""
    with suppress(asyncio.CancelledError):
        await coro
    handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in handlers:
        task.cancel()
    await asyncio.gather(*handlers, return_exceptions=True)
