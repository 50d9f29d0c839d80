"""Serializer: turn field values into event-stream bytes that cannot inject fields.

Rules S-11..S-15: data is split on every CR, LF and CRLF into one ``data:`` line each; CR or LF
in ``event``, ``id`` or a comment, NUL in ``id``, and a ``retry`` that is not a non-negative int
are refused with ``ValueError`` naming the field, instead of being silently stripped.
"""

from __future__ import annotations

import re

__all__ = ["LINE_SEPARATORS", "encode"]

LINE_SEPARATORS = ("\n", "\r\n", "\r")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _refuse_line_breaks(field: str, value: str) -> None:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{field} must not contain CR or LF (S-13): {value!r}")


def _line(name: str, value: str) -> str:
    # One space after the colon always (S-12): a value that starts with a space keeps it.
    return f"{name}: {value}"


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
    emits no data line (an id/retry/comment-only block). A comment may span several lines; each
    becomes its own ``:`` line.
    """
    if sep not in LINE_SEPARATORS:
        raise ValueError(f"sep must be one of LF, CRLF or CR, not {sep!r}")
    lines: list[str] = []
    if comment is not None:
        if not isinstance(comment, str):
            raise ValueError(f"comment must be a str, not {type(comment).__name__}")
        _refuse_line_breaks("comment", comment)
        lines.append(f": {comment}" if comment else ":")
    if id is not None:
        if not isinstance(id, str):
            raise ValueError(f"id must be a str, not {type(id).__name__}")
        _refuse_line_breaks("id", id)
        if "\x00" in id:
            raise ValueError(f"id must not contain NUL, clients ignore the whole field (S-14): {id!r}")
        lines.append(_line("id", id))
    if event is not None:
        if not isinstance(event, str):
            raise ValueError(f"event must be a str, not {type(event).__name__}")
        _refuse_line_breaks("event", event)
        lines.append(_line("event", event))
    if retry is not None:
        if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
            raise ValueError(f"retry must be a non-negative int of milliseconds (S-15): {retry!r}")
        lines.append(_line("retry", str(retry)))
    if data is not None:
        if not isinstance(data, str):
            raise ValueError(f"data must be a str, not {type(data).__name__}")
        lines.extend(_line("data", part) for part in _LINE_BREAK.split(data))
    if not lines:
        raise ValueError("an event needs at least one of data, event, id, retry or comment")
    return (sep.join(lines) + sep + sep).encode("utf-8")
