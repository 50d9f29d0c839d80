"""Reading a report for an entry's rule: the report's causes first, else a provisional ranking."""

from __future__ import annotations

from conformance.validation.verdict import read


def _result(rule: str, outcome: str, case: str) -> dict[str, str]:
    return {"rule": rule, "outcome": outcome, "case": case, "level": "must", "message": "", "spec": ""}


RESULTS = [
    _result("C-08", "fail", "LE-001"),
    _result("C-08", "fail", "LE-002"),
    _result("C-09", "fail", "LE-002"),
    _result("C-09", "pass", "LE-003"),
    _result("C-10", "pass", "LE-004"),
]


def test_without_causes_the_rule_with_most_failing_cases_comes_first() -> None:
    reading = read({"results": RESULTS, "summary": {"fail": 3}}, "C-09")
    assert (reading.first_rule, reading.basis) == ("C-08", "results")
    assert reading.rule_failed and reading.rule_ran
    assert reading.failing_rules == ("C-08", "C-09")


def test_the_reports_causes_decide_the_first_cause() -> None:
    causes = [{"rule": "C-09", "level": "must", "fix": "", "cases": ["LE-001", "LE-002"], "evidence": ""}]
    reading = read({"results": RESULTS, "causes": causes}, "C-09")
    assert (reading.first_rule, reading.basis) == ("C-09", "causes")
    assert reading.failing_rules[0] == "C-09"


def test_a_rule_with_no_judged_case_neither_fails_nor_counts_as_run() -> None:
    reading = read({"results": [_result("C-30", "skip", "ID-001")]}, "C-30")
    assert reading.first_rule is None and not reading.rule_failed and not reading.rule_ran


def test_with_causes_a_rule_fails_only_through_a_cause_on_it() -> None:
    """LE-002 lists C-09 too, but the only cause is C-08: C-09 holds."""
    causes = [{"rule": "C-08", "level": "must", "fix": "", "cases": ["LE-001", "LE-002"], "evidence": ""}]
    reading = read({"results": RESULTS, "causes": causes}, "C-09")
    assert reading.first_rule == "C-08" and not reading.rule_failed and reading.rule_ran
