"""Serializer: turn field values into event-stream bytes that cannot inject fields.

Rules S-11..S-15: data is split on every CR, LF and CRLF into one ``data:`` line each; CR or LF
in ``event``, ``id`` or a comment, NUL in ``id``, and a ``retry`` that is not a non-negative int
are refused with ``ValueError`` naming the field, instead of being silently stripped (which is
what sse-starlette and aiohttp-sse do, hiding the caller's bug).
"""

from __future__ import annotations

import re

__all__ = ["LINE_SEPARATORS", "encode"]

LINE_SEPARATORS = ("\n", "\r\n", "\r")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

# Characters each single-line field refuses, with the reason given in the error (S-13, S-14).
_FORBIDDEN: dict[str, tuple[tuple[str, str], ...]] = {
    "comment": (("\r", "CR or LF (S-13)"), ("\n", "CR or LF (S-13)")),
    "id": (
        ("\r", "CR or LF (S-13)"),
        ("\n", "CR or LF (S-13)"),
        ("\x00", "NUL, clients ignore the whole field (S-14)"),
    ),
    "event": (("\r", "CR or LF (S-13)"), ("\n", "CR or LF (S-13)")),
    "data": (),  # line breaks split it into several data lines instead (S-11)
}


def _checked(field: str, value: object) -> str:
    """``value`` as a str that is safe for ``field``, or ValueError naming the field."""
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a str, not {type(value).__name__}")
    for char, reason in _FORBIDDEN[field]:
        if char in value:
            raise ValueError(f"{field} must not contain {reason}: {value!r}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(
                f"{field} is not encodable as UTF-8 (a lone surrogate at index {error.start}): {value!r}"
            ) from None
    return value


def _retry(retry: object) -> str:
    if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
        raise ValueError(f"retry must be a non-negative int of milliseconds (S-15): {retry!r}")
    return str(retry)


def encode(
    data: str | None = None,
    *,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
    sep: str = "\n",
) -> bytes:
    """Encode one event block (ending with a blank line) as UTF-8 bytes.

    ``data=""`` emits an empty ``data:`` line so the block still dispatches (S-16); ``data=None``
    emits no data line (an id/retry/comment-only block). Every field is written ``name: value``
    with one space (S-12), so a value that starts with a space keeps it after parsing (C-15).
    ``sep`` is the line separator: LF, CRLF or CR (S-10).
    """
    if sep not in LINE_SEPARATORS:
        raise ValueError(f"sep must be one of LF, CRLF or CR, not {sep!r}")
    lines: list[str] = []
    if comment is not None:
        comment = _checked("comment", comment)
        lines.append(f": {comment}" if comment else ":")
    if id is not None:
        lines.append("id: " + _checked("id", id))
    if event is not None:
        lines.append("event: " + _checked("event", event))
    if retry is not None:
        lines.append("retry: " + _retry(retry))
    if data is not None:
        lines.extend("data: " + part for part in _LINE_BREAK.split(_checked("data", data)))
    if not lines:
        raise ValueError("an event needs at least one of data, event, id, retry or comment")
    return (sep.join(lines) + sep + sep).encode("utf-8")
