"""hypercorn serving the FastAPI reference app over TLS (HTTP/1.1 and h2 by ALPN) and plain
HTTP (HTTP/1.1 and h2c), with a private CA made by trustme: a deployment with a certificate
no public store trusts.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config
from ports import free_port, wait_listening

from reference_servers import Settings
from reference_servers.fastapi_app import create_app

__all__ = ["Served", "running"]


@dataclass(frozen=True)
class Served:
    https: str  # https://127.0.0.1:PORT, certificate from the private CA
    http: str  # http://127.0.0.1:PORT, the same app in plain HTTP (h2c with prior knowledge)
    ca: Path  # the private CA's certificate (PEM): what --cacert takes


@contextlib.contextmanager
def running(workdir: Path) -> Iterator[Served]:
    """Serve the app for the block, in a thread with its own event loop."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path, chain = workdir / "ca.pem", workdir / "server.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    tls_port, plain_port = free_port(), free_port()
    config = Config()
    config.bind, config.insecure_bind = [f"127.0.0.1:{tls_port}"], [f"127.0.0.1:{plain_port}"]
    config.certfile = config.keyfile = str(chain)
    config.accesslog = config.errorlog = None
    loop, stop = asyncio.new_event_loop(), None

    def main() -> None:
        nonlocal stop
        asyncio.set_event_loop(loop)
        stop = asyncio.Event()
        app = create_app(Settings(heartbeat=0.05))
        loop.run_until_complete(serve(app, config, shutdown_trigger=stop.wait))
        pending = asyncio.all_tasks(loop)  # sse-starlette's shutdown watchers: end them, quietly
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    wait_listening(tls_port, plain_port)
    try:
        yield Served(f"https://127.0.0.1:{tls_port}", f"http://127.0.0.1:{plain_port}", ca_path)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
