"""Run one app on 127.0.0.1 port 0 and announce its URL on stdout, for a parent process to read.

Each third-party app runs in a subprocess of its own so a hang, crash or event-loop quirk of one
framework cannot touch the report run; the parent reads ``LISTENING <url>`` and kills it after.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

__all__ = ["ANNOUNCE", "serve_aiohttp", "serve_asgi", "serve_wsgi"]

ANNOUNCE = "LISTENING"


def _announce(port: int) -> None:
    print(f"{ANNOUNCE} http://127.0.0.1:{port}", flush=True)


def serve_asgi(app: Any) -> None:
    """Serve an ASGI app with uvicorn on a socket bound before the server starts."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections queue in the backlog until uvicorn starts accepting
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    _announce(sock.getsockname()[1])
    server.run(sockets=[sock])


def serve_aiohttp(app: Any) -> None:
    """Serve an aiohttp ``web.Application`` on port 0."""
    from aiohttp import web

    async def main() -> None:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        _announce(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_wsgi(app: Any) -> None:
    """Serve a WSGI app with werkzeug's threaded server (what ``flask run`` uses)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    _announce(server.socket.getsockname()[1])
    sys.stdout.flush()
    server.serve_forever()
