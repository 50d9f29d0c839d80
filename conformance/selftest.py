"""``sse-conformance selftest``: the main job.

Starts both bundled reference servers on 127.0.0.1, runs the server suite against every one of
their endpoints, runs the client suite against every bundled reference client, and ends with one
verdict line. It is the quickest way to see the whole suite work, and a smoke test of an install.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from .results import Outcome, Report

__all__ = ["configure", "run"]

HEARTBEAT = 0.05
TIMEOUT_SCALE = 1.0  # the case's own deadlines: a run ends on a fact long before (client/ending.py)
CLIENT_CONCURRENCY = None  # the default: 16 per lane (client/lanes.py), each client on every CPU
ORIGIN = "http://localhost:3000"  # the seeds' front-end origin, allowed by the servers we start
REFERENCE_CLIENTS = (
    ("httpx", "reference_clients.httpx_client:conformance_target"),
    ("httpx-async", "reference_clients.httpx_client:async_conformance_target"),
    ("aiohttp", "reference_clients.aiohttp_client:conformance_target"),
    ("requests", "reference_clients.requests_client:conformance_target"),
)


@dataclass
class Job:
    """One suite run: a label for the progress line and a thunk producing its Report."""

    label: str
    run: Callable[[], Report]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--servers-only", action="store_true", help="skip the client suite")
    parser.add_argument("--clients-only", action="store_true", help="skip the server suite")
    parser.add_argument(
        "--json-report", metavar="PATH", help="write every run's JSON report into one file"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only the final verdict line")


def _server_jobs(stack: ExitStack) -> Iterator[Job]:
    import reference_servers

    for kind in reference_servers.KINDS:
        # A short heartbeat so the idle endpoints show their keep-alive comments (S-18).
        server = reference_servers.running(kind, heartbeat=HEARTBEAT, allowed_origins=(ORIGIN,))
        base = stack.enter_context(server)
        for endpoint in reference_servers.ENDPOINTS:
            yield Job(
                f"server  {kind:<8} {endpoint.name:<22} {endpoint.method:<4} {endpoint.path:<25}",
                lambda url=base + endpoint.url_path, endpoint=endpoint: _check_endpoint(url, endpoint),
            )


def _check_endpoint(url: str, endpoint) -> Report:
    from .server import run_server_suite

    body = endpoint.body_text() if endpoint.body is not None else None
    return run_server_suite(
        url,
        profile=endpoint.profile,
        method=endpoint.method,
        headers=(("Content-Type", "application/json"),) if body is not None else (),
        data=body,
        resume=endpoint.resumable,
        idle=HEARTBEAT * 4 if endpoint.idle else None,
        origin=ORIGIN,
    )


class _Progress:
    """Dots for items done (one per twentieth) and a line per client as it finishes, on one
    terminal: a client line always starts a line of its own, whatever dots came before it."""

    def __init__(self, total: int, say: Callable[..., None], marks: int = 20) -> None:
        self.step, self.marks, self.say = max(1, total // marks), marks, say
        self.done, self.open = 0, False

    def tick(self, *_: object) -> None:
        self.done += 1
        if self.done % self.step == 0 and self.done // self.step <= self.marks:
            self.say("." if self.open else "   .", end="", flush=True)
            self.open = True

    def line(self, text: str) -> None:
        self.say(("\n" if self.open else "") + text)
        self.open = False


async def _client_reports(say: Callable[..., None]) -> list[tuple[str, Report]]:
    """The reference clients, one line each as it finishes. They share their lanes (client/lanes.py:
    the clients are ours, so a lane may serve one after another) and start together: each takes
    a lane as the one before is done with it, so no CPU waits between two clients."""
    from .client.lanes import kept_lanes
    from .client.runner import plan_items, run_client_suite_async

    total = len(plan_items(profile="generic"))
    say(f"   {len(REFERENCE_CLIENTS)} clients, {total} case x chunking items each")
    progress = _Progress(total * len(REFERENCE_CLIENTS), say)
    reports = []
    async with kept_lanes():
        runs = [asyncio.ensure_future(run_client_suite_async(
            target, progress=progress.tick, timeout_scale=TIMEOUT_SCALE, concurrency=CLIENT_CONCURRENCY
        )) for _, target in REFERENCE_CLIENTS]
        try:
            since = time.monotonic()
            for (name, _), run in zip(REFERENCE_CLIENTS, runs, strict=True):
                report = await run
                label = f"client  {name}"
                progress.line(f"{label + f' ({time.monotonic() - since:.1f}s)':<66} {_line(report)}")
                since = time.monotonic()
                reports.append((label, report))
        finally:
            for run in runs:
                run.cancel()
            await asyncio.gather(*runs, return_exceptions=True)
    return reports


class _Early:
    """A part started before its turn to print: it runs in a thread, its output held until
    :meth:`result` (the client suite runs while the server suite prints; the reference servers'
    checks mostly wait on timers, so they take little from it)."""

    def __init__(self, work: Callable[[Callable[..., None]], list[tuple[str, Report]]]) -> None:
        self.lock = threading.Lock()
        self.held: list[tuple[tuple[object, ...], dict[str, object]]] = []
        self.say: Callable[..., None] | None = None
        self.outcome: list[tuple[str, Report]] | BaseException = []
        self.thread = threading.Thread(target=self._run, args=(work,), name="selftest-clients", daemon=True)
        self.thread.start()

    def _run(self, work: Callable[[Callable[..., None]], list[tuple[str, Report]]]) -> None:
        try:
            self.outcome = work(self._say)
        except BaseException as error:  # re-raised in the caller's thread
            self.outcome = error

    def _say(self, *args: object, **kwargs: object) -> None:
        with self.lock:
            if self.say is None:
                self.held.append((args, kwargs))
                return
        self.say(*args, **kwargs)

    def result(self, say: Callable[..., None]) -> list[tuple[str, Report]]:
        with self.lock:
            for args, kwargs in self.held:
                say(*args, **kwargs)
            self.held, self.say = [], say
        self.thread.join()
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def _line(report: Report) -> str:
    counts = report.summary()
    mark = "ok  " if report.ok else "FAIL"
    shown = ", ".join(f"{counts[o.value]} {o.value}" for o in Outcome if counts[o.value])
    return f"{mark} ({shown})"


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    reports: list[Report] = []
    problems: list[str] = []
    say = (lambda *_a, **_k: None) if args.quiet else print

    def record(label: str, report: Report) -> None:
        reports.append(report)
        if not report.ok:
            problems.extend(_failures(label, report))

    clients = None if args.servers_only else _Early(lambda out: asyncio.run(_client_reports(out)))
    if not args.clients_only:
        say("== server suite against the reference servers")
        with ExitStack() as stack:
            for job in _server_jobs(stack):
                say(f"{job.label:<66} ", end="", flush=True)
                report = job.run()
                say(_line(report))
                record(job.label, report)
    if clients is not None:
        say("== client suite against the reference clients")
        for label, report in clients.result(say):
            record(label, report)
    if args.json_report:
        Path(args.json_report).write_text(
            json.dumps([r.to_json() for r in reports], indent=2, ensure_ascii=False) + "\n"
        )
    for problem in problems:
        say(problem)
    total = {o.value: sum(r.summary()[o.value] for r in reports) for o in Outcome}
    ok = not problems and bool(reports)
    verdict = "ALL CONFORM" if ok else "PROBLEMS FOUND"
    print(
        f"selftest: {verdict}: {len(reports)} runs, {total['pass']} passed, {total['fail']} failed, "
        f"{total['warn']} warnings, {total['error']} errors, {total['skip']} skipped "
        f"in {time.monotonic() - started:.1f}s"
    )
    return 0 if ok else 1


def _failures(label: str, report: Report) -> Iterator[str]:
    for result in report.results:
        if result.outcome in (Outcome.FAIL, Outcome.ERROR):
            yield f"  {label.strip()}: {result.name} {result.outcome.value}: {result.message}"

