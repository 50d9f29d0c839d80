"""Real-world pitfalls a URL can be checked for: P-01 (HEAD hangs), P-03 (heartbeat events),
P-07 (a second request waits for the stream), and the rules no single URL can show (S-22, P-04).

HEAD and the second request are sent after the main exchange, never during it: a concurrent
request both blames HEAD for a single worker and runs the handler, stealing events from the stream.
"""

from __future__ import annotations

from collections import Counter

from ...results import Outcome, Result
from ..capture import End
from ..registry import STREAM, Context, broken, check, inconclusive, passed, shown, skipped
from .headers import not_a_stream

PROBE_SECONDS = 2.0  # the first stream is held open this long for a second request's answer
HEARTBEAT_TYPES = ("keep-alive", "keepalive", "ping", "heartbeat", "heart-beat", "hb")
HEARTBEAT_WORDS = (*HEARTBEAT_TYPES, "pong", "alive", "tick", "noop", "{}")
BEAT_MAX_CHARS = 32  # a heartbeat payload is short...
BEAT_REPEATS = 3  # ...and repeated
_HEAD_FIX = "Answer HEAD with the headers and no body (sse-starlette >= 3.x does, #218)."
_SERIAL_FIX = ("Serve streams from an async server (uvicorn, hypercorn, aiohttp) or with enough workers or "
               "threads (gunicorn -k gevent, --threads N); a sync worker is held for the whole stream.")

# Rules that one URL cannot show, with why: each still gets its line (a skip with the reason).
UNOBSERVABLE = {
    "S-22": "not observable from outside: identify clients by a token in the URL or a header, never "
            "by IP address (proxies and NAT share one)",
    "P-04": "not observable from one URL: check that a disconnect ends the generator (the reference "
            "servers' /stats counts open streams)",
}


def timed_out(rule: str, reason: str, fix: str) -> list[Result]:
    """Only a deadline decided: an error that says so, never a rule failure."""
    return [Result(rule, Outcome.ERROR, f"timed out: {reason}", fix=fix)]


# HEAD unanswered by its deadline is a time-out; a HEAD that failed is a fact.
@check("P-01", timed=lambda ctx: ctx.head is not None and ctx.head.end is End.NO_RESPONSE, sends="head")
def head_returns(ctx: Context) -> list[Result]:
    head = ctx.head
    if head is None:
        return skipped("P-01", f"HEAD is only tried for GET streams that answered (method "
                               f"{ctx.options.method}, {ctx.main.status or ctx.main.end.value})")
    if head.end is End.NO_RESPONSE:
        return timed_out("P-01", f"HEAD, sent after the stream was closed, got no response within "
                                 f"{head.request.timeout:g} s (a HEAD that streams hangs monitors and "
                                 "proxies; raise --timeout to wait longer)", _HEAD_FIX)
    if head.end in (End.FAILED, End.UNREACHABLE):
        return [broken("P-01", f"HEAD failed: {head.detail}", expected="a HEAD response",
                       actual=head.detail, fix="Answer HEAD with the headers and no body, or with 405.")]
    return passed("P-01", f"HEAD answered {head.status} after {head.elapsed * 1000:.0f} ms")


def _tries(tries: int) -> str:
    return "once" if tries == 1 else f"{tries} tries"


@check("P-07", timed=True, sends="probe")
def second_request_answered(ctx: Context) -> list[Result]:
    probe = ctx.probe
    if probe is None:
        return skipped("P-07", not_a_stream(ctx) or f"the probe repeats GET streams that answered (method "
                               f"{ctx.options.method}, {ctx.main.status or ctx.main.end.value})")
    if probe.second is None and probe.first.status == 200:
        ended = probe.first_open_until or 0.0  # a short stream, or one a busy machine read late
        return inconclusive("P-07", f"the probe's stream ended after {ended:.2f} s, before a second "
                                    f"request could be sent ({_tries(probe.tries)})")
    if probe.second is None:
        return skipped("P-07", f"the probe's own stream was not answered 200 "
                               f"({probe.first.status or probe.first.end.value}): nothing was probed")
    second, answered_at = probe.second, probe.answered_at
    if probe.overlap is not None:
        look = probe.overlap
        return passed("P-07", f"a second request was answered while a stream was open: at one moment the "
                              f"kernel had received {look.first} bytes of one response and {look.second} of "
                              "the other, neither of them over")
    if probe.counted and probe.closed_at is None and second.answered:
        ended = probe.first_open_until
        why = ("the second answer began while the suite was closing the stream" if ended is None
               else f"the stream ends by itself after {ended:.2f} s, and one this short may "
                    "end before any server answers a second request")
        return inconclusive("P-07", f"no look at the kernel's byte counts found both responses coming in at "
                                    f"once ({_tries(probe.tries)}; {why}): nothing is concluded")
    open_until = probe.surely_open_until if probe.closed_at is None else probe.closed_at
    if answered_at is not None and (open_until is None or answered_at <= open_until):
        return passed("P-07", f"a second request was answered {second.t_headers * 1000:.0f} ms after it was "
                              "sent, while a stream was open")
    if answered_at is None:
        closed = (f" (the suite closed the first stream after {probe.closed_at - probe.sent_at:.1f} s)"
                  if probe.closed_at is not None else "")
        return timed_out("P-07", f"a second request got no response within {second.request.timeout:g} s"
                                 f"{closed}: {second.detail or second.end.value}", _SERIAL_FIX)
    slow = ctx.main.t_headers or 0.0
    if slow >= PROBE_SECONDS:
        return inconclusive("P-07", f"the server took {slow:.1f} s to answer the first request (see "
                                    f"P-02), and the second was held {PROBE_SECONDS:g} s: too short to "
                                    "tell a slow server from one serving one request at a time")
    if probe.closed_at is None:
        return inconclusive("P-07", f"the stream ended after {probe.first_open_until or 0:.2f} s, before a "
                                    f"second request had waited long enough to tell ({_tries(probe.tries)})")
    held = probe.closed_at - probe.sent_at
    return [broken("P-07", f"a second request got no response while one stream was open ({held:.1f} s); it "
                           f"was answered {answered_at - probe.closed_at:.2f} s after the suite closed that "
                           "stream: the server serves one request at a time, so a second tab or a reconnect "
                           "hangs",
                   expected="a response to the second request while the first stream is open",
                   actual=f"answered only once the stream was closed, {held:.1f} s after it was sent",
                   fix=_SERIAL_FIX)]


@check("P-03", needs=STREAM)
def heartbeats_are_comments(ctx: Context) -> list[Result]:
    beats = [b for b in ctx.stream.events if b.event.event.lower() in HEARTBEAT_TYPES]
    what = f"({shown(beats[0].event.event)!r} events)" if beats else ""
    if not beats:
        beats = _repeated_messages(ctx)
        what = f"(the same short data, {shown(beats[0].event.data)!r}, as message events)" if beats else ""
    if not beats:
        return passed("P-03", "no heartbeat sent as an event")
    return [broken("P-03", f"{len(beats)} heartbeats are real events {what}: every client hands them to "
                           "the application as messages, and they reset nothing a comment would not",
                   expected="a comment line (: ping) followed by a blank line",
                   actual=shown(ctx.stream.body[beats[0].offset:beats[0].end.end]),
                   evidence=ctx.at(beats[0].offset),
                   fix="Send heartbeats as comments: ': ping\\n\\n'.")]


def _repeated_messages(ctx: Context) -> list:
    """Default-type events whose short data repeats: a heartbeat word, or repeated between others."""
    events = ctx.stream.events
    plain = [(i, b) for i, b in enumerate(events)
             if b.event.event == "message" and len(b.event.data) <= BEAT_MAX_CHARS]
    counts = Counter(b.event.data for _, b in plain)
    for data, count in counts.most_common():
        if count < BEAT_REPEATS:
            break
        beats = [(i, b) for i, b in plain if b.event.data == data]
        between = beats[-1][0] - beats[0][0] + 1 > len(beats)  # other events among the repeats
        if data.strip().lower() in HEARTBEAT_WORDS or between:
            return [b for _, b in beats]
    return []


def _unobservable(rule_id: str):
    @check(rule_id)
    def not_observable(ctx: Context) -> list[Result]:
        return skipped(rule_id, UNOBSERVABLE[rule_id])

    return not_observable


for _rule in UNOBSERVABLE:
    _unobservable(_rule)
