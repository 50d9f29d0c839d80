"""Property tests: arbitrary requests at both reference servers (issue 12).

Whatever the method, path, query, Last-Event-ID or body, every answer is either a 4xx with a
JSON error or a well-formed event stream that ends cleanly on an event boundary, with only the
fields and event types the server means to send; ``/stats`` is back to 0 active streams; and the
servers log no warning or error (no traceback).
Numbers that set durations are drawn from short or invalid values, so no example waits long.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.sse import EventParser, LineDecoder, LineKind

PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
TYPES = {"message", "complete", "agent_message", "status", "thought", "token", "progress", "error"}
FIELDS = {"event", "data", "id"}
STATS_BOUND = 5.0

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=30)  # lone surrogates too
SECONDS = st.sampled_from(["0", "0.001", "0.02", "1e-7", "-1", "nan", "inf", "x", "", "1e9", "61"])
QUERY_VALUES = {
    "interval": SECONDS, "heartbeat": SECONDS,
    "timeout": st.sampled_from(["0", "0.05", "0.2", "-1", "x", "1e9", "nan"]),
    "count": st.one_of(st.integers(-3, 20).map(str), st.sampled_from(["", "x", "1e3", "9" * 5000])),
    "query": ANY_TEXT,
}
QUERY = st.dictionaries(st.one_of(st.sampled_from(sorted(QUERY_VALUES)), ANY_TEXT.filter(
    lambda key: key not in QUERY_VALUES)), st.just(""), max_size=4)
SEGMENT = ANY_TEXT.map(lambda text: quote(text.encode("utf-8", "surrogatepass"), safe=""))
PATH = st.one_of(
    st.sampled_from(["/events", "/stream/error", "/stream/timeout", "/agent/stream",
                     "/v1/chat/completions", "/chat/sse"]),
    SEGMENT.map(lambda s: f"/stream/{s}"),
    SEGMENT.map(lambda s: f"/tasks/{s}/progress/stream"),
    SEGMENT.map(lambda s: f"/{s}"),
)
LAST_EVENT_ID = st.one_of(
    st.none(), st.integers(0, 6000).map(lambda n: "9" * n),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=20)
    .filter(lambda value: value == value.strip(" \t")),
)  # any valid field value (RFC 9110: no control characters, no outer whitespace, which a
# parser strips and h11 refuses to send), sent as Latin-1 bytes
PART = st.fixed_dictionaries({}, optional={"type": st.just("text"),
                                           "text": st.one_of(ANY_TEXT, st.integers())})
PARTS = st.lists(st.one_of(PART, st.integers()), max_size=3)
MESSAGE = st.fixed_dictionaries({}, optional={
    "role": st.sampled_from(["user", "assistant", "system", 5, None]),
    "content": st.one_of(ANY_TEXT, st.none(), st.integers(), PARTS),
})
JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), ANY_TEXT),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
                    max_leaves=10)
CHAT = st.fixed_dictionaries({"messages": st.one_of(st.lists(MESSAGE, max_size=3), JSON)}, optional={
    "interval": st.sampled_from([0, 0.001, 1e-7, -1, 61, "x", None, True]),
    "fail_after": st.one_of(st.integers(-2, 8), st.booleans(), ANY_TEXT),
    "error_style": st.sampled_from(["openai", "anthropic", "smoke", 5]),
    "model": st.one_of(ANY_TEXT, st.integers()),
})
BODY = st.one_of(
    st.none(),
    st.one_of(CHAT, JSON).map(lambda value: json.dumps(value).encode()),  # ASCII escapes: \\ud800 too
    st.binary(max_size=60),
)


@st.composite
def requests(draw) -> dict:
    query = {key: draw(QUERY_VALUES.get(key, ANY_TEXT)) for key in draw(QUERY)}
    path = draw(PATH)
    lei = draw(LAST_EVENT_ID)
    headers = {} if lei is None else {"Last-Event-ID": lei.encode("latin-1")}
    query_text = urlencode(query, encoding="utf-8", errors="surrogatepass")
    return {
        "method": draw(st.sampled_from(["GET", "POST", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"])),
        "url_path": path + ("?" + query_text if query else ""),
        "headers": headers,
        "content": draw(BODY),
    }


@pytest.fixture
def server_errors(caplog: pytest.LogCaptureFixture):
    """What the servers log at WARNING or above while the test runs: it must be nothing."""
    caplog.set_level(logging.WARNING)
    yield lambda: [r.getMessage() for r in caplog.records
                   if r.levelno >= logging.WARNING and r.name.startswith(("aiohttp", "uvicorn"))]


@PROPERTY
@given(request=requests())
def test_every_answer_is_a_json_4xx_or_a_clean_stream(base, server_errors, request):
    response = httpx.request(request["method"], base + request["url_path"], headers=request["headers"],
                             content=request["content"], timeout=30)  # an aborted body raises here
    kind = response.headers.get("content-type", "")
    if 400 <= response.status_code < 500:
        assert kind.startswith("application/json"), (response.status_code, response.text[:200])
        if request["method"] != "HEAD":
            assert isinstance(response.json()["error"]["message"], str)
    else:
        assert response.status_code == 200, (response.status_code, response.text[:200])
        assert kind.startswith("text/event-stream")
        _assert_meant(response.content)
    _assert_no_stream_left(base)
    assert server_errors() == []  # no traceback in the log, whatever was sent


def _assert_meant(body: bytes) -> None:
    """Only the fields, comments and event types the server means, ending on a blank line."""
    assert body == b"" or body.endswith((b"\n\n", b"\r\n\r\n")), body[-60:]
    for line in LineDecoder().feed(body):
        assert line.kind in (LineKind.FIELD, LineKind.COMMENT, LineKind.BLANK), line
        assert line.kind is not LineKind.FIELD or line.name in FIELDS, line
        assert line.kind is not LineKind.COMMENT or line.text == ": ping", line
    parser = EventParser()
    events = parser.feed(body) + parser.close()
    assert not parser.pending
    for event in events:
        assert event.event in TYPES and (event.id == "" or event.id.isdigit()), event
        assert event.data == "[DONE]" or isinstance(json.loads(event.data), dict), event


def _assert_no_stream_left(base: str) -> None:
    deadline = time.monotonic() + STATS_BOUND
    while (active := httpx.get(base + "/stats", timeout=10).json()["active_streams"]) and \
            time.monotonic() < deadline:
        time.sleep(0.01)  # polling a bounded condition: a finished stream's cleanup may lag
    assert active == 0
