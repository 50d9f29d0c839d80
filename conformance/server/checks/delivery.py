"""Timing: S-06 (events stream, not one burst at the end), P-02 (headers before the first event).

Judged on robust criteria only (a long wait *and* a tiny window), never on one tight number;
the measured times are always recorded in ``extra`` for the report.
"""

from __future__ import annotations

from itertools import pairwise

from ...results import Result
from ..registry import STREAM, Context, broken, check, passed

BURST_WAIT = 1.0  # a stream that waited at least this long before its first event...
BURST_WINDOW = 0.02  # ...then delivered every event within max(this, 2% of the wait)
BURST_SHARE = 0.02
BURST_MIN_EVENTS = 4  # fewer could be a slow start followed by a quick short answer
HEADERS_LATE = 3.0  # headers this late, glued to the first body bytes, were held back (robust)
GLUED = 0.02  # "glued": within max(this, 5% of the headers' delay)
GLUED_SHARE = 0.05


def timings(ctx: Context) -> dict[str, float | None]:
    cap, times = ctx.main, [b.time for b in ctx.stream.events if b.time is not None]
    gaps = [b - a for a, b in pairwise(times)]
    return {
        "time_to_headers": _ms(cap.t_headers),
        "time_to_first_byte": _ms(cap.arrivals[0][0]) if cap.arrivals else None,
        "time_to_first_event": _ms(times[0]) if times else None,
        "time_to_last_event": _ms(times[-1]) if times else None,
        "max_gap_between_events": _ms(max(gaps)) if gaps else None,
        "events": len(times),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _describe(t: dict) -> str:
    parts = [f"headers after {t['time_to_headers']} ms"]
    if t["time_to_first_event"] is not None:
        parts.append(f"first event after {t['time_to_first_event']} ms")
    if t["max_gap_between_events"] is not None:
        parts.append(f"{t['events']} events, largest gap {t['max_gap_between_events']} ms")
    return ", ".join(parts)


@check("S-06", needs=STREAM)
def events_stream(ctx: Context) -> list[Result]:
    t = timings(ctx)
    times = [b.time for b in ctx.stream.events if b.time is not None]
    if len(times) >= BURST_MIN_EVENTS:
        wait, window = times[0], times[-1] - times[0]
        if wait >= BURST_WAIT and window <= max(BURST_WINDOW, BURST_SHARE * wait):
            return [broken(
                "S-06", f"all {len(times)} events arrived within {window * 1000:.0f} ms after a "
                        f"{wait:.2f} s wait: the stream was buffered, not streamed",
                expected="events arrive as they are written", actual=_describe(t),
                evidence=ctx.at(ctx.stream.events[0].offset), extra={"timings": t},
                fix="Something buffers the response: gzip middleware (exclude text/event-stream), a "
                    "proxy (X-Accel-Buffering: no, proxy_buffering off), or a framework that collects "
                    "the generator; flush after every event.")]
    return passed("S-06", _describe(t), extra={"timings": t})


@check("P-02", needs=STREAM)
def headers_first(ctx: Context) -> list[Result]:
    cap = ctx.main
    t = timings(ctx)
    if cap.t_headers is not None and cap.arrivals and cap.t_headers >= HEADERS_LATE:
        glued = cap.arrivals[0][0] - cap.t_headers
        if glued <= max(GLUED, GLUED_SHARE * cap.t_headers):
            return [broken(
                "P-02", f"the headers arrived {cap.t_headers:.2f} s late, together with the first "
                        "body bytes: clients cannot fire open until the first event",
                expected="status and headers flushed at once", actual=_describe(t),
                extra={"timings": t},
                fix="Flush the headers before the first event is ready (GZipMiddleware holds back "
                    "http.response.start until the first body chunk, even for excluded types).")]
    return passed("P-02", _describe(t), extra={"timings": t})
