"""The oracle cross-check: the suite's parser, fed every chunking, agrees with each case.

Only cases whose outcome is a pure function of one body are checked: one connection, no
reconnection, no request expectations that only a live client can meet.
"""

from __future__ import annotations

import pytest

from conformance.cases import load_cases
from conformance.cases.chunkings import chunkings_for
from conformance.cases.oracle import assemble_openai, parse_connection


def _single_body(case) -> bool:
    return len(case.connections) == 1 and not case.reconnects and not case.expect.error


GENERIC = [c for c in load_cases(profile="generic") if _single_body(c) and c.connections[0].status == 200]
OPENAI = [c for c in load_cases(profile="openai") if len(c.connections) == 1]


@pytest.mark.parametrize("case", GENERIC, ids=lambda c: c.id)
def test_generic_case_matches_oracle(case):
    for chunking in chunkings_for(case):
        events, retry = parse_connection(case.connections[0], chunking)
        assert events == list(case.expect.events), chunking.name
        if case.expect.retry is not None:
            assert retry == case.expect.retry, chunking.name


@pytest.mark.parametrize("case", OPENAI, ids=lambda c: c.id)
def test_openai_case_matches_oracle(case):
    for chunking in chunkings_for(case):
        events, _ = parse_connection(case.connections[0], chunking)
        assembled = assemble_openai(events)
        assert assembled.error == bool(case.expect.error), chunking.name
        if not case.expect.error:
            assert assembled.done, chunking.name
            assert assembled.text == case.expect.text, chunking.name


def test_oracle_checks_a_real_share_of_the_corpus():
    # Guard against the filters above silently emptying the cross-check.
    assert len(GENERIC) >= len(load_cases(profile="generic")) // 2
