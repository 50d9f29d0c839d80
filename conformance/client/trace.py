"""``client -v/--trace`` for one item: the bytes served, when, and what the client reported.

Why: "event #1 differs" says that something went wrong; the chunks as they were cut, the
request times and every event the client reported show where. One item only, run once with
nothing beside it, so the times are its own.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from ..cases.model import Send
from ..display import printable, visible
from ..results import Result
from ..structured import event_json
from .judge import judge_run
from .runner import ClientRun, Item

__all__ = ["render_client_trace", "run_traced"]

_TIMES = ("received", "sent", "ended")
# how a run ended (observation.ENDINGS), as the line "Events the client reported" ends
_ENDED = {"returned": "returned", "raised": "raised", "broken": "broke the protocol",
          "enough": "was stopped (one request past the script)",
          "waiting": "was stopped (waiting: asleep, every byte read, no timer due)",
          "deadline": "was stopped at its deadline",
          "flood": "was stopped (flooding)"}


def _chunks(item: Item) -> list[dict[str, Any]]:
    rows, offset = [], 0
    for number, connection in enumerate(item.case.connections, 1):
        for step in item.chunking.plan(connection):
            if isinstance(step, Send):
                rows.append({"ms": None, "connection": number, "offset": offset, "hex": step.data.hex(),
                             "text": visible(step.data, limit=400)})
                offset += len(step.data)
    return rows


def run_traced(target: Any, item: Item, *, timeout_scale: float = 1.0,
               capabilities: tuple[str, ...] = ()) -> tuple[list[Result], dict[str, Any]]:
    """Run ``item`` once; return its results and the trace for ``report.meta["trace"]``."""

    async def main() -> tuple[Any, list[Any]]:
        client = ClientRun(target, capabilities=capabilities, timeout_scale=timeout_scale, concurrency=1)
        async with client.server:
            try:
                seen, slot = await client.observe(item.case, item.chunking)
            finally:
                await client.aclose()
            judged = judge_run(item.case, item.chunking, seen, list(slot.requests), slot.total)
            return (judged.results, seen), list(slot.requests)

    (results, seen), requests = asyncio.run(main())
    trace = {
        "reads": _chunks(item),
        "events": [event_json(e) for e in seen.events],
        "requests": [{"method": r.method, "received": r.received, "sent": r.sent, "ended": r.ended}
                     for r in requests],
        "raised": seen.raised, "ended_by": seen.ended_by, "seconds": round(seen.seconds, 3),
        "truncated": False,
    }
    if seen.notifications:
        trace["notifications"] = seen.timeline()
    return results, trace


def render_client_trace(trace: dict[str, Any]) -> str:
    start = trace["requests"][0]["received"] if trace["requests"] else 0.0
    lines = [f"Requests ({len(trace['requests'])}): received, body sent, ended (ms from the first)"]
    for r in trace["requests"]:
        times = ["-" if r[k] is None else f"{(r[k] - start) * 1000:.1f}" for k in _TIMES]
        lines.append(f"  {r['method']:<6} {times[0]:>8} {times[1]:>8} {times[2]:>8}")
    lines.append(f"Chunks served ({len(trace['reads'])}): connection, offset, bytes")
    lines += [f"  {c['connection']:>3} {c['offset']:>7}  {c['text']}" for c in trace["reads"]]
    ended = _ENDED.get(trace["ended_by"], trace["ended_by"])
    raised = f" raising {printable(trace['raised'])}" if trace["raised"] else ""
    lines.append(f"Events the client reported ({len(trace['events'])}), then it {ended} "
                 f"after {trace['seconds']} s{raised}")
    lines += [f"  {visible(e['event'], 30):<12} id={visible(e['id'], 30):<8} data={visible(e['data'], 200)}"
              for e in trace["events"]]
    if trace.get("notifications"):
        lines.append(f"Notifications among the events: {', '.join(runs(trace['notifications']))}")
    return "\n".join(lines)


def runs(kinds: list[str]) -> list[str]:
    """Repeats folded: a client retrying forever reports thousands of errors in a row.

    >>> runs(["open", "event", "error", "error", "error"])
    ['open', 'event', 'error x3']
    """
    out: list[str] = []
    for kind, group in itertools.groupby(kinds):
        count = len(list(group))
        out.append(kind if count == 1 else f"{kind} x{count:,}")
    return out
