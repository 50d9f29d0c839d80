"""Server settings and the per-request query parameters that override them.

Defaults suit a human running ``sse-conformance serve`` (heartbeat every 15 s, events a few per
second); tests and the server suite pass short values (``heartbeat=0.05``) instead of sleeping.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

__all__ = ["BadRequest", "Settings", "query_float", "query_int"]


class BadRequest(ValueError):
    """The request cannot start a stream: answered with 400 and a JSON error, never a stream."""


@dataclass(frozen=True)
class Settings:
    """Everything a reference server can be told at start-up.

    ``heartbeat`` is the idle time (seconds) before a comment keep-alive, 0 disables it (S-18);
    ``interval`` the pause between scenario events; ``stream_timeout`` the limit of
    ``/stream/timeout``; ``allowed_origins`` the CORS allow-list ("*" allows any origin, S-08).
    """

    heartbeat: float = 15.0
    interval: float = 0.2
    stream_timeout: float = 5.0
    allowed_origins: tuple[str, ...] = ()
    send_timeout: float = 30.0

    def __post_init__(self) -> None:
        if isinstance(self.allowed_origins, str):
            object.__setattr__(self, "allowed_origins", _split_origins(self.allowed_origins))
        else:
            object.__setattr__(self, "allowed_origins", tuple(self.allowed_origins))
        for name in ("heartbeat", "interval", "stream_timeout", "send_timeout"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")

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


def _number(query: Mapping[str, str], name: str, default: float, kind: type, low: float, high: float):
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise BadRequest(f"query parameter {name!r} must be a number, got {raw!r}") from None
    if not low <= value <= high:  # also refuses nan
        raise BadRequest(f"query parameter {name!r} must be between {low} and {high}, got {raw!r}")
    return value


def query_int(query: Mapping[str, str], name: str, default: int, high: int = 1_000_000) -> int:
    """A bounded non-negative integer query parameter (a bad one is a 400, not a crash)."""
    return _number(query, name, default, int, 0, high)


def query_float(query: Mapping[str, str], name: str, default: float, high: float = 3600.0) -> float:
    """A bounded non-negative seconds query parameter."""
    return _number(query, name, default, float, 0.0, high)
