"""Headless Chromium as ground truth: its ``EventSource`` runs every generic client case.

The case server gets a few extra routes (:class:`Bridge`): the runner page, a job queue and a
place to post events. :class:`BrowserTarget` is a client-suite target whose ``observe`` hands
the case URL to the page and waits, so the suite's own runner and judge give the verdicts.

A browser has no exceptions to raise: when ``EventSource`` gives up (readyState CLOSED) the
adapter reads the status the case server sent last, and reports a clean stop for 204 and a
failed connection for anything else. It cannot preset method, headers, body, Last-Event-ID or
the initial reconnection time, so cases that need those report a broken adapter, never a pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from ..cases.model import Case
from ..client.caseserver import CaseServer
from ..client.targets import Invocation, Observation, PythonTarget
from ..results import Report
from ..sse import Event
from .browser_page import PAGE
from .document import Implementation
from .versions import command_version

__all__ = ["CHROMIUM_FLAGS", "Bridge", "BrowserTarget", "chromium_path", "chromium_report", "run_browser"]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--mute-audio",
)
PAGE_TIMEOUT = 30.0  # the runner page must ask for work within this many seconds
POLL = 20.0  # one long-poll waits at most this long
CONCURRENCY = 3  # HTTP/1.1 allows 6 connections per host: cases + the poll + posts
CAPABILITIES = frozenset({"reconnect", "retry"})
_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str | None:
    """The Chromium executable on PATH, or None."""
    return next((p for p in map(shutil.which, _NAMES) if p), None)


@dataclass
class _Pending:
    """One job in flight: its events by sequence number and how it ended."""

    enough: Callable[[list[Event]], bool] | None
    events: dict[int, Event] = field(default_factory=dict)
    how: str | None = None
    expected_count: int | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def ordered(self) -> list[Event]:
        return [self.events[k] for k in sorted(self.events)]

    def check(self) -> None:
        """Done when the page said so and every posted event is in, or when ``enough`` holds."""
        ended = self.how is not None and len(self.events) >= (self.expected_count or 0)
        if ended or (self.enough is not None and self.enough(self.ordered())):
            self.done.set()


class Bridge:
    """Routes added to the case server's app: the page, the job queue, event and end posts."""

    def __init__(self, server: CaseServer) -> None:
        self.server = server
        self.jobs: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.pending: dict[int, _Pending] = {}
        self.ids = itertools.count(1)
        self.page_seen = asyncio.Event()
        self.closing = False

    def install(self, app: web.Application) -> None:
        app.router.add_get("/__browser/", self._page)
        app.router.add_get("/__browser/next", self._next)
        app.router.add_post("/__browser/event", self._event)
        app.router.add_post("/__browser/done", self._done)

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def _next(self, request: web.Request) -> web.Response:
        self.page_seen.set()
        if self.closing:
            return web.Response(status=410)
        try:
            job = await asyncio.wait_for(self.jobs.get(), POLL)
        except TimeoutError:
            return web.Response(status=204)
        return web.json_response(job)

    async def _event(self, request: web.Request) -> web.Response:
        body = await request.json()
        pending = self.pending.get(body["id"])
        if pending is not None:
            pending.events[int(body["seq"])] = Event(body["event"], body["data"], body["last"])
            pending.check()
        return web.Response(status=204)

    async def _done(self, request: web.Request) -> web.Response:
        body = await request.json()
        pending = self.pending.get(body["id"])
        if pending is not None:
            pending.how, pending.expected_count = body["how"], int(body["count"])
            pending.check()
        return web.Response(status=204)


def _listened_types(case: Case) -> list[str]:
    """A page hears only the types it listens for: every type the case or a divergence names."""
    expects = [case.expect, *(d.expect for d in case.divergences.values())]
    return sorted({"message"} | {e.event for expect in expects for e in expect.events})


def _last_status(case: Case, requests: int) -> int:
    """The status the case server sent on its last response (204 past the listed connections)."""
    if requests == 0 or requests > len(case.connections):
        return 204
    return case.connections[requests - 1].status


class BrowserTarget(PythonTarget):
    """A client-suite target backed by the runner page in Chromium."""

    def __init__(self, bridge: Bridge, name: str = "Chromium EventSource") -> None:
        self.bridge = bridge
        self.name = name
        self.func = self.observe
        self.capabilities = CAPABILITIES

    async def observe(
        self,
        invocation: Invocation,
        *,
        profile: str,
        timeout: float,
        enough: Callable[[list[Event]], bool] | None = None,
    ) -> Observation:
        started = time.monotonic()
        path = "/" + invocation.url.split("/", 3)[3]
        slot = self.bridge.server.slots[path.split("?")[0]]
        case = slot.case
        extras = {k: v for k, v in invocation.kwargs().items() if k != "method" or v != "GET"}
        if extras:
            return Observation(broken=f"a browser EventSource cannot be given {', '.join(sorted(extras))}")
        job_id = next(self.bridge.ids)
        pending = _Pending(enough)
        self.bridge.pending[job_id] = pending
        single = len(case.connections) <= 1 and (case.expect.requests or 1) <= 1
        await self.bridge.jobs.put(
            {
                "id": job_id,
                "url": invocation.url,
                "types": _listened_types(case),
                "single": single,
                "timeout_ms": int(timeout * 1000),
            }
        )
        observation = Observation()
        try:
            await asyncio.wait_for(pending.done.wait(), timeout + 1)
        except TimeoutError:
            observation.timed_out = True
        finally:
            self.bridge.pending.pop(job_id, None)
        observation.events = pending.ordered()
        if pending.how == "closed" and _last_status(case, len(slot.requests)) != 204:
            observation.raised = "EventSource error: the connection failed (readyState CLOSED)"
        if pending.how in ("closed", "eof"):
            observation.finished = True
        elif pending.how == "timeout":
            observation.timed_out = True
        elif pending.how is None and not observation.timed_out:
            observation.stopped_early = True
        observation.seconds = time.monotonic() - started
        return observation


@contextlib.asynccontextmanager
async def _chromium(url: str, executable: str) -> AsyncIterator[subprocess.Popen[bytes]]:
    """Chromium on ``url`` with a fresh profile; always killed afterwards."""
    with tempfile.TemporaryDirectory(prefix="sse-chromium-") as profile:
        proc = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


async def chromium_report(
    *, pattern: str | None = None, chunkings: Iterable[str] | None = None, executable: str | None = None
) -> Report:
    """Run the generic client cases in headless Chromium; raises RuntimeError if it cannot start."""
    from ..client.runner import ClientRun, plan_items

    executable = executable or chromium_path()
    if executable is None:
        raise RuntimeError("chromium is not installed (scripts/install-chromium)")
    server = CaseServer()
    bridge = Bridge(server)
    bridge.install(server.make_app())
    run = ClientRun(BrowserTarget(bridge), capabilities=CAPABILITIES, server=server, concurrency=CONCURRENCY)
    items = plan_items(profile="generic", pattern=pattern, chunkings=chunkings)
    async with server, _chromium(server.url("/__browser/"), executable) as proc:
        try:
            await asyncio.wait_for(bridge.page_seen.wait(), PAGE_TIMEOUT)
        except TimeoutError:
            state = "exited" if proc.poll() is not None else "is running"
            raise RuntimeError(f"Chromium {state} but never loaded the runner page") from None
        results = await run.run(items)
        bridge.closing = True
    return Report(
        kind="client",
        target=run.name,
        results=results,
        meta={"profile": "generic", "capabilities": sorted(CAPABILITIES), "items": len(items)},
    )


def run_browser(cache: Path, say: Callable[[str], None]) -> Implementation:
    """The report's Chromium row: version, then every generic case, or the reason it could not run."""
    impl = Implementation(
        "Chromium EventSource",
        "client",
        "browser",
        "C++ (Blink)",
        note="Headless Chromium from Debian; the runner page drives EventSource. "
        "Ground truth for the generic cases (see each case's divergences).",
    )
    executable = chromium_path()
    try:
        if executable is None:
            raise RuntimeError("chromium is not installed (run scripts/install-chromium)")
        impl.version = command_version([executable, "--version"])
        report = asyncio.run(chromium_report(executable=executable))
    except Exception as error:
        impl.status, impl.reason = "unavailable", f"{type(error).__name__}: {error}"
        say(f"  client Chromium: unavailable: {impl.reason}")
        return impl
    impl.add(report, profile="generic")
    say(f"  client Chromium: {report.summary_line()}")
    return impl
