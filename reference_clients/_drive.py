"""The loop that runs a :class:`Machine` over a transport, and the stream objects users hold.

A transport is the only I/O: ``open(request)`` is a (async) context manager giving a response
with ``status``, ``header(name)`` and ``chunks()`` (raw body bytes as they arrive, never split
into lines by the HTTP library). ``network_errors`` are the exceptions that mean "reconnect";
``timeout_errors`` the subset that are read timeouts. Everything else is the machine's.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Protocol

from conformance.sse import Event

from ._errors import SSEError
from ._judge import Verdict
from ._machine import Comment, Machine, Notice, State
from ._request import Request

__all__ = ["AsyncEventStream", "AsyncTransport", "EventStream", "Transport"]


class _Errors(Protocol):
    network_errors: tuple[type[BaseException], ...]
    timeout_errors: tuple[type[BaseException], ...]


class Response(Protocol):
    status: int

    def header(self, name: str) -> str | None: ...

    def chunks(self) -> Iterator[bytes]: ...


class AsyncResponse(Protocol):
    status: int

    def header(self, name: str) -> str | None: ...

    def chunks(self) -> AsyncIterator[bytes]: ...


class Transport(_Errors, Protocol):
    def open(self, request: Request) -> AbstractContextManager[Response]: ...

    def close(self) -> None: ...


class AsyncTransport(_Errors, Protocol):
    def open(self, request: Request) -> AbstractAsyncContextManager[AsyncResponse]: ...

    async def aclose(self) -> None: ...


_OPENED = object()  # yielded by the loops after each 200 response is accepted; never shown
Item = Event | Comment | Notice


class _StreamState:
    """What both stream kinds expose about the connection."""

    machine: Machine
    _restarting = False
    _early: deque[Notice]  # notices open() passed on its way to the first open: shown first

    def restart(self) -> None:
        """Drop the current connection and reconnect after the reconnection time, sending the
        last event ID (LD's restart). Call it between items: the connection is left before the
        next item, so nothing more of it is reported; a partial event is discarded."""
        self._restarting = True

    def _leave(self) -> None:
        """The body ended, or the caller asked for a restart: either way, wait to reconnect."""
        if self._restarting:
            self._restarting = False
            self.machine.restart()
        else:
            self.machine.body_ended()

    @property
    def last_event_id(self) -> str:
        """The last event ID string; sent as Last-Event-ID on the next reconnect if non-empty."""
        return self.machine.last_event_id

    @property
    def retry_ms(self) -> int:
        """The reconnection time in milliseconds (the server's ``retry``, else the default)."""
        return self.machine.retry_ms

    @property
    def state(self) -> State:
        return self.machine.state


class EventStream(_StreamState):
    """Iterate it for :class:`~conformance.sse.Event` s; it reconnects until 204, an error,
    ``max_reconnects`` or :meth:`close`. Also a context manager."""

    def __init__(self, machine: Machine, transport: Transport) -> None:
        self.machine = machine
        self._transport = transport
        self._wake = threading.Event()
        self._items = self._run()
        self._early = deque()

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> Item:
        if self._early:
            return self._early.popleft()
        while (item := next(self._items)) is _OPENED:
            pass
        return item  # type: ignore[return-value]

    def open(self) -> EventStream:
        """Connect now instead of at the first ``next()``: returns once the first response is
        accepted (or was a 204), raises its :class:`SSEError` otherwise. Idempotent. The
        notices on the way (``notifications=True``) are still the first items iterated."""
        if not self.machine.connections:
            for item in self._items:
                if item is _OPENED:
                    break
                self._early.append(item)  # type: ignore[arg-type]
        return self

    def __enter__(self) -> EventStream:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop: no further event and no reconnect (N-15). Called from another thread while a
        read is blocked, it takes effect when the next bytes arrive or ``read_timeout`` ends."""
        if not self.machine.closed:
            self.machine.close()
        self._wake.set()
        with contextlib.suppress(ValueError):  # running in another thread: it stops at its next step
            self._items.close()

    def _run(self) -> Iterator[object]:
        machine, transport = self.machine, self._transport
        try:
            while not machine.closed:
                if machine.state is State.WAITING:
                    self._wake.wait(machine.delay)
                    if not machine.closed:
                        machine.waited()
                    continue
                try:
                    with transport.open(machine.request) as response:
                        verdict = machine.response(response.status, response.header)
                        yield from machine.take_notices()
                        if verdict is not Verdict.OPEN:
                            continue
                        yield _OPENED
                        for chunk in response.chunks():
                            for item in [*machine.feed(chunk), *machine.take_comments()]:
                                if machine.closed:
                                    return
                                yield item
                                if self._restarting:
                                    break
                            if self._restarting:
                                break
                        self._leave()
                except transport.network_errors as error:
                    machine.network_error(error, timeout=isinstance(error, transport.timeout_errors))
                yield from machine.take_notices()
        except SSEError:
            yield from machine.take_notices()  # the failure's error notice, before it is raised
            raise
        finally:
            if not machine.closed:
                machine.close()
            transport.close()


class AsyncEventStream(_StreamState):
    """``async for`` it for :class:`~conformance.sse.Event` s; the async twin of
    :class:`EventStream`, also an async context manager."""

    def __init__(self, machine: Machine, transport: AsyncTransport) -> None:
        self.machine = machine
        self._transport = transport
        self._items = self._run()
        self._early = deque()

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> Item:
        if self._early:
            return self._early.popleft()
        while (item := await self._items.__anext__()) is _OPENED:
            pass
        return item  # type: ignore[return-value]

    async def open(self) -> AsyncEventStream:
        """Connect now: the async twin of :meth:`EventStream.open`."""
        if not self.machine.connections:
            async for item in self._items:
                if item is _OPENED:
                    break
                self._early.append(item)  # type: ignore[arg-type]
        return self

    async def __aenter__(self) -> AsyncEventStream:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop now: no further event and no reconnect (N-15)."""
        if not self.machine.closed:
            self.machine.close()
        try:
            await self._items.aclose()
        except RuntimeError:  # being iterated by another task: it stops at its next step
            await self._transport.aclose()

    async def _run(self) -> AsyncIterator[object]:
        machine, transport = self.machine, self._transport
        try:
            while not machine.closed:
                if machine.state is State.WAITING:
                    await asyncio.sleep(machine.delay)
                    if not machine.closed:
                        machine.waited()
                    continue
                try:
                    async with transport.open(machine.request) as response:
                        verdict = machine.response(response.status, response.header)
                        for notice in machine.take_notices():
                            yield notice
                        if verdict is not Verdict.OPEN:
                            continue
                        yield _OPENED
                        async for chunk in response.chunks():
                            for item in [*machine.feed(chunk), *machine.take_comments()]:
                                if machine.closed:
                                    return
                                yield item
                                if self._restarting:
                                    break
                            if self._restarting:
                                break
                        self._leave()
                except transport.network_errors as error:
                    machine.network_error(error, timeout=isinstance(error, transport.timeout_errors))
                for notice in machine.take_notices():
                    yield notice
        except SSEError:
            for notice in machine.take_notices():  # the failure's error notice, before it is raised
                yield notice
            raise
        finally:
            if not machine.closed:
                machine.close()
            await transport.aclose()
