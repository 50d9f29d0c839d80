"""The fewest causes that explain a run's failures: one cause, one finding.

Why: a failure used to be filed under every rule its case lists, so one client bug (CR not a line
end) came out as six rules and 43 blocks. Here every item (a case under one chunking) is a set of
behaviours (``conformance.cases.behaviours``: what its bytes exercise, how its reads were split,
and the case's own rules as coarse behaviours) and a verdict, broken or passed. A behaviour that
many broken items share and few passing ones do is a cause; causes are chosen greedily, each
time the one that explains the most failures not yet explained, less the passing items that
contradict it; on a tie the one the fewest passes contradict, then one on a rule the failing
cases list (with nothing to contrast, an LF in HT-001 is no cause), then the more specific one.
Failures seen with the body in one read are explained first, and their causes come first: a bug
that shows without any read boundary is more fundamental than one that needs a boundary in a
particular place, and the behaviour chosen for them claims its split failures too (one cause).
A cause names its behaviour's rule and fix, the
cases it explains, and the smallest of them as evidence. What no behaviour explains better than
it is contradicted stays listed on its own (``inferred`` false). Pure: no I/O.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .cases.behaviours import BEHAVIOURS, BOUNDARY_BEHAVIOURS, split_behaviours
from .cases.model import Case
from .results import ADAPTER_FAULT, BROKEN, SEVERITY, Outcome, Result, worst
from .rules import RULES

__all__ = ["ADAPTER", "ERRORS_NOT_BEHAVIOURS", "SAME_ERROR", "Cause", "Item", "Rerun", "causes_json",
           "from_docs", "infer", "items_of", "leader", "rerun_command",
           "rerun_for"]

# Rules a case lists for how its bytes are read (chunk splits, line ends): an item exercises
# them only when its reads or bytes show the behaviour, never just because the case lists them.
DERIVED_RULES = frozenset({"C-03", "C-07", "C-08", "C-09", "C-10", "C-37"})
# Verdicts on how the client ran rather than on what a case exercises: a cause of their own.
OWN_CAUSE_RULES = frozenset({"P-10"})
SAME_ERROR = "same-error"  # the behaviour of a cause that is one error met almost everywhere
ADAPTER = "adapter"  # the behaviour of a cause that kept the client from being judged
ERRORS_NOT_BEHAVIOURS = frozenset({SAME_ERROR, ADAPTER})  # causes that are one error, not parsing
ONE_READ = 1 << 16  # body bytes a client can take in one read (a socket buffer's worth)


@dataclass
class Item:
    """One case under one chunking: its verdicts and the behaviours it exercises."""

    case: str
    chunking: str | None
    results: list[Result]
    behaviours: frozenset[str] = frozenset()
    size: int = 0  # body bytes: the smallest failing item is the evidence

    @property
    def name(self) -> str:
        return f"{self.case}[{self.chunking}]" if self.chunking else self.case

    @property
    def rules(self) -> set[str]:
        """The rules its verdicts name (the case's own, and any the runner added)."""
        return {r.rule for r in self.results}

    @property
    def broken(self) -> list[Result]:
        return [r for r in self.results if r.outcome in BROKEN]

    @property
    def in_one_read(self) -> bool:
        """No read boundary falls where it matters: what fails here fails with the body whole.
        A body over one socket read (DA-017's 5 MiB) is split by the transport whatever the
        chunking, so it never counts."""
        return self.size <= ONE_READ and not self.behaviours & BOUNDARY_BEHAVIOURS

    @property
    def passed(self) -> bool:
        """Judged and right: a baselined failure (xfail) is neither passed nor broken."""
        outcomes = {r.outcome for r in self.results}
        return Outcome.PASS in outcomes and not outcomes & {*BROKEN, Outcome.XFAIL}


@dataclass
class Cause:
    """One behaviour the client gets wrong, with every item it explains."""

    rule: str
    behaviour: str
    fix: str | None
    items: list[Item]
    inferred: bool = True
    contradicted: int = 0  # passing items that exercise the behaviour too
    what: str = ""
    results: list[Result] = field(default_factory=list)  # server findings (no items)

    @property
    def level(self) -> str:
        return RULES[self.rule].level if self.rule in RULES else self.evidence_result().level

    @property
    def cases(self) -> list[str]:
        return list(dict.fromkeys(i.case for i in self.items)) or [r.name for r in self.results]

    @property
    def outcome(self) -> Outcome:
        broken = [r for i in self.items for r in i.broken] + self.results
        return worst(broken)

    @property
    def smallest(self) -> Item | None:
        """The evidence: the failing item with the fewest body bytes, unsplit first."""
        if not self.items:
            return None
        return min(self.items, key=lambda i: (i.size, i.chunking != "whole", i.case, i.chunking or ""))

    def evidence_result(self) -> Result:
        item = self.smallest
        if item is None:
            return self.results[0]
        own = [r for r in item.broken if r.rule == self.rule]
        return next((r for r in own + item.broken if r.outcome is self.outcome), (own + item.broken)[0])

    @property
    def in_one_read(self) -> bool:
        """Does it explain a failure seen with the body in one read (not only under a split)?"""
        return any(i.in_one_read for i in self.items)

    def chunkings(self) -> list[str]:
        return list(dict.fromkeys(i.chunking for i in self.items if i.chunking))


def _coarse_fix(rule: str, items: Iterable[Item]) -> str | None:
    """A rule's cause: the fix the judge gave its verdicts most often (on that rule if any)."""
    broken = [r for i in items for r in i.broken if r.fix]
    fixes = Counter(r.fix for r in broken if r.rule == rule) or Counter(r.fix for r in broken)
    return fixes.most_common(1)[0][0] if fixes else None  # ties: the first seen (deterministic)


def _corpus() -> dict[str, Case]:
    from .cases import load_cases

    return {case.id: case for case in load_cases()}


def items_of(results: Iterable[Result], cases: Mapping[str, Case] | None = None) -> list[Item]:
    """The client items of a run (results without a case are left out), with behaviours."""
    grouped: dict[tuple[str, str | None], list[Result]] = defaultdict(list)
    for result in results:
        if result.case:
            grouped[(result.case, result.chunking)].append(result)
    if grouped and cases is None:
        cases = _corpus()
    items = []
    for (case_id, chunking), found in grouped.items():
        case = (cases or {}).get(case_id)
        items.append(Item(case_id, chunking, found, *_behaviours(case, chunking, found)))
    return items


def _behaviours(case: Case | None, chunking: str | None, results: list[Result]) -> tuple[frozenset[str], int]:
    if case is None:  # not in this corpus: its listed rules are all we know
        return frozenset(r.rule for r in results if r.rule not in OWN_CAUSE_RULES), 0
    coarse = {rule for rule in case.rules if rule not in DERIVED_RULES}
    size = case.body_length
    return frozenset(coarse | set(case.exercises) | split_behaviours(case, chunking)), size


def _rule_of(behaviour: str) -> str:
    return BEHAVIOURS[behaviour].rule if behaviour in BEHAVIOURS else behaviour


_ORDER = {name: index for index, name in enumerate([*BEHAVIOURS, *RULES])}


def _rank(behaviour: str) -> tuple[int, int, str]:
    """A total order for ties: named behaviours before a rule's, then table order, then name
    (never the order a set happens to iterate in: the same verdicts give the same causes)."""
    return (0 if behaviour in BEHAVIOURS else 1, _ORDER.get(behaviour, len(_ORDER)), behaviour)


def infer(results: Iterable[Result], cases: Mapping[str, Case] | None = None) -> list[Cause]:
    """The causes of a run's failures, most cases first; unexplained failures after them."""
    results = list(results)
    if not any(r.outcome in BROKEN for r in results):
        return []  # nothing to explain: a clean run skips the behaviours of every item
    items = items_of(results, cases)
    own = [i for i in items if i.broken and all(r.rule in OWN_CAUSE_RULES for r in i.broken)]
    judged = [i for i in items if i not in own]
    passing = [i for i in judged if i.passed]
    faults = _adapter_faults([i for i in judged if i.broken])
    unread = {id(i) for c in faults for i in c.items}
    crashes = faults + _same_error_everywhere([i for i in judged if i.broken and id(i) not in unread],
                                              len(judged))
    taken = {id(i) for c in crashes for i in c.items}
    failing = [i for i in judged if i.broken and id(i) not in taken]
    chosen = _greedy(failing, passing)
    explained = {id(i) for c in chosen for i in c.items}
    alone = _unexplained([i for i in failing if id(i) not in explained])
    chosen.sort(key=lambda c: (not c.in_one_read, -len(c.cases), SEVERITY.index(c.outcome),
                               _rank(c.behaviour)))
    return crashes + chosen + alone + _own_causes(own) + _server_causes(results)


def _adapter_faults(failing: list[Item]) -> list[Cause]:
    """What the adapter kept from being judged (``ADAPTER_FAULT``: output the suite cannot read, a
    raise before the first request) is one cause per kind (its fix), however few items show it:
    it says nothing of the parser, whatever the items' bytes exercise."""
    by_fix: dict[str | None, list[Item]] = defaultdict(list)
    for item in failing:
        if all(r.expected == ADAPTER_FAULT for r in item.broken):
            by_fix[item.broken[0].fix].append(item)
    return [Cause(Counter(r.rule for i in found for r in i.broken).most_common(1)[0][0], ADAPTER, fix, found,
                  inferred=False, what=found[0].broken[0].message.split(": ", 1)[0])
            for fix, found in by_fix.items()]


def _same_error_everywhere(failing: list[Item], judged: int) -> list[Cause]:
    """One error met on at least half of the items (an adapter written for another major version
    of the library: "onParse is not a function") is one cause, not one per behaviour it hit."""
    by_message: dict[str, list[Item]] = defaultdict(list)
    for item in failing:
        messages = {r.message for r in item.broken}
        if len(messages) == 1 and all(r.outcome is Outcome.ERROR for r in item.broken):
            by_message[messages.pop()].append(item)
    return [Cause(Counter(r.rule for i in found for r in i.broken).most_common(1)[0][0], SAME_ERROR, None,
                  found, inferred=False, what=f"every case alike: {message}")
            for message, found in by_message.items() if len(found) >= max(2, judged / 2)]


def _greedy(failing: list[Item], passing: list[Item]) -> list[Cause]:
    """First what fails with the body in one read, weighed against what passes in one read (a
    pass under a split may be another split bug's accident); then everything. A behaviour chosen
    in the first round claims its split failures too: one bug, one cause."""
    with_behaviour: dict[str, list[Item]] = defaultdict(list)
    for item in failing:
        for behaviour in item.behaviours:
            with_behaviour[behaviour].append(item)
    against = {b: sum(b in i.behaviours for i in passing) for b in with_behaviour}
    left = {id(i) for i in failing}
    chosen: list[Cause] = []
    whole = ([i for i in failing if i.in_one_read], [i for i in passing if i.in_one_read])
    for scope, contrast in (whole, (failing, passing)):
        while cause := _choose(scope, contrast, with_behaviour, left):
            cause.contradicted = against[cause.behaviour]
            left -= {id(i) for i in cause.items}
            chosen.append(cause)
    return chosen


def _choose(scope: list[Item], contrast: list[Item], with_behaviour: Mapping[str, list[Item]],
            left: set[int]) -> Cause | None:
    """The behaviour that explains the most failures of ``scope`` still left, less the items of
    ``contrast`` that pass with it (ties: see the module doc); it takes every failure left."""
    mine: dict[str, list[Item]] = defaultdict(list)
    for item in scope:
        if id(item) in left:
            for behaviour in item.behaviours:
                mine[behaviour].append(item)
    against = {b: sum(b in i.behaviours for i in contrast) for b in mine}

    def score(b: str) -> tuple[int, int, int, int]:
        listed = sum(_rule_of(b) in i.rules for i in mine[b])  # no contrast: the case's own rule
        return (len(mine[b]) - against[b], -against[b], listed, -(len(with_behaviour[b]) + against[b]))

    best = min(mine, key=lambda b: (tuple(-x for x in score(b)), _rank(b)), default=None)
    if best is None or score(best)[0] <= 0:
        return None
    claimed = [i for i in with_behaviour[best] if id(i) in left]
    rule = _rule_of(best)
    fix = BEHAVIOURS[best].fix if best in BEHAVIOURS else _coarse_fix(rule, claimed)
    what = BEHAVIOURS[best].what if best in BEHAVIOURS else ""
    return Cause(rule, best, fix, claimed, what=what)


def _unexplained(items: list[Item]) -> list[Cause]:
    """One entry per case no cause explains, on the rule its worst verdict names."""
    by_case: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_case[item.case].append(item)
    out = []
    for found in by_case.values():
        broken = [r for i in found for r in i.broken]
        first = min(broken, key=lambda r: SEVERITY.index(r.outcome))
        out.append(Cause(first.rule, first.rule, first.fix, found, inferred=False))
    return out


def _own_causes(items: list[Item]) -> list[Cause]:
    by_rule: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        for rule in {r.rule for r in item.broken}:
            by_rule[rule].append(item)
    return [Cause(rule, rule, next((r.fix for i in found for r in i.broken if r.fix), None), found,
                  inferred=False) for rule, found in by_rule.items()]


def leader(result: Result, broken_rules: Iterable[str]) -> str:
    """The rule whose finding a broken server result follows from (``extra["follows"]``: no event
    because no blank line ended one is S-09's), when that rule is broken too; else its own."""
    follows = result.extra.get("follows")
    return follows if follows in broken_rules else result.rule


def _server_causes(results: list[Result]) -> list[Cause]:
    """Server findings (no case): one per rule (with the verdicts that follow from its finding),
    and one per error message shared by rules."""
    found: dict[str, list[Result]] = {}
    broken_rules = {r.rule for r in results if not r.case and r.outcome in BROKEN}
    for result in results:
        if result.case or result.outcome not in BROKEN:
            continue
        key = f"error: {result.message}" if result.outcome is Outcome.ERROR else leader(result, broken_rules)
        found.setdefault(key, []).append(result)
    causes = []
    for key, rs in found.items():
        rs.sort(key=lambda r: r.rule != key)  # the finding first, then what follows from it
        causes.append(Cause(rs[0].rule, rs[0].rule, rs[0].fix, [], inferred=False, results=rs))
    return causes


Rerun = Callable[[str, str | None], str]


def from_docs(docs: Iterable[Mapping[str, Any]]) -> list[Result]:
    """Results from JSON result objects (a results document's), missing keys left empty."""
    keys = ("level", "case", "chunking", "expected", "actual", "evidence", "fix")
    return [Result(rule=d["rule"], outcome=d["outcome"], message=d.get("message", ""),
                   extra=dict(d.get("extra") or {}), **{k: d[k] for k in keys if d.get(k)})
            for d in docs]


# a result of no one item, and the selection that gives it again: P-10's probes run beside a
# case of megabytes (the smallest), not as a case, so not under -v (which traces one item)
RERUN_AS = {"P10-probe": "-k DA-013 --chunking whole"}


def rerun_command(target: str, case: str, chunking: str | None) -> str:
    """The command that runs just this item again, verbosely (``target`` already quoted)."""
    if case in RERUN_AS:
        return f"sse-conformance client {target} {RERUN_AS[case]}"
    where = f" --chunking {chunking}" if chunking else ""
    return f"sse-conformance client {target} -k {case}{where} -v"


def rerun_for(target: str, meta: Mapping[str, Any]) -> Rerun | None:
    """The re-run command of a report's items: the runner records how the command line names the
    client in ``meta["rerun_target"]`` (``--cmd '...' --capability reconnect``; None: it cannot,
    so no command); a report from before it, the target quoted."""
    import shlex

    if "rerun_target" in meta and not meta["rerun_target"]:
        return None
    named = meta.get("rerun_target") or shlex.quote(target)
    return lambda case, chunking: rerun_command(named, case, chunking)


def causes_json(causes: list[Cause], rerun: Rerun | None = None) -> list[dict[str, Any]]:
    """The JSON report's ``causes``: ``[{rule, level, fix, cases, evidence, ...}]``."""
    out = []
    for cause in causes:
        first = cause.evidence_result()
        evidence: dict[str, Any] = {
            key: value for key, value in (
                ("case", first.case), ("chunking", first.chunking), ("message", first.message),
                ("expected", first.expected), ("actual", first.actual), ("sent", first.evidence),
            ) if value
        }
        if rerun is not None and first.case:
            evidence["rerun"] = rerun(first.case, first.chunking)
        entry: dict[str, Any] = {
            "rule": cause.rule, "level": cause.level, "outcome": cause.outcome.value,
            "fix": cause.fix or "", "cases": cause.cases, "evidence": evidence,
            "inferred": cause.inferred, "behaviour": cause.behaviour,
            "items": len(cause.items) or len(cause.results), "chunkings": cause.chunkings(),
        }
        if cause.what:
            entry["what"] = cause.what
        if cause.contradicted:
            entry["contradicted"] = cause.contradicted
        out.append(entry)
    return out
