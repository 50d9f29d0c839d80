"""Cause inference on planted single-bug verdict sets: each bug yields exactly one cause, on its
rule; a correct parser yields none; what no behaviour explains stays listed on its own."""

from __future__ import annotations

import pytest
from planted import Planted

from conformance.cases import load_cases
from conformance.cases.chunkings import chunkings_for
from conformance.cases.model import Send
from conformance.causes import causes_json, infer
from conformance.results import ADAPTER_FAULT, Outcome, Result


def _eligible(case):
    only = case.connections[0] if len(case.connections) == 1 else None
    return (case.profile == "generic" and not case.requires and only is not None and not only.refused
            and not only.no_response and case.expect.error is None and only.body_length < 1 << 16
            and case.expect.requests is None)


CASES = [c for c in load_cases() if _eligible(c)]


def verdicts(bug):
    """One Result per rule of each case under each chunking, as the judge gives them (``bug``: one
    bug's name, a tuple of several, or None)."""
    results = []
    for case in CASES:
        for chunking in chunkings_for(case):
            parser = Planted(bug)
            events = [e for step in chunking.plan(case.connections[0]) if isinstance(step, Send)
                      for e in parser.feed(step.data)]
            ok = events == list(case.expect.events)
            for rule in case.rules:
                results.append(Result(rule=rule, outcome=Outcome.PASS if ok else Outcome.FAIL,
                                      message="ok" if ok else f"reported {events[:3]}", case=case.id,
                                      chunking=chunking.name, level=case.level))
    return results


def test_a_correct_parser_has_no_cause():
    assert infer(verdicts(None)) == []


@pytest.mark.parametrize(("bug", "rule", "behaviour"), [
    ("lf-only", "C-08", "cr"),
    ("id-only", "C-30", "id-only-block"),
    ("blank-split", "C-37", "split-blank"),
    ("mixed-read", "C-09", "mixed-read"),
    ("no-buffer", "C-37", "split-line"),
    ("crlf-split", "C-10", "split-crlf"),
    ("line-end-read", "C-37", "split-line-end"),
    ("sticky-cr", "C-09", "mixed-lf-blank"),  # eventsource-parser 2.0.1
    ("strip-read", "C-37", "split-whitespace"),  # sseclient-py 1.6
    ("cr-held", "C-10", "cr-at-end"),  # eventsource-parser 3.1.1
    ("block-id", "C-27", "inherited-id"),  # eventsource 5.1.0
    ("needs-space", "C-15", "no-space"),  # line.split(": ", 1): read as C-20 and C-21 without it
    ("drops-empty-data", "C-20", "empty-data-line"),  # stood alone per case in 4 libraries of REPORT
    ("rstrip-data", "C-20", "trailing-empty-data"),  # DA-002, DA-003, DA-005 alone in 2 libraries
])
def test_one_planted_bug_is_one_cause_on_its_rule(bug, rule, behaviour):
    results = verdicts(bug)
    assert any(r.outcome is Outcome.FAIL for r in results)
    causes = infer(results)
    assert [(c.rule, c.behaviour, c.inferred) for c in causes] == [(rule, behaviour, True)]
    failing = {r.case for r in results if r.outcome is Outcome.FAIL}
    assert set(causes[0].cases) == failing  # every failure explained by the one cause


def test_a_cause_seen_with_the_body_in_one_read_comes_before_one_seen_only_split():
    # eventsource-parser 2.0.1: mixed endings fail with the whole body in one read; a CRLF split
    # across reads (which 3.0.0-3.0.3 share) fails more cases, but only when a read splits it
    causes = infer(verdicts(("sticky-cr", "crlf-split")))
    assert [(c.rule, c.behaviour) for c in causes] == [("C-09", "mixed-lf-blank"), ("C-10", "split-crlf")]
    assert len(causes[1].cases) > len(causes[0].cases)  # so "most cases first" alone puts it first
    assert [c.in_one_read for c in causes] == [True, False]


def test_a_behaviour_seen_whole_claims_its_split_failures_too():
    (cause,) = infer(verdicts("lf-only"))
    assert {i.in_one_read for i in cause.items} == {True, False}  # one cause, not one per split


def test_the_evidence_is_the_smallest_failing_item_and_json_has_the_shape():
    results = verdicts("lf-only")
    (cause,) = infer(results)
    smallest = cause.smallest
    sizes = {c.id: c.connections[0].body_length for c in CASES}
    assert smallest.size == min(sizes[case] for case in cause.cases)
    (entry,) = causes_json([cause], rerun=lambda case, chunking: f"rerun {case} {chunking}")
    assert entry["rule"] == "C-08" and entry["level"] == "must" and entry["cases"] == cause.cases
    assert entry["evidence"]["rerun"] == f"rerun {smallest.case} {smallest.chunking}"
    assert "lone CR" in entry["fix"]


def test_a_failure_no_behaviour_explains_stays_on_its_own():
    # one case fails alone while every behaviour it exercises passes elsewhere: nothing explains it
    results = verdicts(None)
    for r in results:
        if r.case == "ET-005":
            r.outcome = Outcome.FAIL
    causes = infer(results)
    assert [(c.rule, c.inferred, c.cases) for c in causes] in (
        [("C-25", False, ["ET-005"])], [("C-25", True, ["ET-005"])])


def test_two_bugs_give_two_causes():
    lf, ids = verdicts("lf-only"), verdicts("id-only")
    both = [a if a.outcome is Outcome.FAIL else b for a, b in zip(lf, ids, strict=True)]
    assert sorted(c.rule for c in infer(both)) == ["C-08", "C-30"]


def test_the_json_report_carries_the_causes_and_fits_the_schema():
    from conformance.results import Report
    from conformance.schema import validate_report

    report = Report(kind="client", target="pkg.mod:fn", results=verdicts("id-only"))
    data = report.to_json()
    validate_report(data)
    (cause,) = data["causes"]
    assert (cause["rule"], cause["inferred"]) == ("C-30", True)
    assert cause["evidence"]["rerun"].startswith("sse-conformance client pkg.mod:fn -k ")
    ok = Report(kind="client", target="t", results=verdicts(None)).to_json()
    assert ok["causes"] == []


def test_one_error_on_most_items_is_one_cause_not_one_per_behaviour():
    results = verdicts(None)
    for r in results:
        if not r.case.startswith("ET-"):  # an adapter that cannot call the client at all
            r.outcome, r.message = Outcome.ERROR, "the client crashed: raised onParse is not a function"
    (cause,) = infer(results)
    assert (cause.behaviour, cause.inferred) == ("same-error", False)
    assert "onParse is not a function" in cause.what and len(cause.cases) == len(CASES) - 9


def test_output_the_suite_cannot_read_is_one_cause_of_its_own_never_a_behaviour():
    def unreadable(marked):
        results = verdicts("lf-only")
        for r in results:
            if r.case.startswith("LE-"):  # the adapter printed the raw stream on these: no JSON
                r.outcome, r.message = Outcome.ERROR, f"printed a line that is not JSON: {r.case}"
                r.expected = ADAPTER_FAULT if marked else None
        return results

    # unmarked, errors on the line-end cases read as a line-end behaviour (the control) ...
    assert any(c.inferred and c.cases and all(x.startswith("LE-") for x in c.cases)
               for c in infer(unreadable(False)))
    # ... marked, they are one cause with no behaviour, beside the real bug on the other cases
    causes = infer(unreadable(True))
    adapter = [c for c in causes if c.behaviour == "adapter"]
    assert len(adapter) == 1 and not adapter[0].inferred
    assert all(case.startswith("LE-") for case in adapter[0].cases)
    others = [c for c in causes if c not in adapter]
    assert [(c.rule, c.behaviour) for c in others] == [("C-08", "cr")]
    assert not any(case.startswith("LE-") for c in others for case in c.cases)


def test_a_server_verdict_that_follows_from_another_broken_rule_is_under_its_cause():
    def result(rule, outcome=Outcome.FAIL, follows=None):
        return Result(rule=rule, outcome=outcome, message=rule, fix=f"fix {rule}",
                      extra={"follows": follows} if follows else {})

    following = [result("S-23", Outcome.WARN, "S-09"), result("P-06", follows="S-09")]
    (cause,) = infer([*following, result("S-09")])  # the finding after its followers: still first
    assert (cause.rule, cause.fix, [r.rule for r in cause.results]) == ("S-09", "fix S-09",
                                                                        ["S-09", "S-23", "P-06"])
    # the rule they follow from passed: each is a finding of its own
    alone = infer([*following, result("S-09", Outcome.PASS)])
    assert sorted(c.rule for c in alone) == ["P-06", "S-23"]


@pytest.mark.parametrize(("failing", "passing", "rule", "behaviour"), [
    # aiohttp-based readers cap a line at 512 KiB: the megabyte lines fail, DA-015's 200 000 passes
    (("DA-013", "DA-014", "DA-017", "DA-018"), ("DA-015", "DA-001", "DA-016"), "C-38", "huge-line"),
    # a fetch that takes an empty Location for the same URL: the missing ones still fail it right
    (("HT-071", "HT-073"), ("HT-070", "HT-072", "HT-074"), "N-07", "empty-location"),
    # eventsource v2 retries a 5xx, as EventSource once did, and refuses every 4xx
    (("HT-039", "HT-040", "HT-041", "NT-004", "NT-008", "RC-026"), ("HT-035", "HT-036", "HT-037", "HT-038"),
     "N-04", "server-error"),
    # httpx-sse and fetch-event-source match the type case-sensitively: the lower-case ones pass
    (("HT-011", "HT-013"), ("HT-010", "HT-012", "HT-014", "HT-015"), "N-03", "type-case"),
    # eventsource v2 and v5, undici: an event typed error or open is taken for the connection's own
    (("ET-005", "ET-009"), ("ET-001", "ET-004", "ET-006", "ET-008"), "C-25", "reserved-type"),
    # fetch-event-source (issue #50) and aiosseclient add the LF only once data is buffered: an
    # empty first data line is lost; an empty middle or last one still counts
    (("DA-002", "DA-004", "LE-043", "LE-044"), ("DA-003", "DA-005", "LE-037", "LE-039"),
     "C-20", "leading-empty-data"),
    # httpx-sse waits for the byte after a CR: EOF flushes it, a pause with the stream open does not
    (("LE-031", "LE-032"), ("LE-015", "LE-018", "LE-025"), "C-10", "cr-before-pause"),
    # eventsource v2 followed 301, 302 and 307 only (v3 moved to fetch, which follows all five)
    (("HT-062", "HT-064"), ("HT-060", "HT-061", "HT-063"), "N-06", "other-redirect"),
])
def test_cases_a_library_fails_alone_today_share_a_behaviour(failing, passing, rule, behaviour):
    from conformance.client.items import chunkings_of

    cases = {c.id: c for c in load_cases()}
    items = [(cid, chunking.name) for cid in (*failing, *passing) for chunking in chunkings_of(cases[cid])]
    results = [Result(rule=r, outcome=Outcome.FAIL if cid in failing else Outcome.PASS, message=cid, case=cid,
                      chunking=chunking, level=cases[cid].level)
               for cid, chunking in items for r in cases[cid].rules]
    found = [(c.rule, c.behaviour, sorted(c.cases)) for c in infer(results)]
    assert found == [(rule, behaviour, sorted(failing))]
