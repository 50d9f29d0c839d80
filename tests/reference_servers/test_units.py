"""The sans-IO pieces: settings, resume arithmetic, tokens, heartbeat merging, stats, the API."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

import reference_servers
from conformance.sse import parse
from reference_servers import ENDPOINTS, Settings, endpoint, scenarios
from reference_servers.chat import ChatRequest, chunker, tokens
from reference_servers.heartbeat import Heartbeat
from reference_servers.scenarios import resume_point
from reference_servers.settings import BadRequest, query_float, query_int
from reference_servers.stats import StreamStats


def test_settings_from_env_and_overrides():
    settings = Settings.from_env({"ALLOWED_ORIGINS": " http://a.test ,,http://b.test"}, heartbeat=1)
    assert settings.allowed_origins == ("http://a.test", "http://b.test")
    assert settings.heartbeat == 1
    assert Settings(allowed_origins="*").allowed_origins == ("*",)
    with pytest.raises(ValueError, match="heartbeat"):
        Settings(heartbeat=-1)
    with pytest.raises(TypeError):
        Settings.from_env({}, nonsense=1)


@pytest.mark.parametrize(("raw", "value"), [(None, 7), ("", 7), ("0", 0), ("12", 12)])
def test_query_int(raw, value):
    assert query_int({} if raw is None else {"n": raw}, "n", 7) == value


@pytest.mark.parametrize("raw", ["x", "-1", "1.5", "2000000"])
def test_query_int_refuses(raw):
    with pytest.raises(BadRequest, match="'n'"):
        query_int({"n": raw}, "n", 7)


@pytest.mark.parametrize("raw", ["nan", "inf", "-0.1", "3601"])
def test_query_float_refuses(raw):
    with pytest.raises(BadRequest):
        query_float({"s": raw}, "s", 1.0)


@pytest.mark.parametrize(("header", "total", "start"), [
    ("", 5, 0), ("3", 5, 3), ("5", 5, 5), ("9", 5, 5), ("x", 5, 0), ("-2", 5, 0), ("٣", 5, 0),
])
def test_resume_point(header, total, start):
    assert resume_point(header, total) == start


@pytest.mark.parametrize("text", ["You said: a  b\nc ", "", "   ", "one", " lead"])
def test_tokens_reassemble_exactly(text):
    assert "".join(tokens(text)) == text


def test_heartbeat_never_beats_while_touched():
    beats = []

    async def main():
        async with Heartbeat(5.0, lambda: asyncio.sleep(0, beats.append(1))) as heartbeat:
            for _ in range(20):  # busy: touched far more often than every 5 s
                heartbeat.touch()
                await asyncio.sleep(0.01)

    asyncio.run(main())
    assert beats == []


def test_heartbeat_beats_repeatedly_while_idle():
    beats = []

    async def main():
        async with Heartbeat(0.02, lambda: asyncio.sleep(0, beats.append(1))):
            deadline = asyncio.get_running_loop().time() + 5
            while len(beats) < 3 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)  # polling a bounded condition

    asyncio.run(main())
    assert len(beats) >= 3


def test_zero_interval_means_no_heartbeat_task():
    beats = []

    async def main():
        async with Heartbeat(0, lambda: asyncio.sleep(0, beats.append(1))) as heartbeat:
            assert heartbeat._task is None
            await asyncio.sleep(0.05)

    asyncio.run(main())
    assert beats == []


def test_stats_count_streams_however_they_end():
    stats = StreamStats()

    async def items():
        yield 1
        yield 2

    async def main():
        async for _ in stats.track(items()):
            assert stats.active == 1
            break

    asyncio.run(main())
    assert stats.as_json() == {"active_streams": 0, "opened": 1, "closed": 1}


def test_endpoint_table_shape():
    names = [e.name for e in ENDPOINTS]
    assert len(names) == len(set(names))
    assert {e.profile for e in ENDPOINTS} == {"generic", "openai"}
    assert all(e.method in ("GET", "POST") and e.url_path.startswith("/") for e in ENDPOINTS)
    assert all((e.body is not None) == (e.method == "POST") for e in ENDPOINTS)
    assert endpoint("chat-sse").body_text().startswith(b"{")
    assert endpoint("events").body_text() == b""
    assert all(e.profile == "openai" for e in ENDPOINTS if e.mid_stream_error)
    with pytest.raises(KeyError):
        endpoint("nope")


def test_running_refuses_unknown_kinds_and_settings():
    with pytest.raises(ValueError, match="unknown server kind"), reference_servers.running("flask"):
        pass
    with pytest.raises(TypeError), reference_servers.running("aiohttp", bogus=1):
        pass


@pytest.mark.parametrize("kind", reference_servers.KINDS)
def test_running_async_serves_and_stops(kind):
    async def main():
        async with reference_servers.running_async(kind, interval=0) as url, httpx.AsyncClient() as client:
            response = await client.get(url + "/events?count=1")
        return url, parse(response.content)

    url, events = asyncio.run(main())
    assert [e.event for e in events] == ["message", "complete"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/stats")  # stopped: nothing listens any more


@pytest.mark.parametrize(("name", "value"), [("heartbeat", 1e-7), ("interval", 1e-7), ("heartbeat", 1e9),
                                             ("send_timeout", 0.001), ("max_body", 10)])
def test_settings_refuse_values_that_flood_or_starve(name, value):
    """heartbeat=1e-7 sent over 1 MB of pings in 0.5 s; 0 still means none."""
    with pytest.raises(ValueError, match=name):
        Settings(**{name: value})
    assert getattr(Settings(**{name: 0}) if name != "max_body" else Settings(), name) is not None


def test_query_bounds_come_from_the_same_table():
    with pytest.raises(BadRequest, match=r"0 \(no heartbeat\) or between 0\.01"):
        query_float({"heartbeat": "0.0001"}, "heartbeat", 1.0)
    assert query_float({"heartbeat": "0"}, "heartbeat", 1.0) == 0
    with pytest.raises(BadRequest, match="too long"):
        query_int({"count": "9" * 5000}, "count", 1)


@pytest.mark.parametrize("header", ["9" * 4301, "1" * 100_000, "0" * 9000 + "3", "0" * 9000])
def test_resume_point_of_huge_ids_never_raises(header):
    assert resume_point(header, 5) == (0 if set(header) == {"0"} else 3 if header.endswith("3") else 5)


def test_a_chunk_is_the_full_object_as_compact_json():
    request = ChatRequest.from_body({"messages": [{"content": "x\u2028\"y"}], "model": "m\n"})
    text = chunker(request, 7)({"content": " é"}, None)
    assert text == json.dumps({
        "id": request.completion_id, "object": "chat.completion.chunk", "created": 7, "model": "m\n",
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": {"content": " é"}, "logprobs": None, "finish_reason": None}],
    }, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(chunker(request, 7)({}, "stop"))["choices"][0]["finish_reason"] == "stop"


def test_a_stream_serialises_the_conversation_once_not_per_chunk():
    """The cost of a 585 KB request was paid per chunk (5.4 ms each): re-serialising and hashing
    every message. A value json.dumps can only show through ``default=str`` counts those passes."""
    passes = []

    class Counted:
        def __str__(self) -> str:
            passes.append(1)
            return "counted"

    body = {"messages": [{"role": "system", "content": "s", "meta": Counted()},
                         {"role": "user", "content": " ".join(["w"] * 50)}]}

    async def drain() -> int:
        return len([e async for e in scenarios.chat_completion(ChatRequest.from_body(body), 0)])

    assert asyncio.run(drain()) == 55  # role, "You", " said:", 50 words, stop, [DONE]
    assert len(passes) == 1
