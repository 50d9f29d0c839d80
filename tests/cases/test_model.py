"""The loader and model apply the format's defaults and build bytes the way the README says."""

from __future__ import annotations

import json

import pytest

from conformance.cases import CaseFileError, case_files, load_case_file, load_cases, matches
from conformance.cases.model import (
    Abort,
    Connection,
    HoldOpen,
    Send,
    Sleep,
    case_from_json,
)
from conformance.sse import Event

MINIMAL = {
    "id": "XX-001",
    "description": "minimal",
    "rules": ["C-08"],
    "level": "must",
    "spec": "parsing-an-event-stream",
    "connections": [{"stream": [{"text": "data: \u20ac"}, {"hex": "0a 0a"}]}],
    "expect": {"events": [{"data": "\u20ac"}]},
}


def test_defaults_are_applied():
    case = case_from_json(MINIMAL, "area")
    conn = case.connections[0]
    assert (case.profile, case.requires, case.chunkings) == ("generic", (), None)
    assert (conn.status, dict(conn.headers)) == (200, {"Content-Type": "text/event-stream"})
    assert case.client.method == "GET" and case.client.last_event_id is None
    assert case.expect.events == (Event("message", "\u20ac", ""),)
    assert case.expect.error is None and case.expect.requests is None


def test_explicit_empty_headers_replace_the_default():
    conn = Connection.from_json({"headers": {}, "status": 204})
    assert dict(conn.headers) == {} and conn.status == 204


def test_text_hex_and_repeat_become_one_byte_run():
    conn = Connection.from_json(
        {"stream": [{"text": "data: "}, {"text": "ab", "repeat": 3}, {"hex": "0A0a"}, {"sleep_ms": 5},
                    {"hex": "ef bb", "repeat": 2}, {"abort": True}]}
    )
    assert conn.runs() == [b"data: ababab\n\n", Sleep(5), b"\xef\xbb\xef\xbb", Abort()]
    assert conn.body_bytes() == b"data: ababab\n\n\xef\xbb\xef\xbb"
    assert conn.byte_runs() == [b"data: ababab\n\n", b"\xef\xbb\xef\xbb"]
    assert conn.stream[0] == Send(b"data: ")


def test_held_open_is_detected():
    assert Connection.from_json({"stream": [{"text": "x"}, {"hold_open": True}]}).ends_held_open
    assert not Connection.from_json({"stream": [{"text": "x"}]}).ends_held_open
    assert Connection.from_json({"stream": [{"hold_open": True}]}).stream == (HoldOpen(),)


def test_repeated_expected_data_is_expanded():
    big = case_from_json({**MINIMAL, "expect": {"events": [{"data": {"text": "xy", "repeat": 4}}]}}, "a")
    assert big.expect.events[0].data == "xyxyxyxy"


def test_selection_by_profile_and_pattern():
    every = load_cases()
    openai = load_cases(profile="openai")
    assert openai and all(c.profile == "openai" for c in openai)
    assert len(load_cases(profile="generic")) + len(openai) == len(every)
    assert [c.id for c in load_cases(pattern="LE-02?")] == [f"LE-{n:03d}" for n in range(20, 30)]
    assert all("bom" in c.description.lower() or "bom" in c.id.lower() for c in load_cases(pattern="BOM"))
    assert load_cases(pattern="no case has this text") == []


def test_matches_is_case_insensitive_over_id_and_description():
    case = case_from_json(MINIMAL, "area")
    assert matches(case, "xx-001") and matches(case, "MINI") and matches(case, "xx-*")
    assert not matches(case, "xx-002")


def test_case_files_exclude_the_schema():
    names = [p.name for p in case_files()]
    assert "case.schema.json" not in names and "openai.json" in names


def test_a_broken_file_is_reported_with_its_path_and_place(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"area": "bad", "description": "d", "cases": [{**MINIMAL, "level": "maybe"}]}))
    with pytest.raises(CaseFileError, match=r"bad\.json: at cases/0/level"):
        load_case_file(bad)
    bad.write_text("{")
    with pytest.raises(CaseFileError, match="not valid JSON"):
        load_case_file(bad)


def test_a_bundled_file_an_edit_broke_is_still_named_with_its_place(tmp_path):
    # the package's own files are read without the schema (the corpus test checks them); one
    # that no longer reads gets the schema's message, not a traceback
    from conformance.cases import _bundled_file

    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps({"area": "bad", "description": "d", "cases": [{"id": "X-001"}]}))
    with pytest.raises(CaseFileError, match=r"broken\.json: at cases/0: .* is a required property"):
        _bundled_file(bad)


@pytest.mark.parametrize(
    ("text", "sets"),
    [
        ("retry: 10\n\n", True),
        ("data: x\r\nretry\r\n", True),  # a retry field without a value is still the field
        ("data: x\rretry:1000x", True),  # a bogus value too, and at EOF
        ("data: retry: 10\n\n", False),  # inside a value
        ("retryx: 10\n\n", False),  # another field's name
        (":retry: 10\n\n", False),  # a comment
    ],
)
def test_a_connection_sets_retry_only_with_a_line_whose_field_is_retry(text, sets):
    assert Connection.from_json({"stream": [{"text": text}]}).sets_retry is sets
