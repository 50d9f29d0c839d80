"""The request an SSE client sends, built once per connection attempt (N-01, N-11, N-19)."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_HEADERS", "Headers", "Request", "encode_body", "merge_headers"]

Headers = Mapping[str, str] | Iterable[tuple[str, str]]

DEFAULT_HEADERS = (
    ("Accept", "text/event-stream"),
    # Cache mode no-store, as a browser sends it (N-01); LD compares "no-cache" exactly.
    ("Cache-Control", "no-cache"),
    ("Pragma", "no-cache"),
)


@dataclass(frozen=True)
class Request:
    """One HTTP request to make: everything a transport needs, already decided."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None = None

    def header_bytes(self) -> list[tuple[str, bytes]]:
        """Values as UTF-8 bytes: httpx and requests refuse non-ASCII ``str`` values, and a
        ``Last-Event-ID`` of "…" must go out as e2 80 a6 (N-11, C-32)."""
        return [(name, value.encode("utf-8")) for name, value in self.headers]

    def header(self, name: str) -> str | None:
        """The value of one header, compared case-insensitively, or None."""
        wanted = name.lower()
        return next((v for n, v in self.headers if n.lower() == wanted), None)


def merge_headers(user: Headers | None, extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """Defaults, then the caller's headers (which replace a default of the same name), then
    ``extra``. Names compare case-insensitively; the caller's spelling is kept."""
    pairs = list(user.items()) if isinstance(user, Mapping) else list(user or ())
    merged: dict[str, tuple[str, str]] = {n.lower(): (n, v) for n, v in DEFAULT_HEADERS}
    for name, value in [*pairs, *extra]:
        merged[name.lower()] = (name, value)
    return list(merged.values())


def encode_body(body: bytes | str | None, json: Any = None) -> tuple[bytes | None, str | None]:
    """Return (bytes, implied Content-Type): ``str`` becomes UTF-8 with no type implied,
    ``json`` becomes compact JSON with ``application/json``."""
    if json is not None:
        if body is not None:
            raise TypeError("pass body or json, not both")
        return jsonlib.dumps(json, separators=(",", ":")).encode("utf-8"), "application/json"
    if isinstance(body, str):
        return body.encode("utf-8"), None
    if body is not None and not isinstance(body, (bytes, bytearray)):
        raise TypeError(f"body must be bytes or str, not {type(body).__name__}")
    return (bytes(body) if body is not None else None), None
