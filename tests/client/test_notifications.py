"""Capability notifications: open and error reported around reconnects and failures.

The pure parts first (reports in, the sequence out; the judge on built Observations), each
check failing a faulty client and passing a correct one; then real clients on 127.0.0.1, in
Python (worker processes behind the adapter protocol) and as a command, against the NT cases.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import naive_clients as nc
import pytest

from conformance.cases import SCHEMA_PATH as CASE_SCHEMA
from conformance.cases import load_cases
from conformance.cases.chunkings import chunking
from conformance.client.findings import notification_findings, placed
from conformance.client.judge import judge_run
from conformance.client.observation import EventCount, Invocation, Observation, absorb
from conformance.client.protocol import SCHEMA_PATH
from conformance.client.runner import CAPABILITIES
from conformance.client.slots import RecordedRequest
from conformance.client.targets import CommandTarget
from conformance.results import Outcome

WHOLE = chunking("whole")
CASES = {case.id: case for case in load_cases()}
NT_001 = ["open", "event", "error", "open", "event", "error", "error"]


def observed(*reports: dict, ended_by: str = "returned") -> Observation:
    """An Observation built from a client's reports, as every target fills one."""
    observation = Observation()
    for report in reports:
        assert not absorb(observation, "event", report, "generic")
    observation.ended_by = ended_by
    return observation


def requests(n: int) -> list[RecordedRequest]:
    return [RecordedRequest("GET", "/cases/x/whole", [], "", received=i, ended=i + 0.1) for i in range(n)]


OPEN, ERROR = {"open": True}, {"error": True}
A, B = {"data": "opened"}, {"data": "reconnected"}


# -- reports in, the sequence out -----------------------------------------------------------


def test_notifications_are_placed_among_the_events_they_came_between():
    observation = observed(OPEN, A, ERROR, OPEN, B, ERROR, ERROR)
    assert observation.notifications == [("open", 0), ("error", 1), ("open", 1), ("error", 2), ("error", 2)]
    assert observation.timeline() == NT_001
    assert placed(NT_001) == observation.notifications
    assert observation.opened  # an open notification is also capability open's report
    assert observed(A, B).timeline() == ["event", "event"] and placed(["event"]) == []


def test_an_end_with_an_error_reason_is_not_a_notification():
    """On the wire ``error`` is also an end message's reason: only without ``end`` does it notify."""
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    assert not list(validator.iter_errors({"seq": 1, "error": True}))
    assert not list(validator.iter_errors({"seq": 1, "end": "raised", "error": "status 500"}))
    assert list(validator.iter_errors({"seq": 1, "error": "status 500"}))  # a notification says true


def test_close_and_restart_count_events_only_never_notifications():
    closing = EventCount(Invocation("http://x", close_after_events=1))
    assert not closing.add(OPEN) and not closing.must_close()  # an open first closes nothing
    assert not closing.add(A) and closing.must_close()
    restarting = EventCount(Invocation("http://x", restart_after_events=1))
    assert not restarting.add(ERROR) and restarting.add(A) and not restarting.add(B)


# -- the judge, on built observations --------------------------------------------------------


def test_the_wpt_reconnect_sequence_passes_and_each_fault_fails_as_a_fact():
    case = CASES["NT-001"]
    right = observed(OPEN, A, ERROR, OPEN, B, ERROR, ERROR)
    assert notification_findings(case.expect.notifications, right) == []
    faults = {
        "no error before the reconnect": observed(OPEN, A, OPEN, B, ERROR, ERROR),
        "error before the body's event": observed(OPEN, ERROR, A, OPEN, B, ERROR, ERROR),
        "open after the first event": observed(A, OPEN, ERROR, OPEN, B, ERROR, ERROR),
        "an extra error": observed(OPEN, A, ERROR, ERROR, OPEN, B, ERROR, ERROR),
    }
    for why, observation in faults.items():
        (finding,) = notification_findings(case.expect.notifications, observation)
        assert not finding.provisional, why
        assert finding.expected == ", ".join(NT_001) and finding.actual == ", ".join(observation.timeline())
    (missing,) = notification_findings(case.expect.notifications, faults["no error before the reconnect"])
    assert missing.message == "notification #2 is open after event #1, expected error after event #1"


def test_a_missing_final_error_fails_on_a_fact_and_is_an_error_at_the_deadline():
    case = CASES["NT-001"]
    endings = (("deadline", Outcome.ERROR), ("returned", Outcome.FAIL), ("waiting", Outcome.FAIL))
    for ended_by, outcome in endings:
        observation = observed(OPEN, A, ERROR, OPEN, B, ERROR, ended_by=ended_by)
        judgement = case_judgement(case, observation, 3)
        assert {r.outcome for r in judgement} == {outcome}, ended_by
        message = judgement[0].message
        assert message.startswith("reported 4 of 5 notifications; first missing is error after event #2")


def test_a_failed_first_request_notifies_an_error_and_never_an_open():
    case = CASES["NT-004"]
    right = observed(ERROR)
    right.raised, right.ended_by = "InvalidStatus: 500", "raised"
    assert {r.outcome for r in case_judgement(case, right, 1)} == {Outcome.PASS}
    wrong = observed(OPEN, ERROR)
    wrong.raised, wrong.ended_by = "InvalidStatus: 500", "raised"
    result = case_judgement(case, wrong, 1)[0]
    assert result.outcome is Outcome.FAIL and "notification #1 is open before any event" in result.message
    assert "open each time a 200 text/event-stream response is accepted" in result.fix
    assert result.data["actual"]["notifications"] == ["open", "error"]


def test_a_redirect_is_no_error():
    case = CASES["NT-009"]
    assert notification_findings(case.expect.notifications, observed(OPEN, A, ERROR, ERROR)) == []
    (finding,) = notification_findings(case.expect.notifications, observed(ERROR, OPEN, A, ERROR, ERROR))
    assert finding.message.startswith("notification #1 is error before any event")


def test_a_run_is_covered_only_once_every_expected_notification_came():
    expect = CASES["NT-001"].expect
    assert not observed(OPEN, A, ERROR, OPEN, B, ERROR).covers(expect)
    assert observed(OPEN, A, ERROR, OPEN, B, ERROR, ERROR).covers(expect)


def case_judgement(case, observation, made):
    return judge_run(case, WHOLE, observation, requests(made))


# -- real clients on 127.0.0.1 ---------------------------------------------------------------

NT = tuple(sorted(c for c in CASES if c.startswith("NT-")))


def verdicts(run, target, cases=NT) -> tuple[dict[str, Outcome], dict[str, str]]:
    """Run only ``cases`` against ``target``: one outcome per case (its rules agree), and the
    message of each that did not pass."""
    report = run(target, rules=("(none: only the listed cases)",), only=cases)
    outcomes = {r.case: r.outcome for r in report.results}
    assert len({(r.case, r.outcome) for r in report.results}) == len(outcomes)
    return outcomes, {r.case: r.message for r in report.results if r.outcome is not Outcome.PASS}


def test_a_notifying_client_passes_every_case_it_can_run(run):
    outcomes, messages = verdicts(run, nc.notifying_client)
    assert outcomes.pop("NT-010") is Outcome.SKIP  # needs read-timeout, not declared
    assert outcomes == dict.fromkeys(set(NT) - {"NT-010"}, Outcome.PASS), messages


def test_a_client_silent_before_its_reconnects_fails_those_cases_only(run):
    outcomes, messages = verdicts(run, nc.silent_reconnect_client)
    failed = {case_id for case_id, outcome in outcomes.items() if outcome is Outcome.FAIL}
    assert failed == {"NT-001", "NT-002", "NT-003", "NT-007", "NT-008", "NT-009"}, messages
    assert messages["NT-001"].startswith("notification #2 is open after event #1, expected error after")


def test_a_client_announcing_every_response_fails_wherever_a_response_is_not_a_stream(run):
    """Every case ends with a 204 or another failure: an open reported for it fails them all."""
    outcomes, messages = verdicts(run, nc.opens_on_any_status_client)
    assert outcomes.pop("NT-010") is Outcome.SKIP
    assert outcomes == dict.fromkeys(set(NT) - {"NT-010"}, Outcome.FAIL), messages
    assert messages["NT-004"] == "notification #1 is open before any event, expected error before any event"


SCRIPT = Path(__file__).with_name("cmd_client.py")


@pytest.mark.parametrize(("mode", "outcome"), [("notify", Outcome.PASS), ("notify-silent", Outcome.FAIL)])
def test_a_command_client_prints_its_notifications_as_lines(run, mode, outcome):
    command = f"{sys.executable} {SCRIPT} {{url}} {mode}"
    target = CommandTarget(command, capabilities=frozenset({"notifications"}))
    outcomes, messages = verdicts(run, target, ("NT-004", "NT-005", "NT-006"))
    assert outcomes == dict.fromkeys(("NT-004", "NT-005", "NT-006"), outcome), messages


def test_every_list_of_capabilities_names_the_same_ones():
    """The runner's, the case schema's and the adapter protocol's (each a contract of its own)."""
    case_schema = json.loads(CASE_SCHEMA.read_text())
    protocol = json.loads(SCHEMA_PATH.read_text())
    ready = next(m for m in protocol["$defs"]["message"]["oneOf"] if m["title"] == "ready")
    announced = ready["properties"]["implementation"]["properties"]["capabilities"]["items"]["enum"]
    required = case_schema["$defs"]["case"]["properties"]["requires"]["items"]["enum"]
    assert set(CAPABILITIES) == set(announced) == set(required)
    assert "notifications" in CAPABILITIES
