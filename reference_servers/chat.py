"""A deterministic built-in chat model and the OpenAI chunk and error shapes it streams.

No API key, no network: the reply is computed from the last user message, so tests can assert
the exact assembled text. Error payloads follow what each provider sends mid-stream
(``design/ecosystem.md`` section 4, "Error mid-stream formats differ").
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .settings import BOUNDS, BadRequest

__all__ = ["ERROR_STYLES", "MODEL", "ChatRequest", "chunker", "error_event", "reply_for", "tokens"]

MODEL = "reference-echo-1"


@dataclass(frozen=True)
class ChatRequest:
    """The fields of a chat request body the reference model uses."""

    messages: tuple[Mapping[str, Any], ...]
    model: str = MODEL
    fail_after: int | None = None
    error_style: str = "openai"
    interval: float | None = None

    @classmethod
    def from_body(cls, body: object) -> ChatRequest:
        """Validate a JSON body; anything unusable is a 400 before the stream starts."""
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object with a 'messages' list")
        messages = body.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise BadRequest("'messages' must be a list of message objects")
        for number, message in enumerate(messages, 1):
            _check_message(number, message)
        model = body.get("model", MODEL)
        fail_after = body.get("fail_after")
        style = body.get("error_style", "openai")
        interval = body.get("interval")
        if not isinstance(model, str):
            raise BadRequest("'model' must be a string")
        if fail_after is not None and (isinstance(fail_after, bool) or not isinstance(fail_after, int)
                                       or fail_after < 0):
            raise BadRequest("'fail_after' must be a non-negative integer")
        if style not in ERROR_STYLES:
            raise BadRequest(f"'error_style' must be one of {', '.join(ERROR_STYLES)}")
        if interval is not None and (isinstance(interval, bool) or not isinstance(interval, (int, float))):
            raise BadRequest("'interval' must be a number of seconds")
        if interval is not None and (why := BOUNDS["interval"].check("'interval'", interval)):
            raise BadRequest(why)
        return cls(tuple(messages), model, fail_after, style, interval)

    @cached_property
    def completion_id(self) -> str:
        """Stable per conversation, like a real id is stable per completion (hashed once)."""
        text = json.dumps(list(self.messages), sort_keys=True, ensure_ascii=False, default=str)
        return "chatcmpl-ref" + hashlib.sha256(text.encode()).hexdigest()[:20]


def _content_ok(content: object) -> bool:
    """A message's content: text, null, or a list of part objects whose ``text`` is text."""
    if content is None or isinstance(content, str):
        return True
    return isinstance(content, list) and all(
        isinstance(part, dict) and isinstance(part.get("text", ""), str) for part in content
    )


def _check_message(number: int, message: Mapping[str, Any]) -> None:
    if not isinstance(message.get("role", "user"), str):
        raise BadRequest(f"message #{number}: 'role' must be a string")
    if not _content_ok(message.get("content")):
        raise BadRequest(f"message #{number}: 'content' must be a string or a list of "
                         "{\"type\": \"text\", \"text\": \"...\"} parts")


def reply_for(messages: tuple[Mapping[str, Any], ...]) -> str:
    """The model's answer: an echo of the last user text (the seed's weather bot, minus the LLM)."""
    for message in reversed(messages):
        if message.get("role", "user") == "user":
            content = message.get("content")
            if isinstance(content, list):  # content parts: keep the text ones
                content = " ".join(part.get("text", "") for part in content)
            if isinstance(content, str) and content.strip():
                return f"You said: {content}"
    return "Hello! How can I help you today?"


def tokens(text: str) -> list[str]:
    """Split into word tokens that keep their leading whitespace: ''.join(tokens(t)) == t."""
    parts = re.findall(r"\s*\S+", text)
    rest = text[len("".join(parts)):]
    if rest:
        parts.append(rest)
    return parts


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


Chunker = Callable[[dict[str, Any], "str | None"], str]


def chunker(request: ChatRequest, created: int) -> Chunker:
    """``make(delta, finish)`` -> one ``chat.completion.chunk`` as compact JSON (O-04).

    Everything but the delta is serialised once per stream, so a chunk costs the same for a
    585 KB conversation as for a one-line one (only the delta is encoded per chunk).
    """
    fixed = _compact({
        "id": request.completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": request.model,
        "system_fingerprint": None,
    })
    head = fixed[:-1] + ',"choices":[{"index":0,"delta":'
    middle, tail = ',"logprobs":null,"finish_reason":', "}]}"

    def make(delta: dict[str, Any], finish: str | None = None) -> str:
        return f"{head}{_compact(delta)}{middle}{_compact(finish)}{tail}"

    return make


def now() -> int:
    return int(time.time())


_MESSAGE = "The reference model failed mid-stream on request (fail_after)."

# style -> (event type, payload). OpenAI sends a bare data payload; Anthropic an `event: error`.
ERROR_STYLES: dict[str, tuple[str, dict[str, Any]]] = {
    "openai": (
        "message",
        {"error": {"message": _MESSAGE, "type": "server_error", "param": None, "code": "fail_after"}},
    ),
    "anthropic": (
        "error",
        {"type": "error", "error": {"type": "api_error", "message": _MESSAGE}},
    ),
}


def error_event(style: str) -> tuple[str, str]:
    """(event type, JSON data) of a mid-stream error in the given provider style."""
    event, payload = ERROR_STYLES[style]
    return event, json.dumps(payload, separators=(",", ":"))
