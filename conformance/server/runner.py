"""Observe once, judge per rule: the requests the checks need, then every planned check.

``observe`` makes the requests (the main stream and a HEAD at once; the resume and the CORS
preflight when asked) and builds the :class:`Context`; ``judge`` runs one check under its
preconditions and never lets a crash escape; ``run_server_suite`` is the public sync API.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from ..results import Outcome, Report, Result
from ..rules import RULES
from ..structured import add_server_evidence
from . import checks  # noqa: F401 - fills the registry
from .capture import Capture, End, Request, capture
from .checks.active import resume_point
from .checks.delivery import timings
from .checks.pitfalls import HEAD_SECONDS
from .options import DEFAULTS, Options, UnusableTarget
from .registry import CHECKS, STREAM, Check, Context
from .stream import analyse

__all__ = ["judge", "observe", "planned", "run_server_suite"]

Progress = Callable[[str], None]
PROGRESS_EVERY = 2.0
# Accept-Encoding: gzip on purpose: a server that compresses the stream is caught by S-04.
DEFAULT_HEADERS = (
    ("Accept", "text/event-stream"), ("Accept-Encoding", "gzip"), ("Cache-Control", "no-cache"),
)
OPT_IN = {"resume": "--resume", "origin": "--origin ORIGIN", "idle": "--idle SECONDS"}
_ORDER = {rule_id: i for i, rule_id in enumerate(RULES)}


def planned(options: Options) -> list[Check]:
    """The checks for this profile, in rule-table order (opt-in ones included, to show the skip)."""
    chosen = [c for c in CHECKS.values() if c.profile in (None, options.profile)]
    return sorted(chosen, key=lambda c: _ORDER[c.rule])


def _headers(options: Options, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    given = {name.lower() for name, _ in (*options.headers, *extra)}
    defaults = [(n, v) for n, v in DEFAULT_HEADERS if n.lower() not in given]
    if options.data is not None and "content-type" not in given:
        defaults.append(("Content-Type", "application/x-www-form-urlencoded"))  # what curl -d sends
    return (*defaults, *options.headers, *extra)


def _request(options: Options, method: str | None = None, *extra: tuple[str, str], **bounds: Any) -> Request:
    fields = dict(timeout=options.timeout, max_events=options.max_events,
                  max_seconds=options.read_seconds, max_bytes=options.max_bytes)
    fields.update(bounds)
    data = options.data if method is None else None
    return Request(method or options.method, options.url, _headers(options, *extra), data, **fields)


async def _ticking(progress: Progress | None, caps: Iterable[Capture], work: Coroutine) -> Any:
    """Run ``work``, reporting what has arrived every couple of seconds."""
    task = asyncio.ensure_future(work)
    started = time.monotonic()
    while progress is not None and not task.done():
        await asyncio.wait([task], timeout=PROGRESS_EVERY)
        if not task.done():
            got = sum(c.events_seen for c in caps), sum(len(c.body) for c in caps)
            progress(f"reading: {got[0]} events, {got[1]} bytes, {time.monotonic() - started:.0f} s")
    return await task


async def observe(options: Options, progress: Progress | None = None) -> Context:
    """Make every request the planned checks need; bounded by the options' limits."""
    origin = (("Origin", options.origin),) if options.origin else ()
    main_req = _request(options, None, *origin)
    head_req = _request(options, "HEAD", timeout=min(options.timeout, HEAD_SECONDS), max_seconds=HEAD_SECONDS)
    live = [Capture(main_req)]
    jobs = [capture(main_req, into=live[0])]
    if options.method.upper() == "GET":
        jobs.append(capture(head_req))
    if options.origin:
        jobs.append(capture(_request(options, "OPTIONS", ("Origin", options.origin),
                                     ("Access-Control-Request-Method", options.method),
                                     ("Access-Control-Request-Headers", "last-event-id"),
                                     timeout=options.timeout, max_seconds=options.timeout)))
    done = await _ticking(progress, live, asyncio.gather(*jobs))
    main = done[0]
    ctx = Context(options, main, analyse(main))
    ctx.head = done[1] if options.method.upper() == "GET" else None
    ctx.preflight = done[-1] if options.origin else None
    if options.resume and main.status == 200:
        point = resume_point(ctx.stream)
        if point is not None:
            ctx.resume_from = point[0]
            req = _request(options, None, *origin, ("Last-Event-ID", point[0]),
                           max_events=len(point[2]) + 1)
            if progress:
                progress(f"reconnecting with Last-Event-ID: {point[0]}")
            ctx.resumed = await capture(req)
            ctx.resumed_stream = analyse(ctx.resumed)
    return ctx


def judge(check: Check, ctx: Context) -> list[Result]:
    """One check's verdicts, or a skip/error that says why it could not judge."""
    rule, main, started = check.rule, ctx.main, time.monotonic()
    if check.option and not getattr(ctx.options, check.option):
        results = [Result(rule, Outcome.SKIP, f"opt-in: run with {OPT_IN[check.option]}")]
    elif not main.answered:
        results = [Result(rule, Outcome.ERROR, f"no response: {main.detail}")]
    elif check.needs == STREAM and main.status != 200:
        results = [Result(rule, Outcome.SKIP, f"status {main.status}: no stream to judge")]
    elif check.needs == STREAM and main.end is End.UNDECODABLE and check.rule != "S-04":
        results = [Result(rule, Outcome.ERROR, f"cannot judge the body: {main.detail}")]
    else:
        try:
            results = check.func(ctx)
        except Exception as error:  # a check bug must not hide the other verdicts
            results = [Result(rule=rule, outcome=Outcome.ERROR,
                              message=f"the check crashed: {type(error).__name__}: {error}")]
    for result in results:
        result.seconds = round(time.monotonic() - started, 4)
    add_server_evidence(results, bytes(main.body))
    return results


def meta(ctx: Context) -> dict[str, Any]:
    main = ctx.main
    return {
        "profile": ctx.options.profile,
        "method": ctx.options.method,
        "status": main.status,
        "http_version": main.http_version,
        "redirected_to": main.redirected_to,
        "headers": main.headers,
        "end": main.end.value,
        "end_detail": main.detail,
        "body_bytes": len(main.body),
        "lines_judged": len(ctx.stream.lines),
        "lines_truncated": ctx.stream.truncated,
        "wire_bytes": main.raw_size,
        "elapsed": round(main.elapsed, 3),
        "timings": timings(ctx) if main.answered else {},
        "resumed_from": ctx.resume_from,
    }


def _run(coro: Coroutine) -> Any:
    """asyncio.run, also from inside a running loop (then in a worker thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def run_server_suite(
    url: str,
    *,
    profile: str = "generic",
    method: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    data: bytes | str | None = None,
    resume: bool = False,
    origin: str | None = None,
    idle: float | None = None,
    timeout: float = DEFAULTS["timeout"],
    max_events: int = DEFAULTS["max_events"],
    max_seconds: float = DEFAULTS["max_seconds"],
    max_bytes: int = DEFAULTS["max_bytes"],
    progress: Progress | None = None,
    app: Any = None,
    trace: bool = False,
) -> Report:
    """Check one SSE endpoint against every server rule of ``profile``; never raises for what the
    server does. Raises :class:`~conformance.server.options.UnusableTarget` for a bad URL/option.

    As with curl, ``data`` makes the default method POST. With ``app`` (an ASGI/WSGI app or
    ``"module:app"``), ``url`` is a path: the app is served on 127.0.0.1 for the run. ``trace``
    keeps the raw reads and parsed events in ``report.meta["trace"]``."""
    if app is not None:
        return _run_app(app, url, profile=profile, method=method, headers=headers, data=data,
                        resume=resume, origin=origin, idle=idle, timeout=timeout, max_events=max_events,
                        max_seconds=max_seconds, max_bytes=max_bytes, progress=progress, trace=trace)
    body = data.encode() if isinstance(data, str) else data
    verb = (method or ("POST" if body is not None else "GET")).upper()
    options = Options(url, profile, verb, tuple(headers), body, resume, origin, idle,
                      timeout, max_events, max_seconds, max_bytes)
    ctx = _run(observe(options, progress))
    results = [r for check in planned(options) for r in judge(check, ctx)]
    report = Report(kind="server", target=url, results=results, meta=meta(ctx))
    if trace:
        from .trace import trace_of

        report.meta["trace"] = trace_of(ctx)
    return report


def _run_app(app: Any, path: str, **options: Any) -> Report:
    """Serve the app on a free loopback port for the run; report it under its own name."""
    from ..apps import AppError, load_app, serving

    if not path.startswith("/"):
        raise UnusableTarget(f"with an app, give a path such as /events, not {path!r}")
    try:
        loaded = load_app(app)
        with serving(loaded) as base:
            report = run_server_suite(base + path, **options)
    except AppError as error:
        raise UnusableTarget(str(error)) from None
    report.target = f"{loaded.name} {path}"
    report.meta["app"] = {"name": loaded.name, "interface": loaded.interface, "url": base + path}
    return report
