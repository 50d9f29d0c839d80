"""Human output of a client run: progress marks, the item counts, with --all the per-rule table
(the blocks per cause are :mod:`conformance.explain`'s), and ``-v/--trace``'s account of one item:
"event #1 differs" says that something went wrong, the chunks, requests and events show where.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any, TextIO

from ..display import printable, visible
from ..results import SEVERITY, Outcome, Report, Result, worst
from ..rules import RULES
from .observation import Observation
from .runner import Item
from .slots import RecordedRequest

__all__ = ["Dots", "client_trace", "render_client_trace", "render_item_counts", "render_rule_summary", "runs"]

_MARK = {Outcome.PASS: ".", Outcome.FAIL: "F", Outcome.WARN: "W", Outcome.ERROR: "E", Outcome.SKIP: "s",
         Outcome.INFO: "i", Outcome.XFAIL: "x"}
DOTS_AFTER = 2.0  # seconds: a short run off a TTY prints no dots at all
WIDTH = 80


class Dots:
    """pytest-style progress: a mark per finished item, lines ending in ``[n/N items]`` (the unit
    named: the summary counts rule verdicts). Off a TTY, marks start only after ``DOTS_AFTER``
    seconds, so short runs in CI stay quiet."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.total = total
        self.started = time.monotonic()
        self.pending = ""
        self.column = 0
        self.written = 0
        self.live = self.stream.isatty()

    def __call__(self, item: Item, results: list[Result]) -> None:
        self.pending += _MARK[worst(results)] if results else "."
        self.live = self.live or time.monotonic() - self.started >= DOTS_AFTER
        if self.live:
            self._flush()

    def _flush(self) -> None:
        for mark in self.pending:
            self.stream.write(mark)
            self.column += 1
            self.written += 1
            if self.column >= WIDTH - len(self._count(self.total)) - 1:
                self.stream.write(f" {self._count(self.written)}\n")
                self.column = 0
        self.pending = ""
        self.stream.flush()

    def _count(self, done: int) -> str:
        return f"[{done:>{len(str(self.total))}}/{self.total} items]"

    def finish(self) -> None:
        if self.live and self.column:
            self.stream.write(f" {self._count(self.written)}\n")
            self.stream.flush()


def render_rule_summary(report: Report) -> str:
    """One line per rule: its level, counts per outcome, its title."""
    counts: dict[str, dict[Outcome, int]] = defaultdict(lambda: defaultdict(int))
    for result in report.results:
        counts[result.rule][result.outcome] += 1
    lines = ["rule  level   pass fail warn  err skip  title"]
    for rule_id in sorted(counts, key=lambda r: (r[0], int(r[2:]) if r[2:].isdigit() else 0)):
        c = counts[rule_id]
        rule = RULES.get(rule_id)
        lines.append(
            f"{rule_id:<5} {(rule.level if rule else '?'):<6} "
            f"{c[Outcome.PASS]:5d} {c[Outcome.FAIL]:4d} {c[Outcome.WARN]:4d} {c[Outcome.ERROR]:4d} "
            f"{c[Outcome.SKIP]:4d}  {rule.title if rule else ''}"
        )
    return "\n".join(lines)


def render_item_counts(report: Report) -> str:
    """Items (a case under one chunking) by worst outcome: the unit the progress counts, where
    the summary line below it counts rule verdicts (one per rule a case covers)."""
    items: dict[tuple[str | None, str | None], list[Result]] = defaultdict(list)
    for result in report.results:
        items[(result.case, result.chunking)].append(result)
    counts = Counter(worst(results) for results in items.values())
    shown = ", ".join(f"{counts[o]} {o.value}" for o in SEVERITY if counts[o])
    return (f"{len(items)} items (a case under one chunking): {shown or 'none'}; "
            f"{len(report.results)} rule verdicts:")


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
        for data in item.chunking.chunks(connection):
            rows.append({"ms": None, "connection": number, "offset": offset, "hex": data.hex(),
                         "text": visible(data, limit=400)})
            offset += len(data)
    return rows


def client_trace(item: Item, seen: Observation, requests: Sequence[RecordedRequest]) -> dict[str, Any]:
    """The trace of one run of ``item`` for ``report.meta["trace"]``."""
    trace = {
        "reads": _chunks(item),
        "events": [e.as_dict() for e in seen.events],
        "requests": [{"method": r.method} | {stamp: getattr(r, stamp) for stamp in _TIMES} for r in requests],
        "raised": seen.raised, "ended_by": seen.ended_by, "seconds": round(seen.seconds, 3),
        "truncated": False,
    }
    if seen.notifications:
        trace["notifications"] = seen.timeline()
    return trace


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
    counted = ((kind, len(list(group))) for kind, group in itertools.groupby(kinds))
    return [kind if count == 1 else f"{kind} x{count:,}" for kind, count in counted]
