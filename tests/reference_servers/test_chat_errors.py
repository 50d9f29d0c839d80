"""Chat endpoints fail mid-stream the way providers do (O-05), and bad input is a 400, not a stream."""

from __future__ import annotations

import json

import httpx
import pytest
from refservers_support import fetch, raw_request

from reference_servers.chat import tokens

CHAT_PATHS = ["/v1/chat/completions", "/chat/sse"]
MESSAGES = [{"role": "user", "content": "one two three four five"}]


@pytest.mark.parametrize("path", CHAT_PATHS)
@pytest.mark.parametrize("fail_after", [0, 2])
def test_openai_style_error_then_a_clean_end_without_done(base, path, fail_after):
    body = {"messages": MESSAGES, "fail_after": fail_after, "interval": 0}
    response = raw_request(base, "POST", path, body=json.dumps(body).encode())
    assert response.status == 200 and response.chunked_end
    _, events = fetch(base, path, "POST", body)
    payloads = [json.loads(e.data) for e in events]
    assert [p["object"] for p in payloads[:-1]] == ["chat.completion.chunk"] * (1 + fail_after)
    error = payloads[-1]["error"]
    assert {"message", "type", "code"} <= set(error) and error["message"]
    assert events[-1].event == "message"  # a bare data payload, as OpenAI sends it
    assert all(e.data != "[DONE]" for e in events)  # documented: no [DONE] after an error


def test_anthropic_style_error_is_an_error_event(base):
    body = {"messages": MESSAGES, "fail_after": 1, "error_style": "anthropic", "interval": 0}
    _, events = fetch(base, "/v1/chat/completions", "POST", body)
    assert events[-1].event == "error"
    assert json.loads(events[-1].data)["type"] == "error"
    assert [e.event for e in events[:-1]] == ["message", "message"]


def test_fail_after_past_the_reply_still_fails_at_the_end(base):
    body = {"messages": MESSAGES, "fail_after": 1000, "interval": 0}
    _, events = fetch(base, "/chat/sse", "POST", body)
    assert "error" in json.loads(events[-1].data)
    content = "".join(json.loads(e.data)["choices"][0]["delta"].get("content", "") for e in events[:-1])
    assert content == "You said: one two three four five"


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", b'{"messages": "hi"}', b'{"messages": [1]}',
    b'{"messages": [], "fail_after": -1}', b'{"messages": [], "fail_after": true}',
    b'{"messages": [], "error_style": "smoke"}', b'{"messages": [], "interval": 999}',
    b'{"messages": [], "model": 5}',
    # issue 12: each of these used to be a 200 with an aborted stream, or a 500 with a traceback
    b'{"messages": [{"role": "user", "content": "hi \\ud800"}]}',
    b'{"messages": [{"role": "user", "content": "hi"}], "model": "\\udfff"}',
    b'{"messages": [{"role": "user", "content": [{"text": 5}]}]}',
    b'{"messages": [{"role": "user", "content": [5]}]}',
    b'{"messages": [{"role": 1, "content": "hi"}]}',
    b'{"messages": [{"role": "user", "content": {"text": "hi"}}]}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"messages": [' + b"[" * 40 + b"]" * 40 + b"]}",
    b'{"messages": [], "x": "\xff\xfe"}',
], ids=lambda body: repr(body[:40]))
def test_bad_chat_bodies_are_a_json_400(base, body):
    response = httpx.post(base + "/chat/sse", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_content_parts_and_a_null_content_are_accepted(base):
    messages = [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}]},
                {"role": "assistant", "content": None}]
    _, events = fetch(base, "/chat/sse", "POST", {"messages": messages, "interval": 0})
    text = "".join(json.loads(e.data)["choices"][0]["delta"].get("content", "") for e in events[:-1])
    assert text == "You said: a " and events[-1].data == "[DONE]"


def test_a_585_kb_conversation_is_under_the_body_limit_and_streams(base):
    """The issue's slow request: a long history, a short question (the benchmark times it)."""
    history = [{"role": "user", "content": "word " * 1_000}] * 117  # 585 KB
    body = {"messages": [*history, {"role": "user", "content": "one two"}], "interval": 0}
    response, events = fetch(base, "/chat/sse", "POST", body)
    assert response.status_code == 200 and events[-1].data == "[DONE]"
    assert len(events) == 1 + len(tokens("You said: one two")) + 2  # role, tokens, stop, [DONE]


@pytest.mark.parametrize("query", ["count=abc", "count=-1", "interval=nan", "interval=1e9",
                                   "heartbeat=x", "count=99999999", "heartbeat=1e-7",
                                   "interval=0.0000001", "count=" + "9" * 5000])
def test_bad_query_parameters_are_a_json_400(base, query):
    response = httpx.get(f"{base}/events?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["error"]["message"]


def test_chat_is_post_only(base):
    response = httpx.get(base + "/v1/chat/completions")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/stream/a%ED%A0%80b?count=1", "/agent/stream?query=%ED%A0%80"])
def test_undecodable_path_or_query_text_never_crashes_the_stream(base, path):
    """Bytes that are not UTF-8 are refused or replaced, never a crash mid-stream."""
    response = raw_request(base, "GET", path)
    assert response.status == 400 or response.chunked_end
