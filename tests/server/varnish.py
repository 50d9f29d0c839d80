"""Debian's Varnish in front of a streaming origin, with ``beresp.do_stream`` off: Varnish
fetches the whole body before it sends any, then sends it with a Content-Length.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from daemon import find as _find
from daemon import started

__all__ = ["find", "running"]

VCL = """
vcl 4.1;
backend origin {{ .host = "{host}"; .port = "{upstream_port}"; }}
sub vcl_recv {{ return (pass); }}
sub vcl_backend_response {{ set beresp.do_stream = {stream}; }}
"""


def find() -> str | None:
    """The varnishd binary, or None (apt-get install varnish; .ci/run does)."""
    return _find("varnishd", "/usr/sbin/varnishd")


@contextlib.contextmanager
def running(upstream: str, do_stream: bool, workdir: Path) -> Iterator[str]:
    """varnishd in the foreground, its own instance directory in ``workdir``."""
    origin = urlsplit(upstream)

    def argv(port: int) -> list[str]:
        vcl = workdir / f"varnish-{port}.vcl"
        vcl.write_text(VCL.format(host=origin.hostname, upstream_port=origin.port,
                                  stream="true" if do_stream else "false"))
        return [find() or "varnishd", "-F", "-f", str(vcl), "-a", f"127.0.0.1:{port}",
                "-n", str(workdir / f"varnish-{port}"), "-s", "malloc,16m", "-T", "none", "-j", "none"]

    with started(argv, workdir, "varnish") as port:
        yield f"http://127.0.0.1:{port}"
