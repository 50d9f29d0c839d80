"""Every endpoint in ENDPOINTS streams the events its scenario promises, on both servers."""

from __future__ import annotations

import json

import pytest
from refservers_support import fetch, payloads

from conformance.sse import LineDecoder, LineKind
from reference_servers import ENDPOINTS, endpoint
from reference_servers.chat import reply_for
from reference_servers.scenarios import ANSWER, TASK_STEPS, THOUGHTS

_TOKENS = len(ANSWER.split())

# endpoint name -> the exact sequence of event types it must deliver
TYPES = {
    "events": ["message"] * 5 + ["complete"],
    "events-idle": ["message"] * 2 + ["complete"],
    "agent-messages": ["agent_message"] * 3,
    "agent-thinking": ["status"] + ["thought"] * len(THOUGHTS) + ["token"] * _TOKENS + ["complete"],
    "task-progress": ["progress"] * len(TASK_STEPS) + ["complete"],
    "stream-error": ["message", "error"],
}
GENERIC = [e for e in ENDPOINTS if e.profile == "generic"]
OPENAI = [e for e in ENDPOINTS if e.profile == "openai"]


def test_the_table_covers_every_scenario():
    assert {e.path for e in ENDPOINTS} >= {
        "/events", "/stream/agent-1", "/agent/stream", "/tasks/42/progress/stream", "/stream/error",
        "/stream/timeout", "/v1/chat/completions", "/chat/sse"}
    assert set(TYPES) | {"stream-timeout"} == {e.name for e in GENERIC}


@pytest.mark.parametrize("ep", GENERIC, ids=lambda e: e.name)
def test_generic_endpoint_streams_its_events(base, ep):
    response, events = fetch(base, ep.url_path, ep.method, ep.body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    types = [e.event for e in events]
    if ep.name == "stream-timeout":
        assert types[-1] == "error" and set(types[:-1]) == {"message"} and len(types) >= 2
        assert payloads(events)[-1] == {"error": "Stream timeout exceeded", "timeout": 0.1}
    else:
        assert types == TYPES[ep.name]
    assert all(isinstance(p, dict) for p in payloads(events))


@pytest.mark.parametrize("name", ["events", "agent-messages", "task-progress"])
def test_resumable_endpoints_number_every_event(base, name):
    ep = endpoint(name)
    assert ep.resumable
    _, events = fetch(base, ep.url_path)
    numbered = [e for e in events if e.event != "complete"]
    assert [e.id for e in numbered] == [str(n) for n in range(1, len(numbered) + 1)]


def test_events_data_carries_counter_message_and_timestamp(base):
    _, events = fetch(base, "/events?count=3")
    first = payloads(events)[0]
    assert first["counter"] == 1 and first["message"] == "Agent update #1"
    assert first["timestamp"].endswith("Z")
    assert payloads(events)[-1] == {"counter": 3, "message": "Stream complete"}


def test_agent_messages_name_their_agent(base):
    _, events = fetch(base, "/stream/robot-7?count=2")
    assert [p["agent_id"] for p in payloads(events)] == ["robot-7", "robot-7"]
    assert [p["sequence"] for p in payloads(events)] == [1, 2]


def test_task_progress_goes_to_100(base):
    _, events = fetch(base, "/tasks/abc/progress/stream")
    data = payloads(events)
    assert [d["progress"] for d in data[:-1]] == [p for _, p in TASK_STEPS]
    assert data[-1] == {"task_id": "abc", "final_status": "success"}


def test_agent_tokens_assemble_the_answer(base):
    _, events = fetch(base, "/agent/stream?query=hi")
    tokens = [json.loads(e.data)["token"] for e in events if e.event == "token"]
    assert "".join(tokens) == ANSWER


@pytest.mark.parametrize("ep", [e for e in OPENAI if not e.mid_stream_error], ids=lambda e: e.name)
def test_chat_streams_openai_chunks_then_done(base, ep):
    response, events = fetch(base, ep.url_path, ep.method, ep.body)
    assert response.status_code == 200
    assert events[-1].data == "[DONE]"
    chunks = [json.loads(e.data) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and isinstance(c["choices"], list) for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == reply_for(tuple(ep.body["messages"]))
    assert {e.event for e in events} == {"message"} and {e.id for e in events} == {""}
    body = response.content
    fields = {line.name for line in LineDecoder().feed(body) if line.kind is LineKind.FIELD}
    assert fields == {"data"}  # O-06: no id or event line for the openai SDK to trip on
    assert body.endswith(b"data: [DONE]\n\n") or body.endswith(b"data: [DONE]\r\n\r\n")


def test_chat_reply_is_deterministic_and_echoes_the_user(base):
    body = {"messages": [{"role": "system", "content": "be nice"}, {"role": "user", "content": "a\nb"}]}
    texts = []
    for _ in range(2):
        _, events = fetch(base, "/chat/sse", "POST", body)
        texts.append("".join(json.loads(e.data)["choices"][0]["delta"].get("content", "")
                             for e in events[:-1]))
    assert texts[0] == texts[1] == "You said: a\nb"


def test_stats_is_json(base):
    response, _ = fetch(base, "/stats")
    assert set(response.json()) == {"active_streams", "opened", "closed"}
