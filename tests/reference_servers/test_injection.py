"""An echoed query can never inject a field: CR, LF, NUL and field-looking text stay data."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from refservers_support import fetch

from conformance.sse import LineDecoder, LineKind
from reference_servers.scenarios import ANSWER, THOUGHTS

PAYLOADS = [
    "\ndata: injected",
    "\r\nevent: evil\r\n\r\ndata: x",
    "a\rb",
    "line1\nline2\r\nline3",
    "nul\x00byte",
    "id: 99\n\nretry: 1",
    ": not a comment",
    "\u2028\u0085 unicode line separators",
    "",
]
EXPECTED = ["status"] + ["thought"] * len(THOUGHTS) + ["token"] * len(ANSWER.split()) + ["complete"]


@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_agent_query_is_echoed_intact_in_exactly_one_event(base, payload):
    response, events = fetch(base, f"/agent/stream?interval=0&query={quote(payload)}")
    assert [e.event for e in events] == EXPECTED
    assert {e.id for e in events} == {""}
    carrying = [e for e in events if "query" in json.loads(e.data)]
    assert len(carrying) == 1 and carrying[0].event == "status"
    assert json.loads(carrying[0].data)["query"] == payload
    fields = [line for line in LineDecoder().feed(response.content) if line.kind is LineKind.FIELD]
    assert {f.name for f in fields} == {"event", "data"}
    assert sum(f.name == "data" for f in fields) == len(EXPECTED)  # one data line per event


@pytest.mark.parametrize("agent_id", ["a%0Adata:%20x", "%0D%0Aevent:%20evil"])
def test_agent_id_in_the_path_stays_data(base, agent_id):
    _, events = fetch(base, f"/stream/{agent_id}?count=2")
    assert [e.event for e in events] == ["agent_message", "agent_message"]
    assert all("\n" in json.loads(e.data)["agent_id"] or "\r" in json.loads(e.data)["agent_id"]
               for e in events)
