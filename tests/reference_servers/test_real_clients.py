"""The strictest real consumers read the reference servers without trouble: the openai SDK (which
crashes on id-plus-keep-alive streams) and httpx-sse (the de facto Python client)."""

from __future__ import annotations

import pytest

from reference_servers.chat import reply_for

openai = pytest.importorskip("openai")
httpx_sse = pytest.importorskip("httpx_sse")

MESSAGES = [{"role": "user", "content": "Is it sunny in Tokyo?"}]


def _client(base: str):
    return openai.OpenAI(base_url=base + "/v1", api_key="not-needed", max_retries=0, timeout=10)


def test_openai_sdk_assembles_the_stream_through_heartbeats(base):
    # 0.08 s between tokens and 0.05 s heartbeats: comments interleave with the chunks
    stream = _client(base).chat.completions.create(
        model="reference-echo-1", messages=MESSAGES, stream=True, extra_body={"interval": 0.08})
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == reply_for(tuple(MESSAGES))


def test_openai_sdk_raises_on_the_mid_stream_error(base):
    stream = _client(base).chat.completions.create(
        model="reference-echo-1", messages=MESSAGES, stream=True,
        extra_body={"fail_after": 2, "interval": 0})
    with pytest.raises(openai.APIError, match="failed mid-stream"):
        for _ in stream:
            pass


def test_httpx_sse_reads_events_with_ids(base):
    import httpx

    with httpx.Client(timeout=10) as client, \
            httpx_sse.connect_sse(client, "GET", base + "/events?count=3&interval=0.08") as source:
        events = [(sse.event, sse.id) for sse in source.iter_sse() if sse.data]
    # httpx-sse turns every blank line after an id (our heartbeats) into an empty event
    # (ecosystem §1): only events with data are real ones
    assert events == [("message", "1"), ("message", "2"), ("message", "3"), ("complete", "3")]
