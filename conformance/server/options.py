"""What the user asked the server suite to do: one frozen value shared by capture, checks and faces."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ..errors import UsageError
from ..rules import PROFILES

__all__ = ["DEFAULTS", "PROFILES", "Options", "UnusableTarget", "parse_header"]

# Bounds for endless streams: read until one is reached, then judge what arrived.
DEFAULTS = {"timeout": 10.0, "max_events": 1000, "max_seconds": 10.0, "max_bytes": 8 * 1024 * 1024}


class UnusableTarget(UsageError, ValueError):
    """The URL or an option cannot be used at all: a usage error (exit status 2, one line)."""


def parse_header(text: str) -> tuple[str, str]:
    """Parse one curl-style ``-H 'Name: value'``; a missing colon or empty name is unusable."""
    name, colon, value = text.partition(":")
    name = name.strip()
    if not colon or not name or any(c in name for c in " \t\r\n"):
        raise UnusableTarget(f"header must look like 'Name: value', got {text!r}")
    if "\r" in value or "\n" in value:
        raise UnusableTarget(f"header value must not contain CR or LF: {text!r}")
    if not (name + value).isascii():
        raise UnusableTarget(f"header must be ASCII (percent-encode or base64 the value): {text!r}")
    return name, value.strip()


@dataclass(frozen=True)
class Options:
    url: str
    profile: str = "generic"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    data: bytes | None = None
    resume: bool = False
    origin: str | None = None
    idle: float | None = None
    timeout: float = DEFAULTS["timeout"]
    max_events: int = DEFAULTS["max_events"]
    max_seconds: float = DEFAULTS["max_seconds"]
    max_bytes: int = DEFAULTS["max_bytes"]
    # Transport, named as curl names them: trust, and which HTTP version to speak.
    cacert: str | None = None  # --cacert FILE: PEM bundle of CAs to trust (else SSL_CERT_FILE/system)
    insecure: bool = False  # -k/--insecure: do not verify the certificate
    http2: bool = False  # --http2: offer h2 over TLS (ALPN)
    http2_prior_knowledge: bool = False  # --http2-prior-knowledge: h2c on http://, no upgrade

    def __post_init__(self) -> None:
        try:
            parts = urlsplit(self.url)
            parts.port  # noqa: B018 - raises ValueError for a bad port
            httpx.URL(self.url)
        except (ValueError, httpx.InvalidURL) as error:
            raise UnusableTarget(f"bad URL {self.url!r}: {error}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in self.url:
            raise UnusableTarget(f"not an http(s) URL: {self.url!r}")
        if self.profile not in PROFILES:
            raise UnusableTarget(f"unknown profile {self.profile!r} (choose from {', '.join(PROFILES)})")
        if not self.method or not self.method.isalpha():
            raise UnusableTarget(f"bad HTTP method {self.method!r}")
        for name, value in (("timeout", self.timeout), ("max-seconds", self.max_seconds),
                            ("max-events", self.max_events), ("max-bytes", self.max_bytes)):
            if value <= 0:
                raise UnusableTarget(f"--{name} must be positive, got {value}")
        if self.idle is not None and self.idle <= 0:
            raise UnusableTarget(f"--idle must be positive, got {self.idle}")
        self._check_transport(parts.scheme)

    def _check_transport(self, scheme: str) -> None:
        """HTTP/2 and TLS options that cannot work for this URL are usage errors, not verdicts."""
        if self.http2 and scheme != "https":
            raise UnusableTarget("--http2 negotiates HTTP/2 over TLS (ALPN): use an https:// URL, "
                                 "or --http2-prior-knowledge for h2c on http://")
        if self.http2_prior_knowledge and scheme != "http":
            raise UnusableTarget("--http2-prior-knowledge is for http:// URLs (h2c); use --http2 for https://")
        if self.cacert is not None and not Path(self.cacert).is_file():
            raise UnusableTarget(f"--cacert {self.cacert}: no such file")

    @property
    def protocol(self) -> str:
        """The HTTP version asked for, as shown next to the one the server answered with."""
        return "HTTP/2" if self.http2 or self.http2_prior_knowledge else "HTTP/1.1"

    @property
    def read_seconds(self) -> float:
        """How long to read the body: long enough to see two idle periods when --idle is asked."""
        if self.idle is None:
            return self.max_seconds
        return max(self.max_seconds, 2 * self.idle + 1)
