"""The corpus is well-formed: schema-valid, unique stable IDs, known rules, full coverage."""

from __future__ import annotations

import json
import re
from collections import Counter

import jsonschema
import pytest

from conformance.cases import SCHEMA_PATH, case_files, load_cases
from conformance.rules import RULES

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

# Rules a case file must cover: every parsing rule, and the connection rules that apply outside
# a browser (N-17 URL handling and N-18 CORS are browser API rules).
REQUIRED_RULES = [f"C-{n:02d}" for n in range(1, 40)] + [f"N-{n:02d}" for n in (*range(1, 17), 19)]


def test_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.name)
def test_file_validates_against_schema(path, raw_files):
    jsonschema.Draft202012Validator(SCHEMA).validate(raw_files[path])


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.name)
def test_area_matches_file_name(path, raw_files):
    assert raw_files[path]["area"] == path.stem


# IDs that were published and then withdrawn because their expectation changed. They must never
# come back with another meaning; the replacement case has a new ID.
RETIRED_IDS = {
    "HT-050": "first-request 204 also required an error; now HT-052",
    "RC-017": "500 on reconnect left the failure unjudged; now RC-026",
    "RC-018": "wrong type on reconnect left the failure unjudged; now RC-027",
    "RT-016": "retry 5000 slowed reconnecting clients; now RT-023",
    "RT-017": "retry 5000 slowed reconnecting clients; now RT-024",
    "OA-014": "the chunk lost to the BOM carried no content; now OA-025",
    "RT-020": "a client honouring a 20-digit retry never reached the final 204; now RT-025",
    "FL-011": "its reconnect had to send an id with a trailing space; now FL-024 and RC-034",
    "ID-014": "its reconnect had to send an id with a leading space; now ID-018 and RC-034",
}


def test_retired_ids_are_never_reused():
    assert [case.id for case in load_cases() if case.id in RETIRED_IDS] == []


def test_ids_unique_across_files():
    counts = Counter(case.id for case in load_cases())
    assert [case_id for case_id, n in counts.items() if n > 1] == []


def test_rule_ids_exist():
    unknown = {(case.id, rule) for case in load_cases() for rule in case.rules if rule not in RULES}
    assert unknown == set()


def test_descriptions_short_and_plain():
    bad = [
        case.id
        for case in load_cases()
        if len(case.description) >= 70 or re.search(r"\bshould\b", case.description, re.I)
    ]
    assert bad == []



def test_every_required_rule_is_covered():
    covered = {rule for case in load_cases() for rule in case.rules}
    assert [rule for rule in REQUIRED_RULES if rule not in covered] == []


def test_openai_rules_are_covered():
    covered = {rule for case in load_cases(profile="openai") for rule in case.rules}
    assert {"O-07", "O-08", "O-09"} <= covered


@pytest.mark.parametrize("case", load_cases(), ids=lambda c: c.id)
def test_case_is_coherent(case):
    """Cross-field rules the schema cannot say: requirements match what the case uses."""
    needs = {
        "post": case.client.method != "GET" or case.client.body is not None,
        "headers": bool(case.client.headers),
        "last-event-id": case.client.last_event_id is not None,
        "close": case.client.close_after_events is not None,
        "read-timeout": case.client.read_timeout_ms is not None,
        "restart": case.client.restart_after_events is not None,
        "retry": case.expect.max_reconnect_delay_ms is not None,
        "open": case.expect.open,
        "comments": case.expect.comments is not None,
        "notifications": case.expect.notifications is not None,
        "reconnect": case.expect.min_reconnect_delay_ms is not None
        or sum(c.status not in (301, 302, 303, 307, 308) for c in case.connections) > 1,
    }
    assert [cap for cap, used in needs.items() if used and cap not in case.requires] == []
    if case.profile == "openai":
        assert case.expect.text is not None or case.expect.error
    else:
        assert case.expect.text is None


def test_notification_sequences_place_every_event_and_wait_for_the_client():
    """``event`` stands for each expected event, in the same number; and a notification case
    counts requests, so the runner waits for the client's own end instead of stopping at the
    final 204, before the error notification it owes for it."""
    cases = [case for case in load_cases() if case.expect.notifications is not None]
    assert len(cases) >= 9
    for case in cases:
        assert case.expect.notifications.count("event") == len(case.expect.events), case.id
        assert case.expect.requests is not None, case.id


def test_each_file_has_its_own_id_prefix():
    prefixes: dict[str, set[str]] = {}
    for case in load_cases():
        prefixes.setdefault(case.area, set()).add(case.id.split("-")[0])
    assert all(len(found) == 1 for found in prefixes.values()), prefixes
    flat = [next(iter(found)) for found in prefixes.values()]
    assert len(flat) == len(set(flat))


def test_spec_anchors_are_known():
    anchors = {rule.anchor for rule in RULES.values()}
    unknown = {(c.id, c.spec) for c in load_cases() if c.spec not in anchors and not c.spec.startswith("https://")}
    assert unknown == set()


def test_readme_lists_every_file_with_its_prefix():
    readme = (SCHEMA_PATH.parent / "README.md").read_text(encoding="utf-8")
    for case in load_cases():
        assert f"`{case.area}.json` | {case.id.split('-')[0]} |" in readme, case.area


def test_each_case_lists_the_behaviours_its_bytes_exercise():
    """``exercises`` is data a runner in any language reads; it must agree with the bytes."""
    from conformance.cases.behaviours import static_behaviours

    wrong = {c.id: (sorted(c.exercises), sorted(static_behaviours(c))) for c in load_cases()
             if set(c.exercises) != static_behaviours(c)}
    assert wrong == {}


def _behaviours_of(*connections: dict) -> frozenset[str]:
    """What ``static_behaviours`` finds in a case of these connections (JSON, as in the corpus)."""
    from conformance.cases.behaviours import static_behaviours
    from conformance.cases.model import case_from_json

    return static_behaviours(case_from_json({
        "id": "XX-001", "description": "x", "rules": ["C-01"], "level": "must", "spec": "#x",
        "connections": list(connections), "expect": {"events": []}}, "x"))


@pytest.mark.parametrize(("body", "reserved"), [
    ("event: error\ndata: x\n\n", True),  # the server's event named as the connection's own
    ("event: open\r\ndata: x\r\n\r\n", True),
    ("event: error\nevent: x\ndata: y\n\n", False),  # the last event line names the event
    ("event: open\n\ndata: y\n\n", False),  # a block without data dispatches nothing
    ("event: Error\ndata: x\n\n", False),  # another type: the names are exact
])
def test_reserved_type_is_an_event_named_error_or_open(body, reserved):
    assert ("reserved-type" in _behaviours_of({"stream": [{"text": body}]})) is reserved


@pytest.mark.parametrize(("body", "leading"), [
    ("data:\ndata: more\n\n", True),  # fetch-event-source issue #50: "more", not "\nmore"
    ("data\r\ndata\r\n\r\n", True),  # two empty lines: one LF
    ("data: a\ndata:\ndata: b\n\n", False),  # an empty middle line
    ("data:\n\n", False),  # alone it is empty-data, with no LF to lose
])
def test_leading_empty_data_is_an_empty_first_data_line_before_others(body, leading):
    assert ("leading-empty-data" in _behaviours_of({"stream": [{"text": body}]})) is leading


@pytest.mark.parametrize(("stream", "at_end", "before_pause"), [
    ([{"text": "data: x\r\r"}, {"hold_open": True}], True, True),  # silence, the stream open
    ([{"text": "data: x\r\r"}, {"sleep_ms": 50}, {"text": "data: y\r\r"}], True, True),
    ([{"text": "data: x\r\r"}], True, False),  # only at the end of the body
    ([{"text": "data: x\r\r"}, {"sleep_ms": 50}, {"text": "\ndata: y\n\n"}], False, False),  # an LF came
])
def test_cr_before_pause_is_a_cr_at_end_with_the_stream_still_open(stream, at_end, before_pause):
    found = _behaviours_of({"stream": stream})
    assert ("cr-at-end" in found, "cr-before-pause" in found) == (at_end, before_pause)


@pytest.mark.parametrize(("status", "location", "other"), [
    (303, "/next", True), (308, "/next", True),
    (307, "/next", False),  # followed by every reader that follows any
    (308, "", False),  # no place to go: empty-location (N-07)
])
def test_other_redirect_is_a_303_or_308_with_somewhere_to_go(status, location, other):
    redirect = {"status": status, "headers": {"Location": location}, "stream": []}
    assert ("other-redirect" in _behaviours_of(redirect, {"stream": [{"text": "data: a\n\n"}]})) is other
