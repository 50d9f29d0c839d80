"""Timing, judged from wire measurements (``timing.measure``): S-06, P-02, P-06.

A header clue (Server, Via, Content-Encoding) never makes a finding; it only names the likely
culprit of a problem that was measured. The measured times are always recorded in ``extra``.
"""

from __future__ import annotations

from itertools import pairwise

from ...results import Result
from ..capture import Capture, End
from ..registry import ANY, STREAM, Context, broken, check, passed, skipped
from ..timing import BATCH_GAP, HELD_WAIT

_NGINX = "set proxy_buffering off for this location, or have the app send X-Accel-Buffering: no"
# (word in Server/Via, who it is, how to stop it buffering). First match wins.
PROXIES = (
    ("nginx", "nginx", _NGINX),
    ("openresty", "OpenResty (nginx)", _NGINX),
    ("caddy", "Caddy", "set flush_interval -1 in the reverse_proxy block"),
    ("apache", "Apache httpd", "use ProxyPass ... flushpackets=on, and exclude the stream from mod_deflate"),
    ("envoy", "Envoy", "disable buffer filters and compression for text/event-stream routes"),
    ("traefik", "Traefik", "disable the compress middleware for this route (it buffers text/event-stream)"),
    ("haproxy", "HAProxy", "do not enable compression or http-buffer-request on this backend"),
    ("varnish", "Varnish", "pass the stream (return(pipe) or beresp.do_stream) instead of caching it"),
    ("cloudflare", "Cloudflare", "turn off compression and caching for the stream (Cache-Control: no-cache)"),
)
NO_RESPONSE_CAUSES = ("a proxy that holds the response back (nginx buffers headers and body until its "
                      "buffer fills) or a handler that does slow work before it returns the stream")


def culprits(cap: Capture) -> list[str]:
    """What the response headers say about who may be buffering, with the fix for each."""
    found = []
    for header in ("via", "server"):
        value = (cap.header(header) or "").lower()
        hit = next((row for row in PROXIES if row[0] in value), None)
        if hit is not None:
            found.append(f"{hit[1]} is in front ({header}: {cap.header(header)}): {hit[2]}")
            break
    encoding = (cap.header("content-encoding") or "identity").strip().lower()
    if encoding != "identity":
        found.append(f"the stream is compressed (Content-Encoding: {encoding}): flush the compressor "
                     "after every event, or exclude text/event-stream from compression")
    return found or ["nothing in the headers names a proxy: look for compression middleware, a proxy "
                     "that strips its headers, or a framework that collects the generator; flush after "
                     "every event"]


def fix_for(cap: Capture) -> str:
    return "; or ".join(culprits(cap)) + "."


def timings(ctx: Context) -> dict[str, float | None]:
    cap, times = ctx.main, [b.time for b in ctx.stream.events if b.time is not None]
    gaps = [b - a for a, b in pairwise(times)]
    return {
        "time_to_headers": _ms(cap.t_headers),
        "time_to_first_byte": _ms(cap.raw_arrivals[0][0]) if cap.raw_arrivals else None,
        "time_to_first_event": _ms(times[0]) if times else None,
        "time_to_last_event": _ms(times[-1]) if times else None,
        "max_gap_between_events": _ms(max(gaps)) if gaps else None,
        "events": len(times),
        "bursts": len(ctx.delivery.bursts),
        "batches": len(ctx.delivery.batches),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _describe(t: dict) -> str:
    parts = [f"headers after {t['time_to_headers']} ms"]
    if t["time_to_first_event"] is not None:
        parts.append(f"first event after {t['time_to_first_event']} ms")
    if t["max_gap_between_events"] is not None:
        parts.append(f"{t['events']} events in {t['bursts']} bursts, largest gap "
                     f"{t['max_gap_between_events']} ms")
    return ", ".join(parts)


@check("S-06", needs=STREAM, timed=True)
def events_stream(ctx: Context) -> list[Result]:
    t, delivery = timings(ctx), ctx.delivery
    if delivery.periodic:
        batches = delivery.batches
        cut = " Bursts end mid-event: a byte buffer decides when data moves." if any(
            b.cut for b in batches) else ""
        return [broken(
            "S-06", f"events arrive in batches: {len(batches)} times, {BATCH_GAP:g} s or more of silence "
                    f"and then {min(b.events for b in batches)}+ events at once.{cut}",
            expected="each event (or a comment) arrives as it is written", actual=delivery.evidence(),
            evidence=ctx.at(ctx.stream.events[0].offset), extra={"timings": t}, fix=fix_for(ctx.main))]
    held = delivery.held_to_end
    if held is not None:
        return [broken(
            "S-06", f"all {held.events} events arrived in one burst at {held.start:.2f} s, with nothing "
                    "before it: the stream was buffered, not streamed (see P-06)",
            expected="events arrive as they are written", actual=held.describe(),
            evidence=ctx.at(ctx.stream.events[0].offset), extra={"timings": t}, fix=fix_for(ctx.main))]
    return passed("S-06", _describe(t), extra={"timings": t})


@check("P-02", needs=STREAM, timed=True)
def headers_first(ctx: Context) -> list[Result]:
    t, held = timings(ctx), ctx.delivery.headers_held
    if held is not None:
        return [broken(
            "P-02", f"the headers arrived {held:.2f} s late, together with the first body bytes on the "
                    "wire: clients cannot fire open until the first event",
            expected="status and headers flushed at once", actual=_describe(t), extra={"timings": t},
            fix="Flush the headers before the first event is ready (old GZipMiddleware holds back "
                "http.response.start until the first body chunk); " + fix_for(ctx.main))]
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
    if delivery.nothing:
        return [broken(
            "P-06", f"not one byte of body in {cap.elapsed:.1f} s while the connection stayed open: "
                    "clients see a stream that never delivers",
            expected="events, or at least a comment (': connected'), soon after the headers",
            actual=f"200, headers after {cap.t_headers or 0:.2f} s, then silence",
            fix="Send a comment at once and flush every event; " + fix_for(cap)
                + " If the stream is idle on purpose, read longer (--max-seconds).")]
    held = delivery.held_to_end
    if held is not None:
        return [broken(
            "P-06", f"every event ({held.events}) was held back until the body ended "
                    f"({held.start:.2f} s, at least {HELD_WAIT:g} s after the request): a live client "
                    "sees nothing until the stream is over",
            expected="events while the connection is open", actual=held.describe(),
            evidence=ctx.at(0), fix=fix_for(cap))]
    return passed("P-06", f"{delivery.events} events in {len(delivery.bursts)} bursts while the connection "
                          "was open")
