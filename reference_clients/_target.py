"""Turning a ``connect`` function into a target for the suite's client runner.

The runner calls ``target(url, **inputs)``: ``inputs`` holds method, headers, body and a preset
last_event_id only when the case needs the capability that asks for them, and iterates (or
``async for``) what it returns. ``capabilities`` says which optional features the client has.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["CAPABILITIES", "make_target"]

CAPABILITIES = frozenset({"reconnect", "last-event-id", "retry", "post", "headers"})
TARGET_READ_TIMEOUT = 30.0  # a case that stalls ends in reconnects, not in a hung thread

S = TypeVar("S")


def make_target(connect: Callable[..., S]) -> Callable[..., S]:
    """Wrap ``connect(url, **options)`` in the runner's calling convention."""

    @functools.wraps(connect)
    def conformance_target(
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: str | bytes | None = None,
        last_event_id: str | None = None,
        initial_retry_ms: int | None = None,
        **options: Any,
    ) -> S:
        if initial_retry_ms is not None:
            options.setdefault("retry_ms", initial_retry_ms)
        options.setdefault("read_timeout", TARGET_READ_TIMEOUT)
        return connect(
            url, method=method, headers=headers, body=body, last_event_id=last_event_id or "", **options
        )

    conformance_target.__doc__ = f"The client-suite target over {connect.__module__}.{connect.__name__}."
    conformance_target.capabilities = CAPABILITIES  # type: ignore[attr-defined]
    return conformance_target
