"""Timing, judged from wire measurements in dispatched events (``timing.measure``): S-06, P-02, P-06.

A header clue (Server, Via, X-Powered-By, Content-Encoding) never makes a finding; it only names
the component behind a problem that was measured (``culprit.diagnose``). The measured times are
always recorded in ``extra``.
"""

from __future__ import annotations

from itertools import pairwise
from statistics import median

from ...results import Outcome, Result
from ..capture import Capture, End
from ..culprit import COMPRESS, diagnose
from ..lateness import evened
from ..registry import ANY, STREAM, Context, broken, check, follows_s09, passed, shown, skipped
from ..stream import Stream, analyse
from ..timing import BATCH_GAP, Delivery, Pattern, measure
from .headers import not_a_stream

NO_RESPONSE_CAUSES = ("a proxy that holds the response back (nginx buffers headers and body until its "
                      "buffer fills) or a handler that does slow work before it returns the stream")


def timings(ctx: Context) -> dict[str, float | None]:
    cap, times, delivery = ctx.main, [b.time for b in ctx.stream.events if b.time is not None], ctx.delivery
    gaps = [b - a for a, b in pairwise(times)]
    return {
        "time_to_headers": _ms(cap.t_headers),
        "time_to_first_byte": _ms(cap.raw_arrivals[0][0]) if cap.raw_arrivals else None,
        "time_to_first_event": _ms(times[0]) if times else None,
        "time_to_last_event": _ms(times[-1]) if times else None,
        "max_gap_between_events": _ms(max(gaps)) if gaps else None,
        "events": len(times),
        "bursts": len(delivery.bursts),
        "batches": len(delivery.batches),
        "held_to_end_share": round(delivery.held_share, 3),
        "pattern": delivery.pattern.value,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _describe(t: dict) -> str:
    parts = [f"headers after {t['time_to_headers']} ms"]
    if t["time_to_first_event"] is not None:
        parts.append(f"first event after {t['time_to_first_event']} ms")
    if t["max_gap_between_events"] is not None:
        parts.append(f"{t['events']} events in {t['bursts']} releases, largest gap "
                     f"{t['max_gap_between_events']} ms")
    return ", ".join(parts)


def _early(ctx: Context) -> str:
    """What came before the events: bytes that completed none (a compressor header, a comment)."""
    delivery = ctx.delivery
    if not delivery.early_bytes:
        return ", with nothing before it"
    came = f"; only {delivery.early_bytes} wire bytes came before it"
    if not delivery.early_decoded:
        return f"{came}, decoding to nothing (a compressor's header)"
    return f"{came} ({shown(ctx.stream.body[:delivery.early_decoded], 40)}), completing no event"


def _held(ctx: Context) -> str:
    delivery = ctx.delivery
    held = delivery.held_to_end
    return (f"all {held.events} events ({delivery.held_share:.0%}) came in the final release, at "
            f"{held.start:.2f} s{_early(ctx)}")


def _groups(delivery: Delivery) -> tuple[int, float]:
    """(events per release, seconds between releases) of the pattern, as medians."""
    groups = delivery.groups
    period = median(b.start - a.start for a, b in pairwise(groups)) if len(groups) > 1 else 0.0
    return round(median(b.events for b in groups)), period


def _pattern_message(ctx: Context) -> str:
    delivery = ctx.delivery
    per, period = _groups(delivery)
    if delivery.pattern is Pattern.HELD:
        return f"{_held(ctx)}: the stream was held, not streamed (see P-06)"
    if delivery.pattern is Pattern.CUT:
        return (f"events arrive in batches: {len(delivery.batches)} times, {BATCH_GAP:g} s or more of "
                f"silence and then {min(b.events for b in delivery.batches)}+ events at once. Bursts end "
                "mid-event: a byte buffer decides when data moves.")
    if delivery.pattern is Pattern.THRESHOLD:
        return (f"events arrive {per} at a time, in {len(delivery.groups)} releases that each just pass "
                f"{delivery.buffer_size} bytes (one event more would not fit): an output buffer of "
                f"{delivery.buffer_size} bytes holds them until it is full")
    return (f"events arrive {per} at a time, a release every {period:.2f} s, the headers held "
            f"{ctx.main.t_headers or 0:.2f} s with the first: each write is held about 0.2 s (a corked "
            "socket, MSG_MORE)")


@check("S-06", needs=STREAM, timed=True)
def events_stream(ctx: Context) -> list[Result]:
    t, delivery = timings(ctx), ctx.delivery
    if delivery.pattern is Pattern.GROUPED and _grouped_on_time(ctx):
        return [_grouped(ctx, t)]
    if delivery.pattern is Pattern.GROUPED:  # groups a late reader may have made: a finding to prove
        return [broken("S-06", f"events arrive in batches: {_grouped_text(ctx)}",
                       expected="each event (or a comment) arrives as it is written",
                       actual=delivery.evidence(), evidence=ctx.at(ctx.stream.events[0].offset),
                       extra={"timings": t}, fix=GROUPED_FIX)]
    if delivery.pattern is not Pattern.NONE:
        return [broken(
            "S-06", _pattern_message(ctx), expected="each event (or a comment) arrives as it is written",
            actual=delivery.evidence(), evidence=ctx.at(ctx.stream.events[0].offset), extra={"timings": t},
            fix=diagnose(ctx.main, delivery).fix)]
    return passed("S-06", _describe(t), extra={"timings": t})


GROUPED_FIX = ("If the app writes one event at a time, look for a flush timer in front (Caddy "
               "flush_interval, a framework's flush interval) and flush after every event; if it writes "
               "them together, nothing is wrong.")


def _grouped_text(ctx: Context) -> str:
    per, period = _groups(ctx.delivery)
    return (f"{per} at a time, a release every {period:.2f} s, each ending on an event boundary at no "
            "known buffer size: either the app writes them in one write (then nothing is held) or a timed "
            "flush holds them; the wire cannot tell which")


def _grouped_on_time(ctx: Context) -> bool:
    """Do the groups stay with every read spread over the reader's lateness? Then the server sent
    them so; else the reader, late, may have made them (the runner observes again)."""
    main = evened(ctx.main)
    return measure(main, analyse(main)).pattern is Pattern.GROUPED


def _grouped(ctx: Context, t: dict) -> Result:
    """Several whole events at once, at no buffer size: the app's writes or a timed flush."""
    return Result(rule="S-06", outcome=Outcome.INFO, extra={"timings": t}, actual=ctx.delivery.evidence(),
                  message=f"events arrive {_grouped_text(ctx)}", fix=GROUPED_FIX)


@check("P-02", needs=STREAM, timed=True)
def headers_first(ctx: Context) -> list[Result]:
    t, held = timings(ctx), ctx.delivery.headers_held
    if held is not None:
        return [broken(
            "P-02", f"the headers arrived {held:.2f} s late, together with the first body bytes on the "
                    "wire: clients cannot fire open until the first event",
            expected="status and headers flushed at once", actual=_describe(t), extra={"timings": t},
            fix="Flush the headers before the first event is ready (a compressor or output buffer holds "
                "them with the first body bytes). " + diagnose(ctx.main, ctx.delivery).fix)]
    return passed("P-02", _describe(t), extra={"timings": t})


@check("P-06", needs=ANY, timed=True)
def events_reach_the_client(ctx: Context) -> list[Result]:
    cap, delivery = ctx.main, ctx.delivery
    if cap.end is End.NO_RESPONSE:
        return [broken(
            "P-06", f"{cap.detail}, though the connection stayed open: likely {NO_RESPONSE_CAUSES}",
            expected="status and headers at once", actual=cap.detail,
            fix="Return the streaming response before slow work and flush the headers; behind nginx set "
                f"proxy_buffering off. To see whether it answers at all, rerun with a longer --timeout "
                f"(now {cap.request.timeout:g} s).")]
    if not cap.answered or cap.status != 200:
        return skipped("P-06", f"no stream to judge ({cap.status or cap.end.value})")
    if (why := not_a_stream(ctx)) is not None:
        return skipped("P-06", why)
    if cap.end is End.UNDECODABLE:
        return skipped("P-06", f"cannot judge the body: {cap.detail} (see S-04)")
    if not delivery.events:
        return [_no_event(ctx)]
    if delivery.held_to_end is not None:
        return [broken(
            "P-06", f"no event reached the client while the connection was open: {_held(ctx)}, "
                    "so a live client sees nothing until the stream is over",
            expected="events while the connection is open", actual=delivery.held_to_end.describe(),
            evidence=ctx.at(0), fix=diagnose(cap, delivery).fix)]
    first = ctx.stream.events[0].time or 0.0
    return passed("P-06", f"{delivery.events} events in {len(delivery.bursts)} releases while the connection "
                          f"was open (the first at {first:.2f} s)")


def _no_event(ctx: Context) -> Result:
    """A 200 stream that dispatched no event: a MUST failure, with the bytes that show why."""
    cap, delivery = ctx.main, ctx.delivery
    why, fix = _why_no_event(cap, ctx.stream)
    if delivery.early_bytes and _compressed(cap):
        fix = diagnose(cap, delivery, COMPRESS).fix + " " + fix
    if cap.end is End.MAX_SECONDS:
        head = f"no event was dispatched in {cap.elapsed:.1f} s while the connection stayed open"
        fix += " If the stream is idle on purpose, read longer (--max-seconds)."
    else:
        head = f"the stream ended ({cap.end.value} after {cap.elapsed:.1f} s) without dispatching one event"
    return broken("P-06", f"{head}: {why}", expected="events (data: lines ended by a blank line) while the "
                  "connection is open", actual=why, evidence=ctx.at(0) if ctx.stream.body else "(empty body)",
                  fix=fix, **follows_s09(ctx))


def _why_no_event(cap: Capture, stream: Stream) -> tuple[str, str]:
    """What the body shows instead of an event, and what to do about it."""
    size = len(stream.body)
    wire = f"{cap.raw_size} wire bytes decoding to {size}" if _compressed(cap) else f"{size} bytes"
    if not size:
        return (f"{wire} of body, not one byte to parse",
                "Send a comment at once and flush every event.")
    tail = stream.tail
    if tail is not None and stream.lines and not stream.lines[-1].terminator:
        return (f"{wire} and no blank line: the body stops inside an unterminated line of "
                f"{len(stream.lines[-1].raw)} bytes",
                "End every line with a line break and every event with a blank line (\\n\\n).")
    if tail is not None and not stream.events:
        return (f"{wire} in {len(stream.lines)} lines and no blank line to end an event",
                "End every event with a blank line (\\n\\n): clients dispatch nothing until it comes.")
    return (f"{wire} in {len(stream.blocks)} blocks, none of them with a data: line (comments or other "
            "fields only)", "Send each event as data: lines ended by a blank line.")


def _compressed(cap: Capture) -> bool:
    return (cap.header("content-encoding") or "identity").strip().lower() != "identity"
