"""The route table both adapters register: path pattern -> a function opening a ``Stream``.

Adapters turn their framework's request into a ``StreamRequest`` and a ``Stream`` into bytes;
everything else (which scenario, which parameters, bad input) is decided here, once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.sse import Event

from . import chat, scenarios
from .inputs import check_text, parse_body, problem, read_body
from .settings import BadRequest, Settings, query_float, query_int

__all__ = ["ROUTES", "BadRequest", "Route", "Stream", "StreamRequest", "parse_body", "problem", "read_body"]


@dataclass(frozen=True)
class StreamRequest:
    """What a scenario may read from an HTTP request, whatever the framework."""

    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    last_event_id: str = ""
    body: Any = None

    def check(self) -> None:
        """Refuse path and query text that could not be echoed as UTF-8 (400, not a crash)."""
        for where, values in (("the path", self.path_params), ("the query", self.query)):
            for name, value in values.items():
                check_text(where, name)
                check_text(where, value)


@dataclass(frozen=True)
class Stream:
    """An opened stream: its events, and how the adapter must frame them.

    ``named`` streams write ``event:`` on every event, ``message`` included (the seeds'
    ``event: message``); unnamed ones (the OpenAI profile) write it only for other types.
    ``heartbeat`` is the idle time before a comment keep-alive, 0 for none.
    """

    events: AsyncIterator[Event]
    heartbeat: float
    named: bool = True

    def event_line(self, event: Event) -> str | None:
        """The value of the ``event:`` line for ``event``, or None to write none."""
        return event.event if self.named or event.event != "message" else None


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    build: Callable[[StreamRequest, Settings], Stream]

    def open(self, request: StreamRequest, settings: Settings) -> Stream:
        """The stream for ``request``; :class:`BadRequest` (a 4xx) before anything is sent."""
        request.check()
        return self.build(request, settings)


def _heartbeat(request: StreamRequest, settings: Settings) -> float:
    return query_float(request.query, "heartbeat", settings.heartbeat)


def _interval(request: StreamRequest, settings: Settings) -> float:
    return query_float(request.query, "interval", settings.interval)


def _events(request: StreamRequest, settings: Settings) -> Stream:
    count = query_int(request.query, "count", 10)
    events = scenarios.counter(count, _interval(request, settings), request.last_event_id)
    return Stream(events, _heartbeat(request, settings))


def _agent_messages(request: StreamRequest, settings: Settings) -> Stream:
    count = query_int(request.query, "count", 5)
    events = scenarios.agent_messages(request.path_params["agent_id"], count,
                                      _interval(request, settings), request.last_event_id)
    return Stream(events, _heartbeat(request, settings))


def _agent_thinking(request: StreamRequest, settings: Settings) -> Stream:
    query = request.query.get("query", "")
    return Stream(scenarios.agent_thinking(query, _interval(request, settings)),
                  _heartbeat(request, settings))


def _task_progress(request: StreamRequest, settings: Settings) -> Stream:
    events = scenarios.task_progress(request.path_params["task_id"], _interval(request, settings),
                                     request.last_event_id)
    return Stream(events, _heartbeat(request, settings))


def _stream_error(request: StreamRequest, settings: Settings) -> Stream:
    return Stream(scenarios.stream_error(_interval(request, settings)), _heartbeat(request, settings))


def _stream_timeout(request: StreamRequest, settings: Settings) -> Stream:
    limit = query_float(request.query, "timeout", settings.stream_timeout)
    events = scenarios.stream_timeout(limit, _interval(request, settings))
    return Stream(events, _heartbeat(request, settings))


def _chat(request: StreamRequest, settings: Settings) -> Stream:
    body = chat.ChatRequest.from_body(request.body)
    interval = _interval(request, settings) if body.interval is None else body.interval
    return Stream(scenarios.chat_completion(body, interval), _heartbeat(request, settings), named=False)


# Specific paths before the /stream/{agent_id} pattern: both routers match in order.
ROUTES: tuple[Route, ...] = (
    Route("GET", "/events", _events),
    Route("GET", "/stream/error", _stream_error),
    Route("GET", "/stream/timeout", _stream_timeout),
    Route("GET", "/stream/{agent_id}", _agent_messages),
    Route("GET", "/agent/stream", _agent_thinking),
    Route("GET", "/tasks/{task_id}/progress/stream", _task_progress),
    Route("POST", "/v1/chat/completions", _chat),
    Route("POST", "/chat/sse", _chat),
)
