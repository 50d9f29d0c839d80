"""Headless Chromium as ground truth: its ``EventSource`` runs every generic client case.

The case server gets a few extra routes (:class:`Bridge`): the runner page, the frame each job
runs in, a job queue and a place to post events. Each job runs on a host name of its own
(``job7.sse-conformance.test``, which Chromium maps to 127.0.0.1), so no case's request can go
out on a connection another case, the page or a post left open (see ``browser_page``).
:class:`BrowserTarget` is a client-suite target whose ``observe`` hands the case URL to the page
and waits, so the suite's own runner and judge give the verdicts.

A browser has no exceptions to raise: when ``EventSource`` gives up (readyState CLOSED) the
adapter reads the status the case server sent last, and reports a clean stop for 204 and a
failed connection for anything else. It cannot preset method, headers, body or Last-Event-ID,
so cases that need those report a broken adapter, never a pass; the runner's initial
reconnection time is only a speed hint, so Chromium keeps its own default (3 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
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
from ..client.targets import Invocation, Observation, Watch
from ..results import Report
from ..sse import Event
from .browser_page import FRAME, PAGE
from .document import Implementation
from .versions import command_version

__all__ = ["CHROMIUM_FLAGS", "Bridge", "BrowserTarget", "chromium_path", "chromium_report", "run_browser"]

JOB_DOMAIN = "sse-conformance.test"  # a reserved top-level domain: never resolved outside
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
    f"--host-resolver-rules=MAP *.{JOB_DOMAIN} 127.0.0.1",  # a host name per job, all on loopback
)
PAGE_TIMEOUT = 30.0  # the runner page must ask for work within this many seconds
POLL = 20.0  # one long-poll waits at most this long
CONCURRENCY = 3  # HTTP/1.1 allows 6 connections per host: the poll + the posts of every running job
CAPABILITIES = frozenset({"reconnect", "retry", "notifications"})
_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str | None:
    """The Chromium executable on PATH, or None."""
    return next((p for p in map(shutil.which, _NAMES) if p), None)


@dataclass
class _Pending:
    """One job in flight: the live observation, what the page posted by sequence number
    (events, and the notifications ``open`` / ``error``), how it ended."""

    watch: Watch | None
    observation: Observation = field(default_factory=Observation)
    posted: dict[int, Event | str] = field(default_factory=dict)
    how: str | None = None
    expected_count: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, seq: int, item: Event | str) -> None:
        self.posted[seq] = item
        events: list[Event] = []
        notifications: list[tuple[str, int]] = []
        for key in sorted(self.posted):
            posted = self.posted[key]
            if isinstance(posted, Event):
                events.append(posted)
            else:
                notifications.append((posted, len(events)))
        self.observation.events, self.observation.notifications = events, notifications
        self.observation.opened = any(kind == "open" for kind, _ in notifications)
        if self.watch is not None:
            self.watch.seen(self.observation)
        self.check()

    def end(self, how: str, count: int) -> None:
        self.how, self.expected_count = how, count
        self.check()

    def check(self) -> None:
        """Done when the page said so and everything it posted is in (posts may overtake)."""
        if self.how is not None and len(self.posted) >= self.expected_count:
            self.done.set()


class Bridge:
    """Routes added to the case server's app: the page, the job queue, event and end posts."""

    def __init__(self, server: CaseServer) -> None:
        self.server = server
        self.jobs: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.pending: dict[int, _Pending] = {}
        self.ids = itertools.count(1)
        self.page_seen = asyncio.Event()
        self.closing = False
        self.observed: dict[str, Observation] = {}  # by case path: what Chromium did, for tests

    def install(self, app: web.Application) -> None:
        app.router.add_get("/__browser/", self._page)
        app.router.add_get("/__browser/frame", self._frame)
        app.router.add_get("/__browser/next", self._next)
        app.router.add_post("/__browser/event", self._event)
        app.router.add_post("/__browser/done", self._done)

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def _frame(self, request: web.Request) -> web.Response:
        response = web.Response(text=FRAME, content_type="text/html")
        response.force_close()  # Connection: close, so the case's first request opens a fresh one
        return response

    async def _next(self, request: web.Request) -> web.Response:
        self.page_seen.set()
        if self.closing:
            return web.Response(status=410)
        try:
            job = await asyncio.wait_for(self.jobs.get(), POLL)
        except TimeoutError:
            return web.Response(status=204)
        if job is None:  # close() woke this poll up: the run is over
            return web.Response(status=410)
        return web.json_response(job)

    def close(self) -> None:
        """End the page's polling now, so stopping the server does not wait for a poll."""
        self.closing = True
        for _ in range(4):
            self.jobs.put_nowait(None)

    async def _event(self, request: web.Request) -> web.Response:
        body = json.loads(await request.content.read())  # events may be MiBs: no client_max_size
        pending = self.pending.get(body["id"])
        if pending is not None and "notice" in body:
            pending.add(int(body["seq"]), str(body["notice"]))
        elif pending is not None:
            pending.add(int(body["seq"]), Event(body["event"], body["data"], body["last"]))
        return web.Response(status=204)

    async def _done(self, request: web.Request) -> web.Response:
        body = await request.json()
        pending = self.pending.get(body["id"])
        if pending is not None:
            pending.end(body["how"], int(body["count"]))
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


async def _first(done: asyncio.Event, watch: Watch | None, deadline: float) -> str:
    """Wait for the page's end, the runner's stop or the deadline: "done", "stopped", "timeout"."""
    waiters = {"done": asyncio.ensure_future(done.wait())}
    if watch is not None:
        waiters["stopped"] = asyncio.ensure_future(watch.stop.wait())
    try:
        finished, _ = await asyncio.wait(
            waiters.values(),
            timeout=max(0.0, deadline - time.monotonic()),
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        for waiter in waiters.values():
            waiter.cancel()
    return next((how for how, waiter in waiters.items() if waiter in finished), "timeout")


class BrowserTarget:
    """A client-suite target backed by the runner page in Chromium."""

    def __init__(self, bridge: Bridge, name: str = "Chromium EventSource") -> None:
        self.bridge = bridge
        self.name = name
        self.func = self.observe
        self.capabilities = CAPABILITIES
        self.takes_initial_retry = False  # Chromium keeps its own reconnection time (3 s)

    async def observe(
        self,
        invocation: Invocation,
        *,
        profile: str,
        timeout: float,
        watch: Watch | None = None,
    ) -> Observation:
        started = time.monotonic()
        path = "/" + invocation.url.split("/", 3)[3]
        slot = self.bridge.server.slots[path.split("?")[0]]
        case = slot.case
        # the initial reconnection time is a speed hint a browser cannot take: Chromium uses its own
        ignored = ("initial_retry_ms",)
        extras = {
            k for k, v in invocation.kwargs().items() if k not in ignored and (k != "method" or v != "GET")
        }
        if extras:
            return Observation(broken=f"a browser EventSource cannot be given {', '.join(sorted(extras))}")
        job_id = next(self.bridge.ids)
        pending = _Pending(watch)
        self.bridge.pending[job_id] = pending
        single = len(case.connections) <= 1 and (case.expect.requests or 1) <= 1
        origin = f"http://job{job_id}.{JOB_DOMAIN}:{self.bridge.server.port}"
        job = {
            "id": job_id,
            "url": origin + path,
            "frame": origin + "/__browser/frame",
            "types": _listened_types(case),
            "single": single,
            "timeout_ms": int(timeout * 1000),
        }
        await self.bridge.jobs.put(job)
        try:
            how = await _first(pending.done, watch, started + timeout + 1)
        finally:
            self.bridge.pending.pop(job_id, None)
        observation = pending.observation
        if pending.how == "closed" and _last_status(case, len(slot.requests)) != 204:
            observation.raised = "EventSource error: the connection failed (readyState CLOSED)"
        if how == "timeout" or pending.how == "timeout":
            observation.ended_by = "deadline"
        elif how == "stopped":
            observation.ended_by = getattr(watch, "reason", "") or "enough"
        elif pending.how in ("closed", "eof"):
            observation.ended_by = "raised" if observation.raised else "returned"
        observation.seconds = time.monotonic() - started
        self.bridge.observed[slot.path] = observation
        return observation


@contextlib.asynccontextmanager
async def _chromium(url: str, executable: str) -> AsyncIterator[subprocess.Popen[bytes]]:
    """Chromium on ``url`` with a fresh profile; always killed afterwards."""
    # Chromium's helpers may still write to the profile while they die: cleanup must not fail
    with tempfile.TemporaryDirectory(prefix="sse-chromium-", ignore_cleanup_errors=True) as profile:
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
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # the whole group: renderer, zygote, GPU helpers
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


async def chromium_report(
    *,
    pattern: str | None = None,
    chunkings: Iterable[str] | None = None,
    executable: str | None = None,
    observed: dict[str, Observation] | None = None,
) -> Report:
    """Run the generic client cases in headless Chromium; raises RuntimeError if it cannot start.

    ``observed``, when given, receives what Chromium did per case path (``/cases/ID/chunking``).
    """
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
        try:
            results = await run.run(items)
        finally:
            bridge.close()
    if observed is not None:
        observed.update(bridge.observed)
    return Report(
        kind="client",
        target=run.name,
        results=results,
        meta={"profile": "generic", "capabilities": sorted(CAPABILITIES), "items": len(items),
              "rerun_target": None},  # the command line cannot drive a browser: no re-run command
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
