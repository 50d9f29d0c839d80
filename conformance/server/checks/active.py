"""Opt-in checks that send more requests: S-19 (--resume), S-08 (--origin), S-18 (--idle)."""

from __future__ import annotations

from itertools import pairwise

from ...display import excerpt
from ...results import Result
from ..registry import STREAM, Context, broken, check, passed, shown, skipped
from ..stream import Block, Stream

IDLE_SLACK = 0.25  # seconds of scheduling slack on top of 25% of the asked interval


def resume_point(stream: Stream) -> tuple[str, list[str], list[str]] | None:
    """(id to resume after, ids sent up to it, ids expected after it) from the first capture."""
    with_id = [b for b in stream.events if "id" in b.names()]
    if not with_id:
        return None
    chosen = with_id[max(0, (len(with_id) - 1) // 2)]
    ids = [b.event.id for b in with_id]
    index = with_id.index(chosen)
    return chosen.event.id, ids[: index + 1], ids[index + 1 :]


def _own_ids(stream: Stream) -> list[tuple[str, Block]]:
    return [(b.event.id, b) for b in stream.events if "id" in b.names()]


@check("S-19", needs=STREAM, option="resume", sends="resume")
def resumes_after_last_event_id(ctx: Context) -> list[Result]:
    point = resume_point(ctx.stream)
    if point is None or ctx.resumed is None:
        return skipped("S-19", "no event carried an id, so there is nothing to resume from (see S-20)")
    chosen, before, after = point
    again = ctx.resumed
    if again.status != 200 or ctx.resumed_stream is None:
        got = str(again.status or again.detail)
        return [broken("S-19", f"the reconnect with Last-Event-ID: {shown(chosen)} got {got}",
                       expected="200 and the events after that id", actual=got,
                       fix="Accept Last-Event-ID on the stream URL (any case) and answer 200.")]
    seen = _own_ids(ctx.resumed_stream)
    dup = next(((i, b) for i, b in seen if i in before), None)
    if dup is not None:
        nxt = f" (id {shown(after[0])})" if after else ""
        return [broken("S-19", f"after resuming from id {shown(chosen)} the server sent id "
                               f"{shown(dup[0])} again",
                       expected=f"the event after {shown(chosen)}{nxt}",
                       actual=f"id {shown(dup[0])} (a duplicate)", evidence=excerpt_of(ctx, dup[1]),
                       fix="Read Last-Event-ID and start after that event, not from the beginning.")]
    if after and (not seen or seen[0][0] != after[0]):
        got = f"id {shown(seen[0][0])}" if seen else "no event with an id"
        return [broken("S-19", f"after resuming from id {shown(chosen)} the next event was {got}, "
                               f"not id {shown(after[0])}: a gap",
                       expected=f"id {shown(after[0])}", actual=got,
                       evidence=excerpt_of(ctx, seen[0][1]) if seen else None,
                       fix="Resume exactly after the Last-Event-ID event; keep enough history to replay.")]
    return passed("S-19", f"resumed after id {shown(chosen)}: {len(seen)} events, no duplicate, no gap")


def excerpt_of(ctx: Context, block: Block) -> str:
    assert ctx.resumed_stream is not None
    return "resumed stream " + excerpt(ctx.resumed_stream.body, block.offset)


@check("S-08", option="origin", sends="preflight")
def cors(ctx: Context) -> list[Result]:
    origin = ctx.options.origin
    allow = ctx.main.header("access-control-allow-origin")
    if allow is None or allow.strip() not in ("*", origin):
        return [broken("S-08", f"pages on {origin} cannot read this stream (CORS)",
                       expected=f"Access-Control-Allow-Origin: {origin} (or *)",
                       actual=shown(f"Access-Control-Allow-Origin: {allow}" if allow else "(none)"),
                       fix="Send Access-Control-Allow-Origin for the origins that may connect, plus "
                           "Access-Control-Allow-Credentials: true for withCredentials.")]
    pre = ctx.preflight
    allowed = (pre.header("access-control-allow-headers") or "").lower() if pre else ""
    note = ("preflight allows Last-Event-ID" if "last-event-id" in allowed or allowed.strip() == "*"
            else "note: the preflight does not allow Last-Event-ID, so preflighted reconnects "
                 "(long or non-ASCII ids) fail (dunglas/mercure#535)")
    return passed("S-08", f"Access-Control-Allow-Origin: {shown(allow)}; {note}")


@check("S-18", needs=STREAM, option="idle", timed=True)
def keeps_alive(ctx: Context) -> list[Result]:
    cap, idle = ctx.main, ctx.options.idle or 0.0
    stamps = [cap.t_headers or 0.0] + [t for t, _ in cap.arrivals]
    if cap.end.value == "max-seconds":
        stamps.append(cap.elapsed)
    if cap.elapsed < idle:
        return skipped("S-18", f"the stream ended after {cap.elapsed:.1f} s, before an idle period of "
                               f"{idle:g} s could be seen")
    gaps = [(b - a, a) for a, b in pairwise(stamps)]
    gap, since = max(gaps, default=(0.0, 0.0))
    if gap <= idle * 1.25 + IDLE_SLACK:
        return passed("S-18", f"never silent for more than {gap:.2f} s (asked: {idle:g} s) "
                              f"over {cap.elapsed:.1f} s")
    return [broken("S-18", f"silent for {gap:.2f} s (from {since:.2f} s): proxies and load balancers cut "
                           "idle streams",
                   expected=f"a comment or event at least every {idle:g} s", actual=f"a {gap:.2f} s gap",
                   fix="Send a comment line (': ping\\n\\n') about every 15 s while idle.")]
