"""Last-Event-ID: resume with no duplicate and no gap (S-19), whatever the header's case."""

from __future__ import annotations

import pytest
from refservers_support import fetch

RESUMABLE = ["/events?count=6", "/stream/agent-9?count=6", "/tasks/7/progress/stream"]


def _ids(events):
    return [e.id for e in events if e.event != "complete"]


@pytest.mark.parametrize("path", RESUMABLE)
def test_resume_after_each_id_has_no_duplicate_and_no_gap(base, path):
    _, full = fetch(base, path)
    ids = _ids(full)
    assert len(ids) >= 5
    for cut in (1, len(ids) // 2, len(ids) - 1):
        _, rest = fetch(base, path, headers={"Last-Event-ID": ids[cut - 1]})
        assert _ids(rest) == ids[cut:]
        assert [e.event for e in rest] == [e.event for e in full[cut:]]


@pytest.mark.parametrize("name", ["last-event-id", "LAST-EVENT-ID", "Last-Event-Id"])
def test_header_name_is_case_insensitive(base, name):
    _, rest = fetch(base, "/events?count=4", headers={name: "2"})
    assert _ids(rest) == ["3", "4"]


def test_resume_after_the_last_id_sends_only_complete(base):
    _, rest = fetch(base, "/events?count=3", headers={"Last-Event-ID": "3"})
    assert [e.event for e in rest] == ["complete"]


@pytest.mark.parametrize("value", ["", "bogus", "0", "-1", "٣"])
def test_an_id_never_sent_replays_from_the_start(base, value):
    _, events = fetch(base, "/events?count=3", headers={"Last-Event-ID": value.encode()})  # opaque UTF-8
    assert _ids(events) == ["1", "2", "3"]


def test_resume_keeps_the_event_data(base):
    _, rest = fetch(base, "/events?count=3", headers={"Last-Event-ID": "1"})
    assert rest[0].data.startswith('{"counter": 2, "message": "Agent update #2"')
