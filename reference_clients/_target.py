"""Turning a ``connect`` function into a target for the suite's client runner.

The runner calls ``target(url, **inputs)``: ``inputs`` holds method, headers, body, a preset
last_event_id and initial_retry_ms only when the case needs the capability that asks for them.
It iterates (or ``async for``) what comes back and, for the ``close`` cases, calls its
``close()`` / ``aclose()``. The target connects before returning, so a close right away still
follows exactly one request; a first connection that fails is raised after the notices that came
before it. Besides events it reports ``{"comment": text}`` per comment line and ``{"open": true}``
/ ``{"error": true}`` per notice, the runner's shapes for the ``comments``, ``open`` and
``notifications`` capabilities. ``capabilities`` says which optional features the client has.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ._drive import AsyncEventStream, EventStream
from ._errors import SSEError
from ._machine import Comment, Notice

__all__ = ["CAPABILITIES", "make_async_target", "make_target"]

CAPABILITIES = frozenset(
    {"reconnect", "last-event-id", "retry", "post", "headers", "close", "comments", "read-timeout", "restart"}
    | {"open", "notifications"}
)
TARGET_READ_TIMEOUT = 30.0  # a case that stalls ends in reconnects, not in a hung thread
# The initial reconnection time is implementation-defined; a short one lets the many one-connection
# cases end quickly (their reconnect is answered 204). A case's retry field still governs.
TARGET_RETRY_MS = 100


def _options(
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: str | bytes | None = None,
    last_event_id: str | None = None,
    initial_retry_ms: int | None = None,
    read_timeout_ms: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The runner's inputs as ``connect`` keywords."""
    options.setdefault("retry_ms", TARGET_RETRY_MS if initial_retry_ms is None else initial_retry_ms)
    read_timeout = TARGET_READ_TIMEOUT if read_timeout_ms is None else read_timeout_ms / 1000
    options.setdefault("read_timeout", read_timeout)
    options.setdefault("comments", True)
    options.setdefault("notifications", True)
    return dict(options, method=method, headers=headers, body=body, last_event_id=last_event_id or "")


def _as_report(item: object) -> object:
    if isinstance(item, Notice):
        return {item.kind: True}
    return {"comment": item.text} if isinstance(item, Comment) else item


class _Reports:
    """What the runner iterates: the stream's events, comments and notices, and its close().
    ``failure``: the first connection failed; raised once the notices before it are reported."""

    def __init__(self, stream: EventStream, failure: SSEError | None = None) -> None:
        self._stream = stream
        self._failure = failure

    def __iter__(self) -> _Reports:
        return self

    def __next__(self) -> object:
        try:
            return _as_report(next(self._stream))
        except StopIteration:
            if self._failure is not None:
                raise self._failure from None
            raise

    def restart(self) -> None:
        self._stream.restart()

    def close(self) -> None:
        self._stream.close()


class _AsyncReports:
    """The async twin of :class:`_Reports`."""

    def __init__(self, stream: AsyncEventStream, failure: SSEError | None = None) -> None:
        self._stream = stream
        self._failure = failure

    def __aiter__(self) -> _AsyncReports:
        return self

    async def __anext__(self) -> object:
        try:
            return _as_report(await self._stream.__anext__())
        except StopAsyncIteration:
            if self._failure is not None:
                raise self._failure from None
            raise

    def restart(self) -> None:
        self._stream.restart()

    async def aclose(self) -> None:
        await self._stream.aclose()


def _described(target: Callable[..., Any], connect: Callable[..., Any]) -> None:
    target.__doc__ = f"The client-suite target over {connect.__module__}.{connect.__name__}."
    target.capabilities = CAPABILITIES  # type: ignore[attr-defined]


def make_target(connect: Callable[..., EventStream]) -> Callable[..., _Reports]:
    """Wrap a sync ``connect(url, **options)`` in the runner's calling convention."""

    @functools.wraps(connect)
    def conformance_target(url: str, **inputs: Any) -> _Reports:
        stream = connect(url, **_options(**inputs))
        try:
            stream.open()
        except SSEError as failure:
            return _Reports(stream, failure)
        return _Reports(stream)

    _described(conformance_target, connect)
    return conformance_target


def make_async_target(connect: Callable[..., AsyncEventStream]) -> Callable[..., Awaitable[_AsyncReports]]:
    """Wrap an async-iterable ``connect(url, **options)``: the target is a coroutine function."""

    @functools.wraps(connect)
    async def conformance_target(url: str, **inputs: Any) -> _AsyncReports:
        stream = connect(url, **_options(**inputs))
        try:
            await stream.open()
        except SSEError as failure:
            return _AsyncReports(stream, failure)
        return _AsyncReports(stream)

    _described(conformance_target, connect)
    return conformance_target
