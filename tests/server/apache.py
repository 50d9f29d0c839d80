"""Debian's Apache httpd as a reverse proxy (mod_proxy_http) with mod_deflate compressing
text/event-stream: the compressor holds events until its buffer fills or the body ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from daemon import find as _find
from daemon import started

__all__ = ["find", "running"]

MODULES = "/usr/lib/apache2/modules"
CONFIG = """
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule filter_module {modules}/mod_filter.so
LoadModule deflate_module {modules}/mod_deflate.so
LoadModule proxy_module {modules}/mod_proxy.so
LoadModule proxy_http_module {modules}/mod_proxy_http.so
ServerRoot "{dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{dir}/apache-{port}.pid"
ErrorLog "{dir}/apache-error.log"
DefaultRuntimeDir "{dir}"
Mutex file:{dir}
User daemon
Group daemon
StartServers 1
ServerLimit 1
ThreadsPerChild 16
ProxyPass "/" "{upstream}/"
{deflate}
"""
DEFLATE = "AddOutputFilterByType DEFLATE text/event-stream"


def find() -> str | None:
    """The apache2 binary with mod_proxy_http, or None (apt-get install apache2; .ci/run does)."""
    binary = _find("apache2", "/usr/sbin/apache2")
    return binary if binary and Path(MODULES, "mod_proxy_http.so").exists() else None


@contextlib.contextmanager
def running(upstream: str, deflate: bool, workdir: Path) -> Iterator[str]:
    """apache2 in the foreground proxying to ``upstream``; ``deflate`` compresses the stream."""

    def argv(port: int) -> list[str]:
        conf = workdir / f"apache-{port}.conf"
        conf.write_text(CONFIG.format(modules=MODULES, dir=workdir, port=port, upstream=upstream.rstrip("/"),
                                      deflate=DEFLATE if deflate else ""))
        return [find() or "apache2", "-DFOREGROUND", "-f", str(conf)]

    with started(argv, workdir, "apache") as port:
        yield f"http://127.0.0.1:{port}"
