"""Debian's lighttpd as a reverse proxy (mod_proxy) in front of a streaming origin.

``server.stream-response-body`` decides delivery: 0 (the default) collects the whole response
and sends it with a Content-Length, 2 passes each piece on as it comes.
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
server.document-root = "{dir}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{dir}/error.log"
server.modules += ("mod_proxy")
server.stream-response-body = {stream}
proxy.server = ("" => (("host" => "{host}", "port" => {upstream_port})))
"""


def find() -> str | None:
    """The lighttpd binary, or None (apt-get install lighttpd; .ci/run does)."""
    return _find("lighttpd", "/usr/sbin/lighttpd")


@contextlib.contextmanager
def running(upstream: str, stream_body: int, workdir: Path) -> Iterator[str]:
    """lighttpd proxying to ``upstream`` with ``server.stream-response-body = stream_body``."""
    origin = urlsplit(upstream)

    def argv(port: int) -> list[str]:
        conf = workdir / f"lighttpd-{port}.conf"
        conf.write_text(CONFIG.format(dir=workdir, port=port, stream=stream_body, host=origin.hostname,
                                      upstream_port=origin.port))
        return [find() or "lighttpd", "-D", "-f", str(conf)]

    with started(argv, workdir, "lighttpd") as port:
        yield f"http://127.0.0.1:{port}"
