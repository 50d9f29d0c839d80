"""What one JSON report says about one rule: the run's first cause, and whether the rule held.

The first cause is ``causes[0].rule`` when the report carries the ``causes`` list (most cases
first). A report without it (a suite from before cause inference) gets a provisional one from
its results: the failing rule with the most distinct failing cases, ties in catalogue order.
That stand-in files a failure under every rule its case lists, so it can name a neighbour; the
outcome records which basis it used.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ..rules import RULES

__all__ = ["Reading", "read"]

_FAILED = frozenset({"fail", "error"})
_ORDER = {rule_id: n for n, rule_id in enumerate(RULES)}


@dataclass(frozen=True)
class Reading:
    """One report read for one rule."""

    first_rule: str | None  # the run's first cause; None when nothing failed
    basis: str  # "causes" (the report's own) or "results" (provisional)
    rule_failed: bool  # the entry's rule broken: a cause on it, else (no causes) a failing result
    rule_ran: bool  # some case of the rule was judged (pass or fail), so "holds" means something
    failing_rules: tuple[str, ...]  # every failing rule, first cause first
    summary: dict[str, int]
    failing_cases: dict[str, list[str]]  # rule -> the cases failing it, to show what was seen

    def to_json(self) -> dict[str, Any]:
        return {
            "first_rule": self.first_rule,
            "basis": self.basis,
            "rule_failed": self.rule_failed,
            "rule_ran": self.rule_ran,
            "failing_rules": list(self.failing_rules),
            "summary": self.summary,
            "failing_cases": self.failing_cases,
        }


def _cases_by_rule(results: list[dict[str, Any]]) -> dict[str, set[str]]:
    failing: dict[str, set[str]] = defaultdict(set)
    for n, result in enumerate(results):
        if result.get("outcome") in _FAILED:
            failing[result["rule"]].add(result.get("case") or f"#{n}")
    return failing


def _ranked(failing: dict[str, set[str]]) -> list[str]:
    return sorted(failing, key=lambda rule_id: (-len(failing[rule_id]), _ORDER.get(rule_id, 999), rule_id))


def read(report: dict[str, Any], rule: str) -> Reading:
    """Read ``report`` (a ``--json-report`` document) for the entry rule ``rule``."""
    results = report.get("results", [])
    failing = _cases_by_rule(results)
    causes = report.get("causes")
    if isinstance(causes, list):
        cause_rules = [c.get("rule") for c in causes if isinstance(c, dict) and c.get("rule")]
        ranked = cause_rules + [r for r in _ranked(failing) if r not in cause_rules]
        basis, first = "causes", (cause_rules[0] if cause_rules else None)
        rule_failed = rule in cause_rules  # a failure is filed under every rule its case lists
    else:
        ranked = _ranked(failing)
        basis, first = "results", (ranked[0] if ranked else None)
        rule_failed = rule in failing
    rule_ran = any(r.get("rule") == rule and r.get("outcome") in ("pass", *_FAILED) for r in results)
    cases = {rule_id: sorted(failing[rule_id]) for rule_id in ranked if rule_id in failing}
    summary = dict(report.get("summary", {}))
    return Reading(first, basis, rule_failed, rule_ran, tuple(ranked), summary, cases)
