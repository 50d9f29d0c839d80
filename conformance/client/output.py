"""Human output of a client run: progress dots, a per-rule summary, then each failure explained."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from typing import TextIO

from ..explain import explain
from ..results import Outcome, Report, Result
from ..rules import RULES
from .runner import Item

__all__ = ["Dots", "render_failures", "render_rule_summary"]

_MARK = {
    Outcome.PASS: ".",
    Outcome.FAIL: "F",
    Outcome.WARN: "W",
    Outcome.ERROR: "E",
    Outcome.SKIP: "s",
    Outcome.INFO: "i",
    Outcome.XFAIL: "x",
}
_WORST = (Outcome.ERROR, Outcome.FAIL, Outcome.WARN, Outcome.XFAIL, Outcome.INFO, Outcome.PASS, Outcome.SKIP)
DOTS_AFTER = 2.0  # seconds: a short run off a TTY prints no dots at all
WIDTH = 80


def worst(results: list[Result]) -> Outcome:
    outcomes = {r.outcome for r in results}
    return next((o for o in _WORST if o in outcomes), Outcome.PASS)


class Dots:
    """pytest-style progress: one mark per finished case x chunking.

    On a TTY the marks appear at once; otherwise only once the run has taken ``DOTS_AFTER``
    seconds (then the marks so far are printed in one go), so short runs in CI stay quiet.
    """

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.pending = ""
        self.column = 0
        self.written = 0
        self.live = self.stream.isatty()

    def __call__(self, item: Item, results: list[Result]) -> None:
        self.done += 1
        self.pending += _MARK[worst(results)] if results else "."
        if not self.live and time.monotonic() - self.started >= DOTS_AFTER:
            self.live = True
        if self.live:
            self._flush()

    def _flush(self) -> None:
        for mark in self.pending:
            self.stream.write(mark)
            self.column += 1
            self.written += 1
            if self.column >= WIDTH - 8:
                self.stream.write(f" [{self.written * 100 // max(1, self.total):3d}%]\n")
                self.column = 0
        self.pending = ""
        self.stream.flush()

    def finish(self) -> None:
        if self.live and self.column:
            self.stream.write("\n")
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


def render_failures(report: Report) -> str:
    """Failures grouped by root cause (one entry per case, with the chunkings it fails under)."""
    return explain(report)
