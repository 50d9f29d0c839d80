"""The suite catches broken clients on the right rule, and passes correct ones on the same cases."""

import naive_clients as nc
import pytest
from conftest import failed_rules, run_cases

from conformance.results import Outcome

BAD = (Outcome.FAIL, Outcome.ERROR)

# (client, cases covering these rules, chunkings, the rule it must be failed on, profile)
BROKEN = [
    (nc.naive_client("needs-space"), ["C-15"], ("whole",), "C-15", "generic"),
    (nc.naive_client("strips-all-whitespace"), ["C-15"], ("whole",), "C-15", "generic"),
    (nc.naive_client("lf-only"), ["C-08"], ("whole",), "C-08", "generic"),
    (nc.naive_client("decode-per-chunk"), ["C-03"], ("whole", "utf8"), "C-03", "generic"),
    (nc.naive_client("dispatches-at-eof"), ["C-33"], ("whole",), "C-33", "generic"),
    (nc.naive_client("keeps-event-type"), ["C-23"], ("whole",), "C-23", "generic"),
    (nc.forgets_last_event_id, ["N-11"], ("whole",), "N-11", "generic"),
    (nc.openai_ignores_done, ["O-07"], ("whole",), "O-07", "openai"),
    (nc.openai_swallows_error, ["O-08"], ("whole",), "O-08", "openai"),
]


@pytest.mark.parametrize(
    ("client", "rules", "chunkings", "rule", "profile"),
    BROKEN,
    ids=[row[3] + "-" + row[0].__name__ for row in BROKEN],
)
def test_a_broken_client_fails_on_its_rule(client, rules, chunkings, rule, profile):
    report = run_cases(client, rules=rules, chunkings=chunkings, profile=profile, scale=0.3)
    assert rule in failed_rules(report), report.summary_line()
    failure = next(r for r in report.results if r.rule == rule and r.outcome is Outcome.FAIL)
    assert failure.expected and failure.actual and failure.spec.startswith("https://")
    assert failure.case and failure.chunking


def test_no_buffering_passes_whole_and_is_blamed_only_for_the_split():
    client = nc.naive_client("no-buffering")
    report = run_cases(client, rules=["C-08"], chunkings=("whole", "1-byte"), scale=1.0)
    whole = [r for r in report.results if r.chunking == "whole" and r.outcome is not Outcome.SKIP]
    assert whole and all(r.outcome is Outcome.PASS for r in whole)
    failing = {r.case for r in report.results if r.chunking == "1-byte" and r.outcome is Outcome.FAIL}
    blamed = {r.case for r in report.results if r.rule == "C-37" and r.outcome is Outcome.FAIL}
    assert failing and failing == blamed
    assert any("passes whole but fails split 1-byte" in r.message for r in report.results)


SPLITS = ("whole", "1-byte", "utf8", "crlf")
CONTROLS = [
    (nc.good_client, ["C-08", "C-15", "C-03", "C-33", "C-23"], SPLITS, "generic"),
    (nc.reconnecting_client, ["N-11", "N-12", "N-15"], ("whole",), "generic"),  # not RC-034: see below
    (nc.openai_client, ["O-07", "O-08", "O-09"], ("whole", "1-byte"), "openai"),
]


@pytest.mark.parametrize(
    ("client", "rules", "chunkings", "profile"), CONTROLS, ids=[row[0].__name__ for row in CONTROLS]
)
def test_a_correct_client_passes_the_same_cases(client, rules, chunkings, profile):
    # h11 refuses header values with outer spaces, so no httpx client can send RC-034's id.
    report = run_cases(client, rules=rules, chunkings=chunkings, profile=profile, exclude=("RC-034",))
    bad = [f"{r.name} {r.rule}: {r.message}" for r in report.results if r.outcome in BAD]
    assert not bad, bad[:5]
    assert any(r.outcome is Outcome.PASS for r in report.results)


def test_the_minimal_correct_client_passes_every_case_it_declares():
    report = run_cases(nc.good_client, chunkings=("whole",))
    assert report.ok and not [r for r in report.results if r.outcome is Outcome.WARN], report.summary_line()
    assert sum(r.outcome is Outcome.PASS for r in report.results) > 100
