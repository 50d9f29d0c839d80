"""Running a coroutine from synchronous code that may itself run inside an event loop (a
notebook, an async test): the server and client suites' synchronous APIs both need it."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any

__all__ = ["run_sync"]


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """asyncio.run, also from inside a running loop (then in a worker thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
