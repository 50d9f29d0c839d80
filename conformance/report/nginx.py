"""Debian's nginx as a reverse proxy: a generated config in a tmp dir, a free port on 127.0.0.1,
a non-daemon child process stopped by its own PID.

The configs are the deployments people run: nginx's defaults (buffering on, HTTP/1.0 upstream),
the SSE recipe (``proxy_buffering off``, HTTP/1.1 upstream) and the recipe plus ``gzip on``.
The report's proxy rows and the server suite's tests both start nginx through :func:`running`.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["CONFIGS", "find", "running", "stop_process"]

SSE = """
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
"""
# name -> the directives inside ``location /``, after proxy_pass. The reference servers send
# X-Accel-Buffering: no, which nginx honours; every config ignores it (as for the many apps that
# do not send it), so what is judged is nginx's own configuration.
CONFIGS = {
    "default": "",
    "sse": SSE,
    "sse-gzip": SSE
    + """
        gzip on;
        gzip_types text/event-stream;
        gzip_min_length 0;
        gzip_proxied any;
""",
}
TEMPLATE = """
daemon off;
master_process off;
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass {upstream};
            proxy_ignore_headers X-Accel-Buffering;
{directives}
        }}
    }}
}}
"""
NGINX_PATHS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx")


def find() -> str | None:
    """The nginx binary, or None (install: apt-get install nginx-light; .ci/run does)."""
    return shutil.which("nginx") or next((p for p in NGINX_PATHS if Path(p).exists()), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, alive: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while alive() and time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.02)
    return False


@contextlib.contextmanager
def running(upstream: str, config: str, workdir: Path | None = None) -> Iterator[str]:
    """nginx in front of ``upstream`` with the named config; yields its base URL."""
    binary = find()
    if not binary:
        raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
    if workdir is None:
        with (
            tempfile.TemporaryDirectory(prefix="sse-nginx-") as tmp,
            running(upstream, config, Path(tmp)) as url,
        ):
            yield url
        return
    for _attempt in range(3):  # the free port may be taken between the probe and nginx's bind
        port = _free_port()
        conf = workdir / f"nginx-{port}.conf"
        conf.write_text(
            TEMPLATE.format(dir=workdir, port=port, upstream=upstream, directives=CONFIGS[config])
        )
        argv = [binary, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")]
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if _wait_listening(port, alive=lambda p=proc: p.poll() is None):
            break
        stop_process(proc)
    else:
        raise RuntimeError(f"nginx did not start: {(workdir / 'error.log').read_text()[-500:]}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop a daemon started in the foreground: SIGTERM, then SIGKILL after 5 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
