"""The JSON values beside the rendered text stay bounded, whatever the case or the client sent."""

from __future__ import annotations

from conformance.cases.model import case_from_json
from conformance.client.observation import Observation
from conformance.results import Outcome, Result
from conformance.sse import Event
from conformance.structured import ACTUAL_EVENTS, EVIDENCE_BYTES, add_client_data, client_actual


def _case(events: list[str]) -> object:
    body = "".join(f"data: {data}\n\n" for data in events)
    raw = {"id": "DA-900", "description": "big", "rules": ["C-38"], "level": "must",
           "spec": "dispatchMessage", "connections": [{"stream": [{"text": body}]}],
           "expect": {"events": [{"data": data} for data in events]}}
    return case_from_json(raw, "test")


def test_a_huge_expected_event_is_cut_with_its_length_and_many_events_are_counted():
    big = "p" * (3 * EVIDENCE_BYTES)
    results = [Result("C-38", Outcome.PASS, "ok", case="DA-900", chunking="whole")]
    add_client_data(results, _case([big] + ["x"] * (ACTUAL_EVENTS + 10)))
    expected = results[0].data["expected"]
    assert expected["events"][0] == {"event": "message", "data": big[:EVIDENCE_BYTES], "id": "",
                                     "data_length": len(big)}
    assert len(expected["events"]) == ACTUAL_EVENTS and expected["event_count"] == ACTUAL_EVENTS + 11


def test_what_the_client_reported_is_cut_the_same_way():
    seen = Observation(events=[Event("message", "q" * (EVIDENCE_BYTES + 1), "")] * (ACTUAL_EVENTS + 1))
    actual = client_actual(seen, requests=1)
    assert actual["events"][0]["data_length"] == EVIDENCE_BYTES + 1
    assert len(actual["events"]) == ACTUAL_EVENTS and actual["event_count"] == ACTUAL_EVENTS + 1
