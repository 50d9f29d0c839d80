"""ASGI apps under uvicorn, in a daemon thread with its own event loop, on a socket we bound."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

from . import AppError

START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


class AsgiServer:
    """uvicorn serving one app on 127.0.0.1:<free port> until :meth:`stop`."""

    def __init__(self, app: Any) -> None:
        try:
            import uvicorn
        except ImportError:
            raise AppError("serving an ASGI app needs uvicorn: pip install 'sse-conformance[asgi]'") from None
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="auto",
                                timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="sse-asgi-app", daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as error:  # reported by start(), never a thread traceback
            self._error = error

    def start(self) -> str:
        self._thread.start()
        self._thread.join(0.01)
        waited = 0.0
        while not self._server.started and self._thread.is_alive() and waited < START_TIMEOUT:
            self._thread.join(0.02)
            waited += 0.02
        if not self._server.started:
            self.stop()
            why = f": {self._error}" if self._error else " (its lifespan startup failed?)"
            raise AppError(f"the ASGI app did not start{why}")
        return self.url

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT)
        if self._thread.is_alive():  # a stream that will not end must not hold the run
            self._server.force_exit = True
            self._thread.join(STOP_TIMEOUT)
        self._sock.close()
