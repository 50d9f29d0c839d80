"""Start a reference server in a background thread (its own event loop) and stop it cleanly.

One code path for tests, ``selftest`` and ``sse-conformance serve``: bind the socket first (so
port 0 is resolved before anyone asks for the URL), serve it from a thread, and on exit stop
the server, cancelling any stream still open.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from .settings import Settings
from .stats import StreamStats

__all__ = ["KINDS", "ServerThread", "running", "running_async"]

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
DRAIN_TIMEOUT = 2.0

Serve = Callable[[Settings, socket.socket, Callable[[], None], asyncio.Event], Awaitable[None]]


async def _serve_aiohttp(settings: Settings, sock: socket.socket, started: Callable[[], None],
                         stop: asyncio.Event) -> None:
    from aiohttp import web

    from .aiohttp_app import create_app, runner_options, stats_of

    app = create_app(settings)
    runner = web.AppRunner(app, **runner_options(settings))
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        started()
        await stop.wait()
        await _end_streams(stats_of(app))
    finally:
        await runner.cleanup()


async def _serve_fastapi(settings: Settings, sock: socket.socket, started: Callable[[], None],
                         stop: asyncio.Event) -> None:
    import uvicorn

    from .fastapi_app import create_app, stats_of
    from .head_deadline import HeadDeadlineProtocol

    app = create_app(settings)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                            timeout_graceful_shutdown=1, http=HeadDeadlineProtocol,
                            timeout_keep_alive=settings.header_timeout)
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    started()
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    await _end_streams(stats_of(app))
    server.should_exit = server.force_exit = True  # a stream that would not end must not hold us
    await task


async def _end_streams(stats: StreamStats) -> None:
    """End open streams at an event boundary with a clean end of body (S-21), not a cut."""
    stats.shutdown()
    await stats.drain(DRAIN_TIMEOUT)


SERVERS: dict[str, Serve] = {"aiohttp": _serve_aiohttp, "fastapi": _serve_fastapi}
KINDS: tuple[str, ...] = tuple(SERVERS)


class ServerThread:
    """One reference server on ``host:port`` (0 picks a free port) in a daemon thread."""

    def __init__(self, kind: str, settings: Settings, host: str = "127.0.0.1", port: int = 0) -> None:
        if kind not in SERVERS:
            raise ValueError(f"unknown server kind {kind!r} (choose from {', '.join(KINDS)})")
        self.kind = kind
        self.settings = settings
        self._sock = socket.create_server((host, port), family=_family(host), backlog=2048)
        self._sock.setblocking(False)
        bound = self._sock.getsockname()
        self.url = f"http://{_url_host(host)}:{bound[1]}"
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name=f"reference-{kind}", daemon=True)

    def start(self) -> str:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError(f"{self.kind} reference server did not start in {START_TIMEOUT} s")
        if self._error is not None:
            raise RuntimeError(f"{self.kind} reference server failed to start: {self._error}")
        self._ready_check()
        return self.url

    def _ready_check(self) -> None:
        """Answer one request before handing out the URL: callers (and timing checks such as
        P-02) then meet a server that is serving, not one still warming up its first request."""
        try:
            direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
            with direct.open(self.url + "/stats", timeout=START_TIMEOUT) as response:
                response.read()
        except OSError as error:
            raise RuntimeError(f"{self.kind} reference server does not answer: {error}") from None

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(STOP_TIMEOUT)
        self._sock.close()

    def _main(self) -> None:
        try:
            asyncio.run(self._amain())
        except BaseException as error:  # reported to start(), never a thread traceback
            self._error = error
        finally:
            self._ready.set()

    async def _amain(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await SERVERS[self.kind](self.settings, self._sock, self._ready.set, self._stop)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@contextlib.contextmanager
def running(kind: str, *, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> Iterator[str]:
    """Serve the ``kind`` reference server for the block; yield its base URL (no trailing slash).

    ``settings`` are :class:`Settings` fields (``heartbeat=0.05``, ``allowed_origins=[...]``);
    unknown names raise TypeError. ALLOWED_ORIGINS from the environment is the default.
    """
    server = ServerThread(kind, Settings.from_env(**settings), host, port)
    try:
        yield server.start()
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def running_async(kind: str, *, host: str = "127.0.0.1", port: int = 0,
                        **settings: Any) -> AsyncIterator[str]:
    """:func:`running` for async code: the server keeps its own thread, so the caller's loop
    never shares work with it; start and stop happen off the caller's loop."""
    server = ServerThread(kind, Settings.from_env(**settings), host, port)
    try:
        yield await asyncio.to_thread(server.start)
    finally:
        await asyncio.to_thread(server.stop)
