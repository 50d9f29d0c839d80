"""Everything a client sends, checked before a stream starts: a bad input is one 4xx JSON error.

A stream that has already answered 200 can only fail by aborting its body, which clients
report as a network error and reconnect into forever. So every input is read, bounded and
checked here first: the body's size (413 past ``max_body``, counted while it arrives, so a
100 MB POST is refused after ``max_body`` bytes, not buffered), its JSON nesting, and any
text that could reach the wire (a lone surrogate cannot be encoded as UTF-8 and would crash
the write mid-stream).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, Iterable
from typing import Any

from .settings import BadRequest

__all__ = ["ERROR_CODES", "MAX_DEPTH", "check_json", "check_text", "parse_body", "problem", "read_body"]

MAX_DEPTH = 32  # JSON nesting a chat body needs is 4; deeper is an attack or a bug
_SURROGATE = re.compile("[\ud800-\udfff]")

# status -> the error code clients see (OpenAI's shape: message, type, code).
ERROR_CODES: dict[int, str | None] = {
    400: None,
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}


def problem(message: str, status: int = 400) -> dict[str, Any]:
    """The JSON body of a 4xx answer (OpenAI's error shape, which generic clients read too)."""
    code = ERROR_CODES.get(status)
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


async def read_body(chunks: AsyncIterable[bytes], declared: str | None, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed ``limit`` bytes."""
    too_large = BadRequest(f"the request body is larger than {limit} bytes", status=413)
    if declared is not None and declared.strip().isdigit() and int(declared[:20]) > limit:
        raise too_large
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def parse_body(raw: bytes) -> Any:
    """A request body as checked JSON (None when empty); anything else is a 400."""
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BadRequest(f"the body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise BadRequest("the body must be JSON (UTF-8)") from None
    check_json(value)
    return value


def check_json(value: Any) -> None:
    """Refuse nesting past ``MAX_DEPTH`` and strings that are not valid Unicode (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            check_text("the body", item)
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise BadRequest(f"the body is nested deeper than {MAX_DEPTH} levels")
            children: Iterable[Any] = item
            if isinstance(item, dict):
                children = [*item.keys(), *item.values()]
            stack.extend((child, depth + 1) for child in children)


def check_text(where: str, text: str) -> None:
    """Refuse text with a lone surrogate: it cannot be written as UTF-8."""
    if _SURROGATE.search(text):
        raise BadRequest(f"{where} is not valid Unicode (it has a lone surrogate)")
