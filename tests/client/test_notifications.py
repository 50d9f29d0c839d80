"""Capability notifications: open and error reported around reconnects and failures.

The pure parts first (reports in, the sequence out; the judge on built Observations), each
check failing a faulty client and passing a correct one; then real clients on 127.0.0.1, in
Python (worker processes behind the adapter protocol) and as a command, against the NT cases.
"""

from __future__ import annotations

import json

import jsonschema

from conformance.client.observation import EventCount, Invocation, Observation, absorb, timeline
from conformance.client.protocol import SCHEMA_PATH

NT_001 = ["open", "event", "error", "open", "event", "error", "error"]


def observed(*reports: dict, ended_by: str = "returned") -> Observation:
    """An Observation built from a client's reports, as every target fills one."""
    observation = Observation()
    for report in reports:
        assert not absorb(observation, "event", report, "generic")
    observation.ended_by = ended_by
    return observation


OPEN, ERROR = {"open": True}, {"error": True}
A, B = {"data": "opened"}, {"data": "reconnected"}


# -- reports in, the sequence out -----------------------------------------------------------


def test_notifications_are_placed_among_the_events_they_came_between():
    observation = observed(OPEN, A, ERROR, OPEN, B, ERROR, ERROR)
    assert observation.notifications == [("open", 0), ("error", 1), ("open", 1), ("error", 2), ("error", 2)]
    assert observation.timeline() == NT_001
    assert observation.opened  # an open notification is also capability open's report
    assert timeline([], 2) == ["event", "event"]


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
