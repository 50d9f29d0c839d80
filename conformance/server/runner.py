"""Observe, judge per rule, confirm alone: the requests the checks need, then every planned check.

``observe`` makes the requests one after another (the main stream first, alone, so nothing
competes with it; then HEAD, the second-request probe, the CORS preflight and the resume) and
builds the :class:`Context`; ``judge`` runs one check under its preconditions and never lets a
crash escape; ``run_server_suite`` is the public sync API.

Time never decides a verdict on its own: a busy machine delays reads and requests, and a server
that streams looks like one that buffers. :class:`Examination` (behind every face: the API, the
CLI, the pytest face, the report's server rows) observes first beside other suite work (the
gate of :mod:`conformance.client.gate`, held shared), and when a verdict rests on time
(:func:`rests_on_time`) observes the server again alone, with no other suite work running on
the machine, and reports that observation's verdict for those checks, the first noted beside it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import time
from collections.abc import Callable, Collection, Coroutine, Iterable
from typing import Any, NamedTuple

from ..client.gate import alone_gate
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
from .registry import ANY, CHECKS, SENDS, STREAM, Check, Context, is_inconclusive
from .stream import analyse

__all__ = ["Examination", "Unreachable", "judge", "observe", "planned", "rests_on_time", "run_server_suite"]

Progress = Callable[[str], None]
PROGRESS_EVERY = 2.0
# Accept-Encoding: gzip on purpose: a server that compresses the stream is caught by S-04.
DEFAULT_HEADERS = (
    ("Accept", "text/event-stream"), ("Accept-Encoding", "gzip"), ("Cache-Control", "no-cache"),
)
OPT_IN = {"resume": "--resume", "origin": "--origin ORIGIN", "idle": "--idle SECONDS"}
SETTLED = frozenset({Outcome.PASS, Outcome.INFO})  # verdicts no time bound can have decided
# The clause an alone verdict's message gets: settled alone, or still not a pass alone.
ALONE_CLAUSE = {True: " (observed again alone; the first observation gave {first})",
                False: " (confirmed alone)"}
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


async def observe(options: Options, progress: Progress | None = None,
                  sends: Collection[str] = SENDS) -> Context:
    """Make every request the planned checks need, one at a time; bounded by the options' limits.
    ``sends`` narrows the requests after the main stream to those named (a confirmation alone
    makes only what the checks it judges again need: it holds the whole machine meanwhile).

    The main stream goes alone: a concurrent HEAD would wait on a single worker (and be blamed)
    and would run the handler, taking events from the stream being judged."""
    origin = (("Origin", options.origin),) if options.origin else ()
    main = Capture(_request(options, None, *origin))
    await _ticking(progress, [main], capture(main.request, into=main))
    ctx = Context(options, main, analyse(main))
    if not main.answered:
        return ctx  # nothing more to learn: no probe would get further than the main request
    get = options.method.upper() == "GET"
    if get and "head" in sends:
        ctx.head = await capture(_request(options, "HEAD", timeout=min(options.timeout, HEAD_SECONDS),
                                          max_seconds=HEAD_SECONDS))
    if get and main.status == 200 and "probe" in sends:
        if progress:
            progress("probing a second request while a stream is open")
        ctx.probe = await probe(_request(options, None, *origin, max_seconds=PROBE_SECONDS + 2),
                                _request(options, None, timeout=PROBE_SECONDS, max_seconds=0.5, max_events=1),
                                options.timeout)
    if options.origin and "preflight" in sends:
        ctx.preflight = await capture(_request(options, "OPTIONS", ("Origin", options.origin),
                                               ("Access-Control-Request-Method", options.method),
                                               ("Access-Control-Request-Headers", "last-event-id"),
                                               timeout=options.timeout, max_seconds=options.timeout))
    if options.resume and main.status == 200 and "resume" in sends:
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


class Blocked(NamedTuple):
    """Why a check cannot judge a run: the outcome shown instead, its reason, and whether a time
    bound decided it (the headers did not come in time), so that it is confirmed alone."""

    outcome: Outcome
    reason: str
    on_time: bool = False


def _precondition(check: Check, ctx: Context) -> Blocked | None:
    """Why this check cannot judge this run (the outcome to show instead), or None to judge it."""
    main, options = ctx.main, ctx.options
    if check.profile not in (None, options.profile):
        return Blocked(Outcome.SKIP, f"opt-in: run with --profile {check.profile}")
    if check.option and not getattr(options, check.option):
        return Blocked(Outcome.SKIP, f"opt-in: run with {OPT_IN[check.option]}")
    if check.needs == ANY:
        return None
    if main.end is End.NO_RESPONSE:
        return Blocked(Outcome.SKIP, f"no response: {main.detail} (see P-06)", on_time=True)
    if not main.answered:
        return Blocked(Outcome.ERROR, f"no response: {main.detail}")
    if check.needs == STREAM and main.status != 200:
        return Blocked(Outcome.SKIP, f"status {main.status}: no stream to judge")
    if check.needs == STREAM and main.end is End.UNDECODABLE and check.rule != "S-04":
        return Blocked(Outcome.ERROR, f"cannot judge the body: {main.detail}")
    return None


def judge(check: Check, ctx: Context) -> list[Result]:
    """One check's verdicts, or a skip/error that says why it could not judge."""
    rule, started = check.rule, time.monotonic()
    blocked = _precondition(check, ctx)
    if blocked is not None:
        results = [Result(rule, blocked.outcome, blocked.reason)]
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


def rests_on_time(check: Check, results: list[Result], ctx: Context) -> bool:
    """Did a time bound decide this verdict, so that only an observation alone may report it?

    Yes for a check timed on this observation that did not pass (a skip only when inconclusive),
    and for any check that could not judge because the headers did not come in time. Opt-in
    skips, "no stream to judge" and an unreadable body are facts of the exchange, which no load
    can make."""
    blocked = _precondition(check, ctx)
    if blocked is not None:
        return blocked.on_time
    return any(_unsettled(r) for r in results) and check.on_time(ctx)


def _unsettled(result: Result) -> bool:
    if result.outcome is Outcome.SKIP:
        return is_inconclusive(result)
    return result.outcome not in SETTLED


def noted(first: list[Result], alone: list[Result], seconds: float) -> list[Result]:
    """The verdict observed alone, which replaces the first: it says so in its message and keeps
    what the first observation saw in ``extra["alone"]`` (as the client suite's confirmations do)."""
    seen = "; ".join(f"{r.outcome.value}: {r.message}" for r in first)
    outcomes = "/".join(dict.fromkeys(r.outcome.value for r in first if r.outcome not in SETTLED))
    for result in alone:
        result.extra["alone"] = {"first": seen, "seconds": round(seconds, 3)}
        result.message += ALONE_CLAUSE[result.outcome in SETTLED].format(first=outcomes or "the same")
    return alone


async def _observed(options: Options, progress: Progress | None, sends: Collection[str] = SENDS, *,
                    alone: bool = False) -> Context:
    """``observe``, holding the machine's gate: shared beside other suite work (a confirmation
    elsewhere waits for it, and it for one), or exclusive to confirm a verdict alone."""
    gate = alone_gate()
    async with gate.exclusive() if alone else gate.shared():
        return await observe(options, progress, sends)


class Examination:
    """One endpoint, judged: the first observation shares the machine; the checks whose verdict
    rests on time are judged again on an observation made alone, of only the requests they judge.

    Every face judges through :meth:`verdicts`: ``run_server_suite`` and the pytest face (which
    then hands each item its rule's results) alike."""

    def __init__(self, options: Options, progress: Progress | None = None) -> None:
        self.options, self.progress = options, progress
        self.alone: Context | None = None
        self.confirmed: list[str] = []  # the rules judged on the observation alone
        self.sends: list[str] = []  # the requests it made after the main stream

    @functools.cached_property
    def first(self) -> Context:
        return _run(_observed(self.options, self.progress))

    def verdicts(self, wanted: Iterable[Check]) -> dict[str, list[Result]]:
        """Each wanted check's results, by rule in order: the first observation's, or for a
        verdict that rests on time, the observation alone's (see :func:`noted`)."""
        found = {c: judge(c, self.first) for c in wanted}
        pending = [c for c, results in found.items() if rests_on_time(c, results, self.first)]
        if pending:
            ctx = self._observe_alone(pending)
            for c in pending:
                found[c] = noted(found[c], judge(c, ctx), ctx.main.elapsed)
        return {c.rule: results for c, results in found.items()}

    def _observe_alone(self, pending: list[Check]) -> Context:
        self.confirmed = [c.rule for c in pending]
        if self.progress:
            self.progress(f"confirming {', '.join(self.confirmed)} alone")
        self.sends = sorted({c.sends for c in pending if c.sends})
        self.alone = _run(_observed(self.options, self.progress, self.sends, alone=True))
        return self.alone

    def meta(self) -> dict[str, Any] | None:
        """What the observation alone saw, for ``report.meta["alone"]``; None when none was made."""
        ctx = self.alone
        if ctx is None:
            return None
        return {"rules": self.confirmed, "sends": ["main", *self.sends], "end": ctx.main.end.value,
                "elapsed": round(ctx.main.elapsed, 3),
                "timings": timings(ctx) if ctx.main.answered else {}}


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
    keeps the raw reads and parsed events in ``report.meta["trace"]``.

    A verdict that rests on time (S-06 held back, P-07 unanswered, ...) is not reported from a
    busy machine: the server is observed again alone and that verdict is reported, the first
    kept in the result's ``extra["alone"]`` and the run in ``report.meta["alone"]``."""
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
    exam = Examination(options, progress)
    ctx = exam.first
    if ctx.main.end is End.UNREACHABLE:
        raise Unreachable(f"cannot reach {url}: {ctx.main.detail}")
    results = [r for found in exam.verdicts(planned(options)).values() for r in found]
    report = Report(kind="server", target=url, results=results, meta=meta(ctx), strict=strict)
    alone = exam.meta()
    if alone is not None:
        report.meta["alone"] = alone
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
