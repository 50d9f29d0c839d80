"""Debian's HAProxy in HTTP mode in front of a streaming origin, with its defaults or with
``option http-no-delay``. HAProxy sends no Server header: only its behaviour shows it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from daemon import find as _find
from daemon import started

__all__ = ["find", "running"]

CONFIG = """
global
    maxconn 64
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend front
    bind 127.0.0.1:{port}
    default_backend origin
backend origin
{options}
    server origin {host}:{upstream_port}
"""


def find() -> str | None:
    """The haproxy binary, or None (apt-get install haproxy; .ci/run does)."""
    return _find("haproxy", "/usr/sbin/haproxy")


@contextlib.contextmanager
def running(upstream: str, no_delay: bool, workdir: Path) -> Iterator[str]:
    """HAProxy proxying to ``upstream``; ``no_delay`` adds ``option http-no-delay``."""
    origin = urlsplit(upstream)

    def argv(port: int) -> list[str]:
        conf = workdir / f"haproxy-{port}.cfg"
        conf.write_text(CONFIG.format(port=port, host=origin.hostname, upstream_port=origin.port,
                                      options="    option http-no-delay" if no_delay else ""))
        return [find() or "haproxy", "-db", "-f", str(conf)]

    with started(argv, workdir, "haproxy") as port:
        yield f"http://127.0.0.1:{port}"
