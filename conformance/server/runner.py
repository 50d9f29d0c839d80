"""Observe, judge per rule, observe again while a late reader may have made a finding.

``observe`` makes the requests one after another (the main stream first, alone, so nothing
competes with it; then HEAD, the second-request probe, the CORS preflight and the resume) and
builds the :class:`Context`; ``judge`` runs one check under its preconditions and never lets a
crash escape; ``run_server_suite`` is the public sync API.

Time never decides a verdict on its own: on a busy machine a reader that is not running lets a
streaming server's bytes pile up, and they then arrive as one burst after a silence the server
never made. The capture measures that lateness at every read (:mod:`.lateness`).
:class:`Examination` (behind every face: the API, the CLI, the pytest face, the report's server
rows) reports a finding only when it holds with every read spread over the reader's lateness
(:func:`rests_on_lateness`); otherwise it observes the server again within the run, a few times
at most, never waiting on another process.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Collection, Coroutine, Iterable
from dataclasses import replace
from typing import Any, NamedTuple

from ..aio import run_sync
from ..results import Outcome, Report, Result
from ..rules import RULES
from ..structured import add_server_evidence
from . import checks  # noqa: F401 - fills the registry
from .capture import Capture, End, Request, Transport, capture
from .checks.active import resume_point
from .checks.delivery import timings
from .checks.headers import not_a_stream
from .checks.pitfalls import PROBE_SECONDS
from .lateness import MEASURES, evened, most_late
from .options import DEFAULTS, Options, UnusableTarget
from .probe import TRIES as PROBE_TRIES
from .probe import probe
from .registry import ANY, CHECKS, SENDS, STREAM, Check, Context, is_inconclusive
from .stream import analyse

__all__ = ["Examination", "Unreachable", "judge", "observe", "planned", "rests_on_lateness",
           "run_server_suite"]

Progress = Callable[[str], None]
PROGRESS_EVERY = 2.0
# Accept-Encoding: gzip on purpose: a server that compresses the stream is caught by S-04.
DEFAULT_HEADERS = (
    ("Accept", "text/event-stream"), ("Accept-Encoding", "gzip"), ("Cache-Control", "no-cache"),
)
OPT_IN = {"resume": "--resume", "origin": "--origin ORIGIN", "idle": "--idle SECONDS"}
SETTLED = frozenset({Outcome.PASS, Outcome.INFO})  # verdicts no time bound can have decided
TRIES = 3  # observations at most: a reader late in every one leaves the finding unproven (an error)
# What a verdict of a later observation adds to its message.
AGAIN_CLAUSE = (" (observation {tries}: in the first, which gave {first}, the suite's reader was up to "
                "{late:.2f} s late during the reads it rested on)")
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
    ``sends`` narrows the requests after the main stream to those named (an observation made
    again makes only what the checks it judges again need).

    The main stream goes alone: a concurrent HEAD would wait on a single worker (and be blamed)
    and would run the handler, taking events from the stream being judged."""
    origin = (("Origin", options.origin),) if options.origin else ()
    main = Capture(_request(options, None, *origin))
    await _ticking(progress, [main], capture(main.request, into=main))
    ctx = Context(options, main, analyse(main))
    if not main.answered:
        return ctx  # nothing more to learn: no probe would get further than the main request
    get = options.method.upper() == "GET"
    if get and "head" in sends:  # one generous deadline: unanswered by it is a time-out (P-01)
        ctx.head = await capture(_request(options, "HEAD", max_seconds=options.timeout))
    if get and main.status == 200 and "probe" in sends and not_a_stream(ctx) is None:
        if progress:
            progress("probing a second request while a stream is open")
        held = options.timeout + PROBE_SECONDS + 1  # the probe closes it PROBE_SECONDS after the second
        # A server as slow as the hold cannot be told apart from a serial one (P-07 says so): one
        # try shows that, where a race with the stream's own end would be tried again.
        tries = 1 if (main.t_headers or 0.0) >= PROBE_SECONDS else PROBE_TRIES
        ctx.probe = await probe(_request(options, None, *origin, max_seconds=held),
                                _request(options, None, max_seconds=0.5, max_events=1),
                                options.timeout, PROBE_SECONDS, tries)
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
    """Why a check cannot judge a run: the outcome shown instead, and its reason."""

    outcome: Outcome
    reason: str


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
        return Blocked(Outcome.SKIP, f"no response: {main.detail} (see P-06)")
    if not main.answered:
        return Blocked(Outcome.ERROR, f"no response: {main.detail}")
    if check.needs == STREAM and main.status != 200:
        return Blocked(Outcome.SKIP, f"status {main.status}: no stream to judge")
    if check.needs == STREAM and main.end is End.UNDECODABLE and check.rule != "S-04":
        return Blocked(Outcome.ERROR, f"cannot judge the body: {main.detail}")
    if check.needs == STREAM and (why := not_a_stream(ctx)) is not None:
        return Blocked(Outcome.SKIP, why)
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


def rests_on_lateness(check: Check, results: list[Result], ctx: Context) -> bool:
    """Could the reader's own lateness have made this verdict? Only a non-pass that a time bound
    can decide (``Check.timed``) and that does not hold once the bytes of every read of the main
    stream are spread over the time its reader was late (:func:`lateness.evened`): judged on
    those times, the check finds something else. Opt-in skips, "no stream to judge", an
    unreadable body and every verdict of an on-time reader are facts, which no load can make."""
    if _precondition(check, ctx) is not None or not check.on_time(ctx):
        return False
    unsettled = _unsettled(results)
    if not unsettled:
        return False
    main = evened(ctx.main)
    return _unsettled(judge(check, replace(ctx, main=main, stream=analyse(main)))) != unsettled


def _unsettled(results: list[Result]) -> list[tuple[Outcome, bool]]:
    """The verdicts a time bound may have decided, as comparable facts (outcome, inconclusive)."""
    return [(r.outcome, is_inconclusive(r)) for r in results
            if r.outcome not in SETTLED and (r.outcome is not Outcome.SKIP or is_inconclusive(r))]


def again(first: list[Result], later: list[Result], tries: int, late: float) -> list[Result]:
    """The verdict of a later observation, which replaces one a late reader left unproven: it
    says so, and keeps what the first saw in ``extra["observed"]``."""
    seen = "; ".join(f"{r.outcome.value}: {r.message}" for r in first)
    outcomes = "/".join(dict.fromkeys(r.outcome.value for r in first if r.outcome not in SETTLED))
    for result in later:
        result.extra["observed"] = {"tries": tries, "first": seen, "reader_late": round(late, 3)}
        result.message += AGAIN_CLAUSE.format(late=late, first=outcomes or "the same", tries=tries)
    return later


def unproven(check: Check, last: list[Result], tries: int, late: float) -> list[Result]:
    """A finding that rested on a late reader in every try: not a rule failure, an error that
    says the machine was too busy to tell (and what each try saw, in ``extra``)."""
    seen = "; ".join(f"{r.outcome.value}: {r.message}" for r in last)
    return [Result(check.rule, Outcome.ERROR,
                   f"not judged: in each of {tries} observations the suite's reader was late (up to "
                   f"{late:.2f} s), and what it saw ({seen}) rests on those reads; rerun on a less "
                   "busy machine", extra={"observed": {"tries": tries, "last": seen,
                                                       "reader_late": round(late, 3)}})]


class Examination:
    """One endpoint, judged from one observation, observed again within the run (up to
    ``TRIES`` in all, no waiting on anything else) while a verdict rests on a late reader.

    Every face judges through :meth:`verdicts`: ``run_server_suite`` and the pytest face (which
    then hands each item its rule's results) alike."""

    def __init__(self, options: Options, progress: Progress | None = None) -> None:
        self.options, self.progress = options, progress
        self.tries = 1
        self.again: list[str] = []  # the rules judged on a later observation
        self.late: list[float] = []  # each observation's worst read lateness

    @functools.cached_property
    def first(self) -> Context:
        return run_sync(observe(self.options, self.progress))

    def verdicts(self, wanted: Iterable[Check]) -> dict[str, list[Result]]:
        """Each wanted check's results, by rule in order: the first observation's, or for a
        verdict a late reader may have made, a later observation's (see :func:`again`)."""
        ctx = self.first
        self.late = [most_late(ctx.main)]
        seen = {c: judge(c, ctx) for c in wanted}
        found, first = dict(seen), dict(seen)
        pending = [c for c, results in seen.items() if rests_on_lateness(c, results, ctx)]
        while pending and self.tries < TRIES:
            ctx = self._observe_again(pending)
            seen.update({c: judge(c, ctx) for c in pending})
            found.update({c: again(first[c], seen[c], self.tries, self.late[0]) for c in pending})
            pending = [c for c in pending if rests_on_lateness(c, seen[c], ctx)]
        for c in pending:
            found[c] = unproven(c, seen[c], self.tries, max(self.late))
        return {c.rule: results for c, results in found.items()}

    def _observe_again(self, pending: list[Check]) -> Context:
        self.tries += 1
        self.again = sorted({*self.again, *(c.rule for c in pending)}, key=_ORDER.__getitem__)
        if self.progress:
            rules = ", ".join(c.rule for c in pending)
            self.progress(f"observing again (try {self.tries} of {TRIES}): the reader was "
                          f"{self.late[-1]:.2f} s late during reads that {rules} rest on")
        sends = sorted({c.sends for c in pending if c.sends})
        ctx = run_sync(observe(self.options, self.progress, sends))
        self.late.append(most_late(ctx.main))
        return ctx

    def meta(self) -> dict[str, Any]:
        """How the verdicts were observed, for ``report.meta["observations"]``."""
        return {"tries": self.tries, "again": self.again, "reader_late": [round(x, 3) for x in self.late],
                "measures": MEASURES}


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
        # of which the reader could not run (lateness.py); the rest it waited on the server
        "reader_late": round(main.reader_late, 3),
        # past max_seconds: bytes taken and the reader's CPU seconds, which load does not stretch
        "past_time_bound": {"bytes": main.past_bound.bytes, "cpu_seconds": round(main.past_bound.cpu, 4)},
        "timings": timings(ctx) if main.answered else {},
        "resumed_from": ctx.resume_from,
    }


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

    A finding that a late reader may have made (S-06 held back, ...; see :func:`rests_on_lateness`)
    is observed again within the run and the later verdict reported, the first kept in the
    result's ``extra["observed"]``; ``report.meta["observations"]`` says how many were made."""
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
    report.meta["observations"] = exam.meta()
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
