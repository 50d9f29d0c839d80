"""CORS policy from ``ALLOWED_ORIGINS`` (S-08): what to allow, written once for both adapters.

``Last-Event-ID`` is in the allowed request headers so a preflighted reconnect works
(dunglas/mercure#535); credentials are allowed for ``withCredentials`` EventSources.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ALLOW_HEADERS", "ALLOW_METHODS", "MAX_AGE", "CorsPolicy"]

ALLOW_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
ALLOW_HEADERS = ("Last-Event-ID", "Content-Type", "Cache-Control", "Accept", "Authorization")
MAX_AGE = 600


class CorsPolicy:
    def __init__(self, origins: Sequence[str]) -> None:
        self.origins = frozenset(origins)
        self.any_origin = "*" in self.origins

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and (self.any_origin or origin in self.origins)

    def simple_headers(self, origin: str) -> dict[str, str]:
        """Headers for an actual request from an allowed origin (echo it: credentials need that)."""
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }

    def preflight_headers(self, origin: str) -> dict[str, str]:
        return {
            **self.simple_headers(origin),
            "Access-Control-Allow-Methods": ", ".join(ALLOW_METHODS),
            "Access-Control-Allow-Headers": ", ".join(ALLOW_HEADERS),
            "Access-Control-Max-Age": str(MAX_AGE),
        }
