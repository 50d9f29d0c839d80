"""A report row runs for minutes: its log shows how far it got, a tenth at a time."""

from __future__ import annotations

from conformance.report.run import tenths
from conformance.results import Outcome, Result


def result(outcome: Outcome) -> Result:
    return Result(rule="C-01", outcome=outcome, message="", case="LE-001", chunking="whole")


def test_a_line_at_each_tenth_with_the_items_failing_so_far():
    lines: list[str] = []
    tick = tenths("client x (generic)", 20, lines.append)
    for n in range(20):
        tick(None, [result(Outcome.PASS), result(Outcome.FAIL if n % 4 == 0 else Outcome.PASS)])
    assert lines[0] == "  client x (generic): 2/20 items, 1 failing"
    assert lines[-1] == "  client x (generic): 18/20 items, 5 failing"
    assert len(lines) == 9  # the summary line says the last tenth


def test_a_row_of_few_items_says_each_one():
    lines: list[str] = []
    tick = tenths("client y (openai)", 3, lines.append)
    for _ in range(3):
        tick(None, [result(Outcome.ERROR)])
    assert lines == ["  client y (openai): 1/3 items, 1 failing", "  client y (openai): 2/3 items, 2 failing"]
