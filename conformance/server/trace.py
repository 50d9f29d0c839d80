"""``-v/--trace``: what arrived, when, and what a conforming parser made of it.

Why: "S-20 0 of 1 events" says something is wrong but not what; the raw reads with arrival times
and the parsed events show at once that three messages were merged for want of blank lines.
Kept in ``report.meta["trace"]`` so the JSON and HTML reports carry it too.
"""

from __future__ import annotations

from typing import Any

from ..display import visible
from .registry import Context

__all__ = ["render_trace", "trace_of"]

LIMIT = 200  # reads and events kept: enough to see a pattern, bounded for endless streams


def trace_of(ctx: Context) -> dict[str, Any]:
    main = ctx.main
    body = bytes(main.body)
    bounds = [offset for _, offset in main.arrivals] + [len(body)]
    reads = [
        {"ms": round(t * 1000, 1), "offset": offset, "hex": body[offset:end].hex(),
         "text": visible(body[offset:end], limit=400)}
        for (t, offset), end in zip(main.arrivals[:LIMIT], bounds[1 : LIMIT + 1], strict=True)
    ]
    events = [
        {"ms": None if b.time is None else round(b.time * 1000, 1), "offset": b.offset,
         "event": b.event.event, "id": b.event.id, "data": b.event.data}
        for b in ctx.stream.events[:LIMIT] if b.event is not None
    ]
    return {"reads": reads, "events": events, "truncated": len(main.arrivals) > LIMIT
            or len(ctx.stream.events) > LIMIT}


def render_trace(trace: dict[str, Any]) -> str:
    lines = [f"Raw reads ({len(trace['reads'])}{'+' if trace['truncated'] else ''}): ms, offset, bytes"]
    lines += [f"  {r['ms']:>9.1f} {r['offset']:>7}  {r['text']}" for r in trace["reads"]]
    lines.append(f"Parsed events ({len(trace['events'])}): ms, event, id, data")
    for e in trace["events"]:
        ms = "-" if e["ms"] is None else f"{e['ms']:.1f}"
        lines.append(f"  {ms:>9} {visible(e['event'], 30):<12} id={visible(e['id'], 30)!s:<8} "
                     f"data={visible(e['data'], 200)}")
    return "\n".join(lines)
