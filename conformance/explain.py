"""Failures grouped by root cause: one entry per case (with the chunkings it fails under) or rule.

Why: a client that mishandles CR fails the same case under all seven chunkings, and a list of
the first 40 results hid everything else. Each entry says whether the case fails under every
chunking (a parsing bug) or only under some splits (a buffering bug), after a per-rule summary.
The text here is what ``Report.explain()``, the CLI and the HTML report all show.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .display import printable
from .results import BROKEN, Outcome, Report, Result
from .rules import RULES

__all__ = ["Group", "explain", "groups", "rule_summary", "under"]

# What a split family means to a person reading "fails only when ...".
SPLITS = {
    "whole": "sent whole", "1-byte": "sent 1 byte at a time", "2-byte": "sent 2 bytes at a time",
    "crlf": "split at CR/LF", "utf8": "split inside a UTF-8 sequence or the BOM",
    "random": "split at random points",
}
_WORST = (Outcome.ERROR, Outcome.FAIL, Outcome.WARN)


@dataclass
class Group:
    """One root cause: a case (or a server rule) and every broken result that shares it."""

    key: str
    results: list[Result]
    chunkings: list[str] = field(default_factory=list)  # those it breaks under
    ran: list[str] = field(default_factory=list)  # every chunking it was run under

    @property
    def first(self) -> Result:
        """The result shown in full: the whole-body one if any, else the first."""
        return next((r for r in self.results if r.chunking == "whole"), self.results[0])

    @property
    def outcome(self) -> Outcome:
        return next(o for o in _WORST if any(r.outcome is o for r in self.results))

    @property
    def rules(self) -> list[str]:
        return list(dict.fromkeys(r.rule for r in self.results))


def _family(name: str) -> str:
    return "random" if name.startswith("random-") else name


def under(group: Group) -> str:
    """"fails under every chunking (7)", "fails only when split at CR/LF (crlf)", or ""."""
    if not group.chunkings:
        return ""
    verb = "warns" if group.outcome is Outcome.WARN else "fails"
    if len(group.ran) > 1 and set(group.chunkings) == set(group.ran):
        return f"{verb} under every chunking ({len(group.ran)})"
    families = list(dict.fromkeys(_family(c) for c in group.chunkings))
    words = " or ".join(SPLITS.get(f, f) for f in families)
    others_passed = len(group.ran) > len(group.chunkings)  # "only" needs a chunking that passed
    only = "only when " if others_passed and "whole" not in families else "when "
    return f"{verb} {only}{words} ({', '.join(group.chunkings)})"


def groups(report: Report) -> list[Group]:
    """Broken results, one group per case (client) or per rule (server); errors with the same
    message (a server that never answered) become one group."""
    ran: dict[str, list[str]] = defaultdict(list)
    for r in report.results:
        if r.case and r.chunking and r.chunking not in ran[r.case]:
            ran[r.case].append(r.chunking)
    found: dict[str, Group] = {}
    for r in report.results:
        if r.outcome not in BROKEN:
            continue
        key = r.case or (f"error: {r.message}" if r.outcome is Outcome.ERROR else r.rule)
        group = found.setdefault(key, Group(key, [], ran=ran.get(r.case or "", [])))
        group.results.append(r)
        if r.chunking and r.chunking not in group.chunkings:
            group.chunkings.append(r.chunking)
    return sorted(found.values(), key=lambda g: _WORST.index(g.outcome))


def rule_summary(report: Report) -> list[tuple[str, Outcome, list[str]]]:
    """(rule, worst outcome, the cases or items breaking it) for each broken rule, in table order."""
    broken: dict[str, list[Result]] = defaultdict(list)
    for r in report.results:
        if r.outcome in BROKEN:
            broken[r.rule].append(r)
    order = list(RULES)
    rows = []
    for rule_id in sorted(broken, key=lambda i: order.index(i) if i in order else len(order)):
        results = broken[rule_id]
        worst = next(o for o in _WORST if any(r.outcome is o for r in results))
        rows.append((rule_id, worst, list(dict.fromkeys(r.case or r.name for r in results))))
    return rows


def _summary_lines(report: Report) -> list[str]:
    lines = []
    for rule_id, worst, names in rule_summary(report):
        rule = RULES.get(rule_id)
        title = rule.title if rule else ""
        shown = ", ".join(names[:8]) + (f", … ({len(names)} in all)" if len(names) > 8 else "")
        what = f"{shown}" if names != [rule_id] else ""
        lines.append(f"  {rule_id:<5} {worst.value:<5} {title}" + (f": {what}" if what else ""))
    return lines


def entry(group: Group) -> str:
    first = group.first
    rules = ", ".join(f"{r} ({RULES[r].level if r in RULES else first.level})" for r in group.rules)
    if group.key.startswith("error: "):
        return f"{first.outcome.value.upper()} {rules}: {first.message}"
    head = f"{group.outcome.value.upper()} {group.key}  {rules}" if first.case else \
        f"{group.outcome.value.upper()} {rules}"
    description = first.extra.get("description")
    lines = [head + (f"  {description}" if description else "")]
    if under(group):
        lines.append(f"  {under(group)}")
    lines.append(f"  {first.message}")
    labels = {"actual": "actual", "evidence": "sent" if first.case else "evidence"}
    for label, value in first.details():
        if label != "spec":
            lines.append(f"  {labels.get(label, label) + ':':<10}" + value.replace("\n", "\n            "))
    for url in dict.fromkeys(r.spec for r in group.results if r.spec):
        lines.append(f"  {'spec:':<10}{url}")
    return "\n".join(lines)


def explain(report: Report) -> str:
    """The per-rule summary, then one entry per root cause; "" when nothing is broken. Printable
    throughout: messages carry a peer's crash text and stderr."""
    found = groups(report)
    parts = []
    if found:
        parts.append("Broken rules:\n" + "\n".join(_summary_lines(report)))
        parts += [entry(g) for g in found]
    if report.stale:
        parts.append("Stale baseline entries (they pass now; remove them): " + ", ".join(report.stale))
    return printable("\n\n".join(parts))
