"""Observe once, judge per rule: the requests the checks need, then every planned check.

``observe`` makes the requests one after another (the main stream first, alone, so nothing
competes with it; then HEAD, the second-request probe, the CORS preflight and the resume) and
builds the :class:`Context`; ``judge`` runs one check under its preconditions and never lets a
crash escape; ``run_server_suite`` is the public sync API.
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
from .capture import Capture, End, Request, Transport, capture
from .checks.active import resume_point
from .checks.delivery import timings
from .checks.pitfalls import HEAD_SECONDS, PROBE_SECONDS
from .options import DEFAULTS, Options, UnusableTarget
from .probe import probe
from .registry import ANY, CHECKS, STREAM, Check, Context
from .stream import analyse

__all__ = ["Unreachable", "judge", "observe", "planned", "run_server_suite"]

Progress = Callable[[str], None]
PROGRESS_EVERY = 2.0
# Accept-Encoding: gzip on purpose: a server that compresses the stream is caught by S-04.
DEFAULT_HEADERS = (
    ("Accept", "text/event-stream"), ("Accept-Encoding", "gzip"), ("Cache-Control", "no-cache"),
)
OPT_IN = {"resume": "--resume", "origin": "--origin ORIGIN", "idle": "--idle SECONDS"}
_ORDER = {rule_id: i for i, rule_id in enumerate(RULES)}


class Unreachable(UnusableTarget):
    """The URL could not be reached at all (refused, DNS, TLS): exit 2, one line."""


def planned(options: Options) -> list[Check]:
    """Every server check, in rule-table order: opt-in and other-profile ones too, so every rule
    gets a line (a skip that says how to run it)."""
    return sorted(CHECKS.values(), key=lambda c: _ORDER[c.rule])


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
    transport = Transport(options.cacert, options.insecure, options.http2, options.http2_prior_knowledge)
    return Request(method or options.method, options.url, _headers(options, *extra), data, **fields,
                   transport=transport)


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
    """Make every request the planned checks need, one at a time; bounded by the options' limits.

    The main stream goes alone: a concurrent HEAD would wait on a single worker (and be blamed)
    and would run the handler, taking events from the stream being judged."""
    origin = (("Origin", options.origin),) if options.origin else ()
    main = Capture(_request(options, None, *origin))
    await _ticking(progress, [main], capture(main.request, into=main))
    ctx = Context(options, main, analyse(main))
    if not main.answered:
        return ctx  # nothing more to learn: no probe would get further than the main request
    if options.method.upper() == "GET":
        ctx.head = await capture(_request(options, "HEAD", timeout=min(options.timeout, HEAD_SECONDS),
                                          max_seconds=HEAD_SECONDS))
        if main.status == 200:
            if progress:
                progress("probing a second request while a stream is open")
            ctx.probe = await probe(_request(options, None, *origin, max_seconds=PROBE_SECONDS + 2),
                                    _request(options, None, timeout=PROBE_SECONDS, max_seconds=0.5,
                                             max_events=1),
                                    options.timeout)
    if options.origin:
        ctx.preflight = await capture(_request(options, "OPTIONS", ("Origin", options.origin),
                                               ("Access-Control-Request-Method", options.method),
                                               ("Access-Control-Request-Headers", "last-event-id"),
                                               timeout=options.timeout, max_seconds=options.timeout))
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


def _precondition(check: Check, ctx: Context) -> tuple[Outcome, str] | None:
    """Why this check cannot judge this run (the outcome to show instead), or None to judge it."""
    main, options = ctx.main, ctx.options
    if check.profile not in (None, options.profile):
        return Outcome.SKIP, f"opt-in: run with --profile {check.profile}"
    if check.option and not getattr(options, check.option):
        return Outcome.SKIP, f"opt-in: run with {OPT_IN[check.option]}"
    if check.needs == ANY:
        return None
    if main.end is End.NO_RESPONSE:
        return Outcome.SKIP, f"no response: {main.detail} (see P-06)"
    if not main.answered:
        return Outcome.ERROR, f"no response: {main.detail}"
    if check.needs == STREAM and main.status != 200:
        return Outcome.SKIP, f"status {main.status}: no stream to judge"
    if check.needs == STREAM and main.end is End.UNDECODABLE and check.rule != "S-04":
        return Outcome.ERROR, f"cannot judge the body: {main.detail}"
    return None


def judge(check: Check, ctx: Context) -> list[Result]:
    """One check's verdicts, or a skip/error that says why it could not judge."""
    rule, started = check.rule, time.monotonic()
    blocked = _precondition(check, ctx)
    if blocked is not None:
        results = [Result(rule, blocked[0], blocked[1])]
    else:
        try:
            results = check.func(ctx)
        except Exception as error:  # a check bug must not hide the other verdicts
            results = [Result(rule=rule, outcome=Outcome.ERROR,
                              message=f"the check crashed: {type(error).__name__}: {error}")]
    for result in results:
        result.seconds = round(time.monotonic() - started, 4)
    add_server_evidence(results, bytes(ctx.main.body))
    return results


def meta(ctx: Context) -> dict[str, Any]:
    main = ctx.main
    return {
        "profile": ctx.options.profile,
        "method": ctx.options.method,
        "status": main.status,
        "http_version": main.http_version,
        "http_asked": ctx.options.protocol,
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
    cacert: str | None = None,
    insecure: bool = False,
    http2: bool = False,
    http2_prior_knowledge: bool = False,
    strict: bool = False,
    app: Any = None,
    trace: bool = False,
) -> Report:
    """Check one SSE endpoint against every server rule of ``profile``; never raises for what the
    server does. Raises :class:`~conformance.server.options.UnusableTarget` for a bad URL/option,
    and its subclass :class:`Unreachable` when nothing can be reached there (refused, DNS, TLS).
    ``strict`` makes every SHOULD finding fail the report too.

    As with curl, ``data`` makes the default method POST. With ``app`` (an ASGI/WSGI app or
    ``"module:app"``), ``url`` is a path: the app is served on 127.0.0.1 for the run. ``trace``
    keeps the raw reads and parsed events in ``report.meta["trace"]``."""
    if app is not None:
        return _run_app(app, url, profile=profile, method=method, headers=headers, data=data,
                        resume=resume, origin=origin, idle=idle, timeout=timeout, max_events=max_events,
                        max_seconds=max_seconds, max_bytes=max_bytes, progress=progress, trace=trace,
                        cacert=cacert, insecure=insecure, http2=http2,
                        http2_prior_knowledge=http2_prior_knowledge, strict=strict)
    body = data.encode() if isinstance(data, str) else data
    verb = (method or ("POST" if body is not None else "GET")).upper()
    options = Options(url, profile, verb, tuple(headers), body, resume, origin, idle,
                      timeout, max_events, max_seconds, max_bytes,
                      cacert, insecure, http2, http2_prior_knowledge)
    ctx = _run(observe(options, progress))
    if ctx.main.end is End.UNREACHABLE:
        raise Unreachable(f"cannot reach {url}: {ctx.main.detail}")
    results = [r for check in planned(options) for r in judge(check, ctx)]
    report = Report(kind="server", target=url, results=results, meta=meta(ctx), strict=strict)
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
