"""Human output of a client run: progress marks with [n/N items], the item counts, and with
--all the per-rule table (the blocks per cause of the failures are :mod:`conformance.explain`'s)."""

from __future__ import annotations

import shlex
import sys
import time
from argparse import Namespace
from collections import defaultdict
from typing import TextIO

from ..results import Outcome, Report, Result
from ..rules import RULES
from .runner import Item

__all__ = ["Dots", "render_item_counts", "render_rule_summary", "rerun_target"]

_MARK = {Outcome.PASS: ".", Outcome.FAIL: "F", Outcome.WARN: "W", Outcome.ERROR: "E", Outcome.SKIP: "s",
         Outcome.INFO: "i", Outcome.XFAIL: "x"}
_WORST = (Outcome.ERROR, Outcome.FAIL, Outcome.WARN, Outcome.XFAIL, Outcome.INFO, Outcome.PASS, Outcome.SKIP)
DOTS_AFTER = 2.0  # seconds: a short run off a TTY prints no dots at all
WIDTH = 80


def worst(results: list[Result]) -> Outcome:
    outcomes = {r.outcome for r in results}
    return next((o for o in _WORST if o in outcomes), Outcome.PASS)


class Dots:
    """pytest-style progress: one mark per finished item (a case under one chunking), each line
    ending in ``[n/N items]``: the unit is named, as the summary counts rule verdicts.

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
    counts: dict[Outcome, int] = defaultdict(int)
    for results in items.values():
        counts[worst(results)] += 1
    shown = ", ".join(f"{counts[o]} {o.value}" for o in _WORST if counts[o])
    return (f"{len(items)} items (a case under one chunking): {shown or 'none'}; "
            f"{len(report.results)} rule verdicts:")


def rerun_target(args: Namespace) -> str:
    """How the command line named the client, quoted, for the re-run commands it prints."""
    profile = getattr(args, "profile", "generic")
    options = (f" --profile {profile}" if profile != "generic" else "") + "".join(
        f" --capability {shlex.quote(c)}" for c in getattr(args, "capability", []))
    if getattr(args, "cmd", None):
        return f"--cmd {shlex.quote(args.cmd)}{options}"
    if getattr(args, "harness", None):
        return f"--harness {shlex.quote(args.harness)}{options}"
    return shlex.quote(str(args.target)) + options
