"""Every endpoint of the reference servers as data, ready to request, for other parts to iterate.

``url_path`` includes a query with short intervals so a full check of one endpoint takes well
under a second; the same paths with no query use the server's settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["ENDPOINTS", "Endpoint", "endpoint"]

_CHAT = {"model": "reference-echo-1", "messages": [{"role": "user", "content": "What is SSE?"}]}


@dataclass(frozen=True)
class Endpoint:
    """One request to a reference server and what the server suite should expect of it.

    ``resumable``: ids on every numbered event and Last-Event-ID honoured (S-19, S-20).
    ``mid_stream_error``: an OpenAI-profile stream that ends with an error payload and, as
    OpenAI does, *no* ``[DONE]`` (O-05 applies, O-02 does not).
    ``idle``: pauses longer than a short heartbeat, so comments appear (S-18) when the server
    runs with e.g. ``heartbeat=0.05``.
    """

    name: str
    method: str
    url_path: str
    body: dict[str, Any] | None
    profile: str
    description: str
    resumable: bool = False
    mid_stream_error: bool = False
    idle: bool = False

    @property
    def path(self) -> str:
        """The path without its query."""
        return self.url_path.partition("?")[0]

    def body_text(self) -> bytes:
        """The JSON request body as bytes (empty when there is none)."""
        return b"" if self.body is None else json.dumps(self.body).encode()


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("events", "GET", "/events?count=5&interval=0.01", None, "generic",
             "counter events (id, event: message, JSON counter/message/timestamp), then complete",
             resumable=True),
    Endpoint("events-idle", "GET", "/events?count=2&interval=0.25", None, "generic",
             "slow counter: idle gaps filled by comment heartbeats", resumable=True, idle=True),
    Endpoint("agent-messages", "GET", "/stream/agent-1?count=3&interval=0.01", None, "generic",
             "agent_message events for one agent, resumable by sequence", resumable=True),
    Endpoint("agent-thinking", "GET", "/agent/stream?query=What+is+SSE%3F&interval=0.005", None,
             "generic", "status (query echoed), thought, token and complete events"),
    Endpoint("task-progress", "GET", "/tasks/42/progress/stream?interval=0.01", None, "generic",
             "progress steps 10..100 with ids, then complete", resumable=True),
    Endpoint("stream-error", "GET", "/stream/error?interval=0.01", None, "generic",
             "a message, then an error event with a JSON body, then a clean end"),
    Endpoint("stream-timeout", "GET", "/stream/timeout?timeout=0.1&interval=0.02", None, "generic",
             "counts until the time limit, then a timeout error event"),
    Endpoint("chat-completions", "POST", "/v1/chat/completions?interval=0", _CHAT, "openai",
             "OpenAI chat.completion.chunk stream from the built-in echo model, then [DONE]"),
    Endpoint("chat-sse", "POST", "/chat/sse", {**_CHAT, "interval": 0}, "openai",
             "the seeds' /chat/sse: the same chunk stream, then [DONE]"),
    Endpoint("chat-completions-error", "POST", "/v1/chat/completions",
             {**_CHAT, "interval": 0, "fail_after": 2, "error_style": "openai"}, "openai",
             "two chunks, then data: {\"error\": {...}} and a clean end without [DONE]",
             mid_stream_error=True),
    Endpoint("chat-sse-error", "POST", "/chat/sse", {**_CHAT, "interval": 0, "fail_after": 1},
             "openai", "one chunk, then the OpenAI error payload and a clean end without [DONE]",
             mid_stream_error=True),
)


def endpoint(name: str) -> Endpoint:
    """Look an endpoint up by name (KeyError for an unknown one)."""
    for item in ENDPOINTS:
        if item.name == name:
            return item
    raise KeyError(name)
