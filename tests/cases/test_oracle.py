"""The oracle cross-check: the suite's parser, fed every chunking, agrees with each case.

Generic cases run through :func:`simulate` (the oracle parser inside a spec-following
reconnecting client), so reconnection cases are checked too: events across connections, the
number of requests, failure, and the Last-Event-ID each request must or must not carry.
OpenAI cases are assembled from the oracle's events and compared with the expected text.
"""

from __future__ import annotations

import pytest

from conformance.cases import load_cases
from conformance.cases.chunkings import chunkings_for
from conformance.cases.oracle import assemble_openai, parse_connection, simulate

GENERIC = load_cases(profile="generic")
OPENAI = load_cases(profile="openai")


def _last_event_id_expectation(expect_request) -> str | bool | None:
    """The Last-Event-ID a request must carry: a value, None (absent), or False (not judged)."""
    if expect_request is None:
        return False
    for name, value in expect_request.headers.items():
        if name.lower() == "last-event-id":
            return value
    if any(name.lower() == "last-event-id" for name in expect_request.absent_headers):
        return None
    return False


@pytest.mark.parametrize("case", GENERIC, ids=lambda c: c.id)
def test_generic_case_matches_oracle(case):
    expect = case.expect
    for chunking in chunkings_for(case):
        sim = simulate(case, chunking)
        assert sim.events == list(expect.events), chunking.name
        if expect.retry is not None:
            assert sim.retry == expect.retry, chunking.name
        if expect.requests is not None:
            assert sim.requests == expect.requests, chunking.name
        if expect.error is not None:
            assert sim.error == expect.error, chunking.name
        if expect.comments is not None:
            assert sim.comments == list(expect.comments), chunking.name
        if expect.notifications is not None:
            assert sim.notifications == list(expect.notifications), chunking.name
        for connection, sent in zip(case.connections, sim.sent_last_event_ids, strict=False):
            wanted = _last_event_id_expectation(connection.expect_request)
            if wanted is not False:
                # Header values compare after trimming, as HTTP strips outer whitespace.
                assert (sent.strip(" \t") if sent else sent) == wanted, chunking.name


@pytest.mark.parametrize("case", OPENAI, ids=lambda c: c.id)
def test_openai_case_matches_oracle(case):
    assert len(case.connections) == 1
    for chunking in chunkings_for(case):
        events, _ = parse_connection(case.connections[0], chunking)
        assembled = assemble_openai(events)
        assert assembled.error == bool(case.expect.error), chunking.name
        if not case.expect.error:
            assert assembled.done, chunking.name
            assert assembled.text == case.expect.text, chunking.name


def test_reconnection_cases_are_cross_checked():
    # The simulation must reach beyond single bodies, or the reconnection corpus goes unchecked.
    assert sum(len(case.connections) > 1 for case in GENERIC) >= 20
