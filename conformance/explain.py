"""Failures as a person acts on them: one block per cause, then what no cause explains.

Why: a client that mishandles CR fails some 40 cases under seven chunkings; one block per case
buried the one fix. A client report shows one block per inferred cause (``conformance.causes``:
its rule, what the client mishandles, its cases folded into one line with a count, the smallest
failure in full, the fix and the command that re-runs it), then each failure no cause explains
on its own; ``every=True`` (``-v``/``--all``) lists every case after that. Server reports keep
one entry per rule, after a per-rule summary. The text here is what ``Report.explain()`` and the
CLI show.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .cases.chunkings import Chunking
from .causes import ADAPTER, ERRORS_NOT_BEHAVIOURS, SAME_ERROR, Cause, Rerun, infer, leader, rerun_for
from .display import printable
from .results import BROKEN, SEVERITY, Outcome, Report, Result, worst
from .rules import RULES

__all__ = ["Group", "cause_block", "cause_count", "cause_head", "explain", "folded", "groups",
           "outside_select", "rule_summary", "split_causes", "under", "unexplained_groups"]

# What a split family means to a person reading "fails only when ...".
SPLITS = {
    "whole": "sent whole", "1-byte": "sent 1 byte at a time", "2-byte": "sent 2 bytes at a time",
    "crlf": "split at CR/LF", "utf8": "split inside a UTF-8 sequence or the BOM",
    "random": "split at random points",
}


@dataclass
class Group:
    """One root cause: a case (or a server rule) and every broken result that shares it."""

    key: str
    results: list[Result]
    chunkings: list[str] = field(default_factory=list)  # those it breaks under
    ran: list[str] = field(default_factory=list)  # every chunking it was run under

    @property
    def first(self) -> Result:
        """The result shown in full: the whole-body one if any, else the key rule's, else the first."""
        own = next((r for r in self.results if r.rule == self.key), self.results[0])
        return next((r for r in self.results if r.chunking == "whole"), own)

    @property
    def outcome(self) -> Outcome:
        return worst(self.results)

    @property
    def rules(self) -> list[str]:
        return list(dict.fromkeys(r.rule for r in self.results))


def under(group: Group) -> str:
    """"fails under every chunking (7)", "fails only when split at CR/LF (crlf)", or ""."""
    if not group.chunkings:
        return ""
    verb = "warns" if group.outcome is Outcome.WARN else "fails"
    if len(group.ran) > 1 and set(group.chunkings) == set(group.ran):
        return f"{verb} under every chunking ({len(group.ran)})"
    families = list(dict.fromkeys(Chunking(c).family for c in group.chunkings))
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
    broken_rules = {r.rule for r in report.results if r.outcome in BROKEN}
    for r in report.results:
        if r.outcome not in BROKEN:
            continue
        key = r.case or (f"error: {r.message}" if r.outcome is Outcome.ERROR else leader(r, broken_rules))
        group = found.setdefault(key, Group(key, [], ran=ran.get(r.case or "", [])))
        group.results.append(r)
        if r.chunking and r.chunking not in group.chunkings:
            group.chunkings.append(r.chunking)
    return sorted(found.values(), key=lambda g: SEVERITY.index(g.outcome))


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
        rows.append((rule_id, worst(results), list(dict.fromkeys(r.case or r.name for r in results))))
    return rows


def _summary_lines(report: Report) -> list[str]:
    lines = []
    for rule_id, outcome, names in rule_summary(report):
        rule = RULES.get(rule_id)
        title = rule.title if rule else ""
        shown = ", ".join(names[:8]) + (f", … ({len(names)} in all)" if len(names) > 8 else "")
        what = f"{shown}" if names != [rule_id] else ""
        lines.append(f"  {rule_id:<5} {outcome.value:<5} {title}" + (f": {what}" if what else ""))
    return lines


def entry(group: Group, rerun: Rerun | None = None, cause: str | None = None) -> str:
    """One failing case (or server rule) in full. ``cause``: the cause that explains it, shown
    in place of the case's own fix (a case lists its subject's rule, which need not be the bug)."""
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
    lines += [line for line in _details(first) if cause is None or not line.startswith("  fix:")]
    if cause is not None:
        lines.append(f"  {'cause:':<10}{cause}")
    for url in dict.fromkeys(r.spec for r in group.results if r.spec):
        lines.append(f"  {'spec:':<10}{url}")
    if rerun is not None and first.case:
        lines.append(f"  {'re-run:':<10}{rerun(first.case, first.chunking)}")
    return "\n".join(lines)


def _details(first: Result) -> list[str]:
    labels = {"actual": "actual", "evidence": "sent" if first.case else "evidence"}
    return [f"  {labels.get(label, label) + ':':<10}" + value.replace("\n", "\n            ")
            for label, value in first.details() if label != "spec"]


FOLDED = 8  # case IDs shown on a cause's one line before "… (+N)"


def folded(names: list[str]) -> str:
    """The first FOLDED names, then how many more: a cause's cases on one line."""
    shown = ", ".join(names[:FOLDED])
    return shown + (f", … (+{len(names) - FOLDED})" if len(names) > FOLDED else "")


def cause_head(cause: Cause) -> tuple[str | None, str]:
    """(the rule a cause names, what differs): ``("C-08", "(must) Title: the client mishandles
    a lone CR")``; no rule for one error met almost everywhere (the adapter or the client's
    version, not a behaviour), nor for what the adapter kept from being judged. Shared by the terminal
    and the HTML page, which links the rule."""
    if cause.behaviour == SAME_ERROR:
        return None, f"the same error on most items, whatever they exercise: {cause.what.split(': ', 1)[1]}"
    if cause.behaviour == ADAPTER:
        return None, f"{cause.what}: these items say nothing of the parser"
    rule = RULES.get(cause.rule)
    title = f" {rule.title}" if rule else ""
    what = f": the client mishandles {cause.what}" if cause.what else ""
    return cause.rule, f"({cause.level}){title}{what}"


def cause_count(cause: Cause) -> str:
    """"20 cases, 137 items (only when split)": how much one cause explains."""
    cases, items = len(cause.cases), len(cause.items)
    return f"{cases} case{'s' if cases != 1 else ''}, {items} item{'s' if items != 1 else ''}{_where(cause)}"


def cause_block(number: int, cause: Cause, rerun: Rerun | None = None) -> str:
    """One inferred cause: the rule and what differs, its cases on one line, the smallest
    failure in full, the fix for this cause and how to re-run that failure."""
    rule = RULES.get(cause.rule)
    named, what = cause_head(cause)
    head = f"{named} {what}" if named else what
    lines = [f"CAUSE {number}  {cause.outcome.value.upper()} {head}",
             f"  {cause_count(cause)}: {folded(cause.cases)}"]
    first = cause.evidence_result()
    description = first.extra.get("description")
    lines.append(f"  smallest: {first.name}" + (f"  {description}" if description else ""))
    lines.append(f"  {first.message}")
    lines += [line for line in _details(first) if not line.startswith("  fix:")]
    if cause.fix:
        lines.append(f"  {'fix:':<10}{cause.fix}")
    if rule and named:  # one error, not a behaviour: no rule of the spec to read
        lines.append(f"  {'spec:':<10}{rule.url}")
    if rerun is not None and first.case:
        lines.append(f"  {'re-run:':<10}{rerun(first.case, first.chunking)}")
    if cause.contradicted:
        lines.append(f"  ({cause.contradicted} passing item(s) exercise the same behaviour: it fails only "
                     "in some of them)")
    return "\n".join(lines)


def _where(cause: Cause) -> str:
    """" under every chunking", " only when split", or ""."""
    chunkings = {i.chunking for i in cause.items}
    if chunkings and "whole" not in chunkings:
        return " (only when split)"
    return ""


def split_causes(causes: list[Cause]) -> tuple[list[Cause], list[Cause]]:
    """(the causes shown as blocks, the failures that stand on their own): one error met almost
    everywhere is a block too, though no behaviour was inferred for it."""
    inferred = [c for c in causes if c.inferred or c.behaviour in ERRORS_NOT_BEHAVIOURS]
    return inferred, [c for c in causes if c not in inferred]


def unexplained_groups(report: Report, alone: list[Cause]) -> list[Group]:
    """The failures no cause explains, one group per case, and the broken results of no case
    (an error before any case ran)."""
    keys = {i.case for c in alone for i in c.items}
    return [g for g in groups(report) if g.key in keys or not g.first.case]


def _client(report: Report, every: bool) -> list[str]:
    causes = infer(report.results)
    rerun = rerun_for(report.target, report.meta)
    inferred, alone = split_causes(causes)
    parts = []
    if inferred:
        failures = sum(len(c.items) for c in inferred)
        parts.append(f"{len(inferred)} cause{'s' if len(inferred) != 1 else ''} explain"
                     f"{'s' if len(inferred) == 1 else ''} {failures} failing item(s)"
                     + (f"; {len(alone)} failure(s) stand on their own" if alone else "") + ":")
        parts += [cause_block(n, c, rerun) for n, c in enumerate(inferred, 1)]
    if alone:
        if not inferred:
            parts.append(f"{len(alone)} failure(s), none sharing a cause with another:")
        parts += [entry(g, rerun) for g in unexplained_groups(report, alone)]
    if every and causes:
        parts.append("Broken rules:\n" + "\n".join(_summary_lines(report)))
        named: dict[str, str] = {}  # case -> the first cause that explains it
        for number, cause in enumerate(inferred, 1):
            title = RULES[cause.rule].title if cause.rule in RULES else cause.rule
            label = cause.what if cause.behaviour in ERRORS_NOT_BEHAVIOURS else \
                f"{cause.rule}, {cause.what or title}"
            for case in cause.cases:
                named.setdefault(case, f"CAUSE {number}: {label}")
        parts.append("Every failing case (-v/--all):")
        parts += [entry(g, rerun, named[g.key]) for g in groups(report) if g.key in named]
    return parts


def outside_select(report: Report) -> list[Result]:
    """Broken verdicts outside ``--select``, kept as info: noted, never gating."""
    return [r for r in report.results if "outside_select" in r.extra]


def explain(report: Report, every: bool = False) -> str:
    """Client: one block per cause, then failures no cause explains (``every``: every case
    too). Server: the per-rule summary, then one entry per rule. "" when nothing is broken.
    Printable throughout: messages carry a peer's crash text and stderr."""
    parts = []
    if report.kind == "client":
        parts += _client(report, every)
    else:
        found = groups(report)
        if found:
            parts.append("Broken rules:\n" + "\n".join(_summary_lines(report)))
            parts += [entry(g) for g in found]
    outside = outside_select(report)
    if outside:
        parts.append("Noted outside --select (not gating; run without --select to judge them):\n"
                     + "\n".join(f"  {r.extra['outside_select'].upper()} {r.rule} {r.name}: {r.message}"
                                  for r in outside))
    if report.stale:
        parts.append("Stale baseline entries (they pass now; remove them): " + ", ".join(report.stale))
    return printable("\n\n".join(parts))
