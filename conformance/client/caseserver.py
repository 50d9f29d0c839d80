"""The case server: every case x chunking at its own URL, scripted byte for byte. The n-th
request to a URL gets the case's n-th connection, later ones 204 (stop). Requests are
recorded per URL (:mod:`.slots`), bounded since a client the suite does not run (``serve-cases``)
may send anything for as long as it likes. Each chunk is written on its own (TCP_NODELAY), the
next once the client read it (:mod:`.delivery`), else after a pause (at most ``MAX_PAUSE_TOTAL``
s per connection). Use: ``async with CaseServer() as server: url = server.add(case, chunking)``;
other parts add routes to :meth:`CaseServer.make_app` (the report's browser page).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import socket
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import web

from ..cases.chunkings import Chunking
from ..cases.model import Abort, Case, Close, Connection, HoldOpen, Send, Sleep, Step
from ..tcpinfo import TCPI_LAST_DATA_RECV, TCPI_LAST_DATA_SENT, unread_in
from .delivery import Delivery, connecting_or_unacked, in_flight_to, seconds_since
from .slots import BODY_KEPT, PREFIX, RecordedRequest, Slot
from .waiting import ProcessTree

__all__ = ["CROSS_ORIGIN_HOST", "CaseServer", "RecordedRequest", "Slot"]

CROSS_ORIGIN_HOST = "127.0.0.2"  # another loopback name: a different origin, same machine
DEFAULT_PAUSE = 0.002
MAX_PAUSE_TOTAL = 0.5
LATE_204S = 3  # late requests answered 204 before the rest are parked
HOLD_LIMIT = 120.0  # a held-open connection never outlives this, whatever the runner does
_PEEK = 2048  # bytes of a waiting request looked at for its target (its request line)
_ARRIVING = web.RequestKey("sse_conformance_arriving", bool)  # counted in its slot's ``arriving``
_ENDED = web.RequestKey("sse_conformance_ended", float)  # when the response's last byte left
# aiohttp logs a request it cannot parse with a traceback; a run judges it from the request log
# instead (serve-cases says it in one line: peer_log.py)
_QUIET = logging.getLogger("conformance.caseserver")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


class _ExactHeaders(web.StreamResponse):
    """A response that sends exactly the case's headers: no Content-Type unless it has one."""

    def __init__(self, *, status: int, headers: dict[str, str], with_body: bool = False) -> None:
        super().__init__(status=status, headers=headers)
        self._wants_type = any(k.lower() == "content-type" for k in headers)
        # aiohttp's own switch: hold the headers back and send them with the first body bytes
        self._send_headers_immediately = not with_body

    async def _prepare_headers(self) -> None:
        await super()._prepare_headers()
        if not self._wants_type:
            self.headers.popall("Content-Type", None)


class CaseServer:
    """Serves scripted cases on 127.0.0.1 (and 127.0.0.2 for cross-origin redirects)."""

    def __init__(self, *, pause: float = DEFAULT_PAUSE, request_errors: logging.Logger = _QUIET) -> None:
        self.pause = pause
        self.request_errors = request_errors  # where aiohttp logs a request it cannot parse
        self.slots: dict[str, Slot] = {}
        # per open connection (by its transport, kept so the id stays its own), the slot of its
        # latest request: whose client process the connection is
        self._last_slot: dict[int, tuple[object, Slot]] = {}
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._listeners: list[Any] = []  # the sites' listening sockets, once started
        self._app: web.Application | None = None
        self._closing = asyncio.Event()

    # -- scripting ---------------------------------------------------------------------------
    def add(self, case: Case, chunking: Chunking) -> str:
        """Serve ``case`` under ``chunking`` (fresh log); return its URL (or path before start)."""
        return self.url(self.add_slot(case, chunking).path)

    def add_slot(self, case: Case, chunking: Chunking, attempt: int = 0) -> Slot:
        """Serve ``case`` under ``chunking`` with a fresh log (a URL of its own per ``attempt``)."""
        slot = Slot(case, chunking, attempt=attempt)
        self.slots[slot.path] = slot
        return slot

    def slot(self, case_id: str, chunking_name: str) -> Slot:
        return self.slots[f"{PREFIX}/{case_id}/{chunking_name}"]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}" if self.port else path

    def release(self, slot: Slot) -> None:
        """The runner is done with this slot: held-open connections end now."""
        slot.release.set()
        for key, (transport, _) in list(self._last_slot.items()):
            if transport is None or transport.is_closing():  # type: ignore[attr-defined]
                del self._last_slot[key]

    # -- HTTP --------------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        """The aiohttp application; add your own routes before :meth:`start`."""
        if self._app is None:
            self._app = web.Application()
            self._app.router.add_route("*", PREFIX + "/{case}/{chunking}{tail:(/.*)?}", self._handle)
            self._app.router.add_get("/_requests" + PREFIX + "/{case}/{chunking}", self._requests)
        return self._app

    async def start(self, port: int = 0) -> str:
        """Listen on 127.0.0.1 (plus 127.0.0.2 on the same port); return the base URL."""
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False,
                                     logger=self.request_errors)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.port = self._runner.addresses[0][1]
        with contextlib.suppress(OSError):  # a second loopback name is a bonus, not a need
            await web.TCPSite(self._runner, CROSS_ORIGIN_HOST, self.port).start()
        servers = [getattr(site, "_server", None) for site in self._runner.sites]
        self._listeners = [sock for server in servers for sock in getattr(server, "sockets", None) or ()]
        return f"http://127.0.0.1:{self.port}"

    def inbound_in_flight(self, tree: ProcessTree, path: str | None = None) -> bool:
        """The kernel's view: is a connection from the client of ``tree`` being opened, or are
        bytes it sent unacknowledged or unread (docs/timing.md, check 4)? For clients in this
        process's threads, their own sockets tell (``path``: as :meth:`inbound_pending`)."""
        if self.port is None:
            return False
        if tree.pid == os.getpid():
            return connecting_or_unacked(self.port) or self.inbound_pending(None, path)
        return in_flight_to(self.port, tree.sockets()) is True

    def inbound_pending(self, client: int | None = None, path: str | None = None) -> bool:
        """Has a client sent something not taken in yet (a connection to accept, unread bytes)?
        Then a client asleep waits for us. Not counted: connections whose last request came from
        another process than ``client`` (a root PID), and requests naming another URL than
        ``path`` (the clients of a lane share its process)."""
        runner = self._runner
        if runner is None:
            return False
        if client == os.getpid():
            client = None  # clients in threads of this process (a lane): every connection is theirs
        sockets: list[Any] = []
        for handler in getattr(runner.server, "connections", None) or ():
            transport = getattr(handler, "transport", None)
            if client is not None and self._client_of(transport) not in (None, client):
                continue
            # a request read and parsed (a new connection's, or on a kept-alive one), not yet handled;
            # one aiohttp could not parse has no path: anyone's
            messages = getattr(handler, "_messages", None) or ()
            if any(_for(getattr(message, "path", None), path) for message, _ in messages):
                return True
            sock = transport.get_extra_info("socket") if transport is not None else None
            if sock is not None:
                sockets.append(sock)
        readable = _readable(self._listeners + sockets)  # one poll for all; most looks end here
        return any(sock in self._listeners or (unread_in(sock.fileno()) > 0 and _for(_target(sock), path))
                   for sock in readable)

    def _client_of(self, transport: object) -> int | None:
        """The root PID of the client process whose request came last on this connection (None:
        no request yet, or a client whose process is not known)."""
        last = self._last_slot.get(id(transport))
        return last[1].client if last is not None and last[0] is transport else None

    async def stop(self) -> None:
        self._closing.set()
        for slot in self.slots.values():
            slot.release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> CaseServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _requests(self, request: web.Request) -> web.Response:
        """The request log of one URL, for drivers of clients the suite cannot start."""
        slot = self.slots.get(request.path.removeprefix("/_requests"))
        if slot is None:
            raise web.HTTPNotFound()
        return web.json_response([r.to_json() for r in slot.requests])

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = f"{PREFIX}/{request.match_info['case']}/{request.match_info['chunking']}"
        slot = self.slots.get(path)
        if slot is None:
            raise web.HTTPNotFound(text=f"no case is served at {path}\n")
        slot.arriving += 1  # before any await: the runner must not think its client idle now
        try:
            return await self._answer(request, slot)
        finally:
            if request.get(_ARRIVING, True):
                slot.arriving -= 1

    async def _answer(self, request: web.Request, slot: Slot) -> web.StreamResponse:
        body, length = await _read_bounded(request)
        record = RecordedRequest(
            method=request.method, path=request.path_qs, headers=list(request.headers.items()),
            body=body.decode("utf-8", "replace"), received=time.monotonic(), body_length=length)
        if slot.release.is_set():
            # The runner is done with this case: a late reconnect gets 204 (stop). A thread it
            # cannot kill that keeps requesting (reconnects forever) is parked, not fed a loop.
            slot.late += 1
            if slot.late > LATE_204S:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), HOLD_LIMIT)
                _drop(request)
            return web.Response(status=204)
        transport = request.transport
        record.sock = transport.get_extra_info("socket") if transport is not None else None
        record.received -= seconds_since(TCPI_LAST_DATA_RECV, record.sock)  # when it came, not when handled
        slot.answer_lag += max(0.0, time.monotonic() - record.received)  # the suite was late, not the client
        index = slot.record(record)
        self._last_slot[id(transport)] = (transport, slot)
        slot.arriving -= 1
        request[_ARRIVING] = False
        slot.notify()
        if record.sock is not None:
            with contextlib.suppress(OSError):
                record.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if index >= len(slot.case.connections):
                response = web.Response(status=204)
                await response.prepare(request)
                await response.write_eof()
                return response
            connection = slot.case.connections[index]
            if not connection.no_response:
                # the client may leave mid-body (older aiohttp raises RuntimeError): its business
                with contextlib.suppress(ConnectionError, RuntimeError):
                    return await self._stream(request, slot, connection, record)
            _drop(request)
            return web.Response(status=204)  # never written: the transport is gone
        finally:
            record.ended = request.get(_ENDED) or time.monotonic()
            if record.sent is None:
                record.sent = record.ended
            slot.notify()

    def _headers(self, request: web.Request, connection: Connection, slot: Slot) -> dict[str, str]:
        own = f"http://{request.host}{slot.path}"  # as the client addressed it: same origin
        cross = self.url(slot.path, CROSS_ORIGIN_HOST)
        return {name: value.replace("{url}", own).replace("{cross_origin_url}", cross)
                for name, value in connection.headers.items()}

    async def _stream(self, request: web.Request, slot: Slot, connection: Connection,
                      record: RecordedRequest) -> web.StreamResponse:
        steps = slot.chunking.plan(connection)
        response = _ExactHeaders(status=connection.status, headers=self._headers(request, connection, slot),
                                 with_body=_in_one_piece(connection, steps))
        if any(isinstance(step, Close) for step in connection.stream):
            response.force_close()  # announced (Connection: close), so no client reuses the socket
        await response.prepare(request)
        sends = sum(isinstance(step, Send) for step in steps)
        pause = min(self.pause, MAX_PAUSE_TOTAL / sends) if sends else 0.0
        delivery = Delivery(request.transport, pause)  # type: ignore[arg-type]
        for step in steps:
            if isinstance(step, Send):
                await response.write(step.data)
                if await delivery.after_write():
                    slot.read_at = time.monotonic()
            elif isinstance(step, Sleep):
                await asyncio.sleep(step.ms / 1000)
            elif isinstance(step, HoldOpen):
                record.sent = time.monotonic()  # all written: this stream's request, no other
                slot.notify()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(slot.release.wait(), HOLD_LIMIT)
                _drop(request)
                return response
            elif isinstance(step, Abort):
                _drop(request)
                return response
            elif isinstance(step, Close):
                break
        await response.write_eof()
        if "chunked" in response.headers.get("Transfer-Encoding", "") or response.content_length is not None:
            # a body that ends itself ended when its last byte left, not when this line runs:
            # on a busy machine a thread can wait long for the CPU (and the GIL) in between
            request[_ENDED] = time.monotonic() - seconds_since(TCPI_LAST_DATA_SENT, delivery.sock)
        return response


def _readable(sockets: list[Any]) -> list[Any]:
    """Those of ``sockets`` with something to take in now (a connection to accept, bytes or an
    end of stream to read: the caller asks which); all of them where poll cannot tell."""
    poller = select.poll()
    by_fd: dict[int, Any] = {}
    try:
        for sock in sockets:
            fd = sock.fileno()
            if fd >= 0:
                poller.register(fd, select.POLLIN)
                by_fd[fd] = sock
        return [by_fd[fd] for fd, _ in poller.poll(0)]
    except (OSError, ValueError):
        return sockets


def _target(sock: Any) -> str | None:
    """The request target of the bytes waiting unread in ``sock`` (peeked, left there); None
    while its request line is not all in. (asyncio hands out its sockets without ``recv``.)"""
    try:
        peek = socket.socket(fileno=sock.fileno())
    except (OSError, ValueError):  # gone meanwhile
        return None
    try:
        head = peek.recv(_PEEK, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except OSError:
        return None
    finally:
        peek.detach()  # the connection's own socket stays open
    parts = head.split(b" ", 2)
    return parts[1].decode("latin-1") if len(parts) == 3 else None


def _for(target: str | None, path: str | None) -> bool:
    """Can a request for ``target`` be one of the slot at ``path``'s client (None: any slot's)?
    Only one that names another slot's URL cannot; an unknown target may be anyone's."""
    if path is None or target is None:
        return True
    target = unquote(urlsplit(target).path if "://" in target else target.partition("?")[0])
    return not target.startswith(PREFIX + "/") or target == path or target.startswith(path + "/")


def _in_one_piece(connection: Connection, steps: Sequence[Step]) -> bool:
    """Send the headers with the first body bytes (or an empty body's end)? Yes for a response to
    refuse, as servers send error pages: whether a client reads it then does not depend on timing."""
    return connection.refused and (not steps or isinstance(steps[0], (Send, Close)))


async def _read_bounded(request: web.Request) -> tuple[bytes, int]:
    """The first BODY_KEPT bytes of the body and its full length; the rest is read and dropped."""
    kept = bytearray()
    length = 0
    async for chunk in request.content.iter_any():
        length += len(chunk)
        kept += chunk[: BODY_KEPT - len(kept)]  # nothing more once full
    return bytes(kept), length


def _drop(request: web.Request) -> None:
    """Reset the connection: no terminating chunk, no more bytes."""
    if request.transport is not None:
        request.transport.abort()
