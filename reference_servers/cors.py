"""CORS policy from ``ALLOWED_ORIGINS`` (S-08): what to allow, written once for both adapters.

``Last-Event-ID`` is in the allowed request headers so a preflighted reconnect works
(dunglas/mercure#535). Credentials (``withCredentials`` EventSources, ``Authorization``) go only
to origins listed by name: ``*`` answers ``Access-Control-Allow-Origin: *`` without them, as the
Fetch standard requires, so no site can read a logged-in user's stream.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ALLOW_HEADERS", "ALLOW_METHODS", "ANY_ORIGIN_HEADERS", "MAX_AGE", "CorsPolicy"]

ALLOW_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
ANY_ORIGIN_HEADERS = ("Last-Event-ID", "Content-Type", "Cache-Control", "Accept")
ALLOW_HEADERS = (*ANY_ORIGIN_HEADERS, "Authorization")
MAX_AGE = 600


class CorsPolicy:
    def __init__(self, origins: Sequence[str]) -> None:
        self.origins = frozenset(origins)
        self.any_origin = "*" in self.origins

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and (self.any_origin or origin in self.origins)

    def named(self, origin: str) -> bool:
        """Whether ``origin`` is listed by name (only those get credentials)."""
        return origin in self.origins and origin != "*"

    def simple_headers(self, origin: str) -> dict[str, str]:
        """Headers for an actual request from an allowed origin: a named one is echoed with
        credentials, any other gets ``*`` and none."""
        if not self.named(origin):
            return {"Access-Control-Allow-Origin": "*"}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }

    def preflight_headers(self, origin: str) -> dict[str, str]:
        headers = ALLOW_HEADERS if self.named(origin) else ANY_ORIGIN_HEADERS
        return {
            **self.simple_headers(origin),
            "Access-Control-Allow-Methods": ", ".join(ALLOW_METHODS),
            "Access-Control-Allow-Headers": ", ".join(headers),
            "Access-Control-Max-Age": str(MAX_AGE),
        }
