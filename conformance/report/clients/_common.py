"""What every Python adapter shares: the event shape, the capability marker, one TLS context."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ...sse import Event

__all__ = ["Event", "capable", "tls_context"]

F = TypeVar("F", bound=Callable[..., Any])


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS settings, made once for every client an adapter opens. A new
    ``httpx.Client()`` loads the CA bundle again: 21 ms of CPU, more than the rest of a case's
    run. The cases are plain HTTP on loopback, so what the library does with them is unchanged."""
    import httpx

    return httpx.create_ssl_context()


def capable(*names: str) -> Callable[[F], F]:
    """Declare the optional features an adapter passes on to its library (see case ``requires``)."""

    def mark(func: F) -> F:
        func.capabilities = frozenset(names)  # type: ignore[attr-defined]
        return func

    return mark


def events(items: Iterable[Any], *, event: str, data: str, id: str) -> Iterable[Event]:
    """Map a library's event objects onto :class:`Event` by attribute names.

    The type is reported as the library gives it: only ``None`` (its API's "no type") becomes
    "message". An empty string stays empty, because mapping it too would hide a library that
    gives ``""`` for ``event:`` with no value (C-24: sseclient-py 1.6, requests-sse)."""
    for item in items:
        kind = getattr(item, event)
        yield Event("message" if kind is None else kind, getattr(item, data), getattr(item, id) or "")
