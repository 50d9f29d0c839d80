"""Server settings, their bounds, and the per-request query parameters that override them.

Defaults suit a human running ``sse-conformance serve`` (heartbeat every 15 s, events a few per
second); tests and the server suite pass short values (``heartbeat=0.05``) instead of sleeping.
Every number a user can set, at start-up or per request, is checked against one table
(``BOUNDS``): a heartbeat of 1e-7 s would flood the socket with pings, so 0 means "none" and
anything else has a sane minimum.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

__all__ = ["BOUNDS", "BadRequest", "Bound", "Settings", "query_float", "query_int"]


class BadRequest(ValueError):
    """The request cannot start a stream: answered with ``status`` (a 4xx) and a JSON error."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Bound:
    """Allowed values of a number: 0 (when ``zero`` says what it means) or ``low``..``high``."""

    low: float
    high: float
    zero: str = ""  # what 0 means ("none"), empty when 0 is just the low end

    def check(self, name: str, value: float) -> str | None:
        """Why ``value`` is refused, or None when it is allowed (NaN is refused too)."""
        if value == 0 and (self.zero or self.low == 0):
            return None
        if math.isnan(value) or not self.low <= value <= self.high:
            zero = f"0 ({self.zero}) or " if self.zero else ""
            return f"{name} must be {zero}between {self.low:g} and {self.high:g}, got {value:g}"
        return None


# name -> bound, for settings and the query parameters of the same name alike.
BOUNDS: dict[str, Bound] = {
    "heartbeat": Bound(0.01, 3600.0, zero="no heartbeat"),
    "interval": Bound(0.001, 60.0, zero="no pause"),
    "stream_timeout": Bound(0.0, 3600.0),
    "send_timeout": Bound(0.01, 3600.0, zero="no limit"),
    "header_timeout": Bound(0.01, 3600.0),
    "max_body": Bound(1024, 1 << 30),
    "timeout": Bound(0.0, 3600.0),
    "count": Bound(0, 1_000_000),
}
_ANY_INT = Bound(0, 1_000_000)
_ANY_SECONDS = Bound(0.0, 3600.0)


@dataclass(frozen=True)
class Settings:
    """Everything a reference server can be told at start-up.

    ``heartbeat`` is the idle time (seconds) before a comment keep-alive, 0 disables it (S-18);
    ``interval`` the pause between scenario events; ``stream_timeout`` the limit of
    ``/stream/timeout``; ``allowed_origins`` the CORS allow-list ("*" allows any origin, S-08);
    ``send_timeout`` drops a client that stops reading; ``header_timeout`` closes a connection
    whose request head does not arrive in time (half-sent requests); ``max_body`` is the
    largest request body in bytes (413 past it).
    """

    heartbeat: float = 15.0
    interval: float = 0.2
    stream_timeout: float = 5.0
    allowed_origins: tuple[str, ...] = ()
    send_timeout: float = 30.0
    header_timeout: float = 10.0
    max_body: int = 4 << 20

    def __post_init__(self) -> None:
        if isinstance(self.allowed_origins, str):
            object.__setattr__(self, "allowed_origins", _split_origins(self.allowed_origins))
        else:
            object.__setattr__(self, "allowed_origins", tuple(self.allowed_origins))
        for name, bound in BOUNDS.items():
            if hasattr(self, name) and (why := bound.check(name, getattr(self, name))):
                raise ValueError(why)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``ALLOWED_ORIGINS`` (comma-separated, as in the seeds' .env), then overrides."""
        environ = os.environ if environ is None else environ
        base = cls(allowed_origins=_split_origins(environ.get("ALLOWED_ORIGINS", "")))
        return replace(base, **overrides) if overrides else base

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def _split_origins(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _number(query: Mapping[str, str], name: str, default: float, kind: type, high: float | None):
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if len(raw) > 32:  # int() of thousands of digits is slow, and no bound needs them
        raise BadRequest(f"query parameter {name!r} is too long ({len(raw)} characters)")
    try:
        value = kind(raw)
    except ValueError:
        raise BadRequest(f"query parameter {name!r} must be a number, got {raw!r}") from None
    bound = BOUNDS.get(name) or (_ANY_INT if kind is int else _ANY_SECONDS)
    if high is not None:
        bound = replace(bound, high=min(bound.high, high))
    if why := bound.check(f"query parameter {name!r}", value):
        raise BadRequest(why)
    return value


def query_int(query: Mapping[str, str], name: str, default: int, high: int | None = None) -> int:
    """A bounded non-negative integer query parameter (a bad one is a 400, not a crash)."""
    return _number(query, name, default, int, high)


def query_float(query: Mapping[str, str], name: str, default: float, high: float | None = None) -> float:
    """A bounded seconds query parameter (bounds from ``BOUNDS``)."""
    return _number(query, name, default, float, high)
