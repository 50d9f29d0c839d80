"""Driving a Python client callable: call it, hand on what it reports, close or restart it when
the invocation says so. A worker process (:mod:`.worker`) and a thread of the suite
(:class:`.targets.PythonTarget`) both use this code, so a client behaves the same in either.
``report(kind, value)`` gets ``("event", item)`` per item, or ``("text", value)`` for the openai
profile; it raises :class:`Stop` to unwind the client (the run was cancelled or abandoned).
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

from .observation import EventCount, Invocation

__all__ = ["Drive", "Stop"]

Report = Callable[[str, Any], None]


class Stop(BaseException):
    """Raised by ``report`` (or a cancelled async client) to unwind the client's thread."""


class Drive:
    """One call of ``func``; ``run()`` in the client's thread, ``cancel()`` from any thread."""

    def __init__(self, func: Callable[..., Any], invocation: Invocation, profile: str,
                 report: Report) -> None:
        self.func = func
        self.invocation = invocation
        self.profile = profile
        self.report = report
        self.cancelled = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None

    def run(self) -> None:
        """Call the client and report all it yields; its own exceptions propagate."""
        result = self.func(self.invocation.url, **self.invocation.kwargs())
        if inspect.isawaitable(result) or hasattr(result, "__aiter__"):
            import asyncio  # here: a synchronous client's worker does not pay for importing it

            asyncio.run(self._run_async(result))
        else:
            self._settle(result)

    def cancel(self) -> None:
        self.cancelled.set()
        if self._loop is not None and self._task is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._task.cancel)

    # -- the loop of reports -----------------------------------------------------------------
    def _settle(self, result: Any) -> None:
        if self.profile == "openai":
            self.report("text", result)
        else:
            self._consume(result)

    def _closing(self) -> bool:
        """Close the client's iterator on the way out: it was told to close, or was cancelled."""
        return self.invocation.close_after_events is not None or self.cancelled.is_set()

    def _stop_after(self, count: EventCount, item: Any, client: Any) -> bool:
        """One item of ``client``'s iteration; True to stop: before reporting it when the client
        must already close, after it when it was the last one owed (then it is not restarted)."""
        if count.must_close():
            return True
        self.report("event", item)
        restart = count.add(item)
        stop = count.must_close()
        if restart and not stop:
            client.restart()  # the client's restart API (capability restart)
        return stop

    def _consume(self, result: Any) -> None:
        iterator = iter(result)
        count = EventCount(self.invocation)
        try:
            for item in iterator:
                if self._stop_after(count, item, iterator):
                    break
        finally:
            if self._closing() and hasattr(iterator, "close"):
                iterator.close()  # the client's close API: stop, and never reconnect

    async def _run_async(self, result: Any) -> None:
        import asyncio

        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if self.cancelled.is_set():
            raise Stop
        try:
            if not hasattr(result, "__aiter__"):
                result = await result
                if self.profile == "openai" or not hasattr(result, "__aiter__"):
                    self._settle(result)
                    return
            await self._consume_async(result)
        except asyncio.CancelledError:
            raise Stop from None

    async def _consume_async(self, result: Any) -> None:
        count = EventCount(self.invocation)
        try:
            async for item in result:
                if self._stop_after(count, item, result):
                    break
        finally:
            if self._closing() and hasattr(result, "aclose"):
                await result.aclose()
