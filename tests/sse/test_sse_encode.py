"""The serializer: exact bytes, every refusal naming its field (S-11..S-16), round trips."""

from __future__ import annotations

import pytest

from conformance.sse import LINE_SEPARATORS, Event, encode, parse


def test_plain_event_bytes() -> None:
    assert encode("hi", event="greet", id="1", retry=10) == b"id: 1\nevent: greet\nretry: 10\ndata: hi\n\n"


@pytest.mark.parametrize("sep", LINE_SEPARATORS, ids=["LF", "CRLF", "CR"])
def test_every_separator(sep: str) -> None:
    """S-10: each separator frames the block and parses back."""
    body = encode("a\nb", id="7", sep=sep)
    assert body == f"id: 7{sep}data: a{sep}data: b{sep}{sep}".encode()
    assert parse(body) == [Event("message", "a\nb", "7")]


@pytest.mark.parametrize("data", ["a\nb", "a\rb", "a\r\nb"], ids=["LF", "CR", "CRLF"])
def test_data_line_breaks_become_data_lines(data: str) -> None:
    """S-11: every break splits; CR and CRLF arrive as LF."""
    assert encode(data) == b"data: a\ndata: b\n\n"
    assert parse(encode(data)) == [Event("message", "a\nb", "")]


def test_trailing_lf_round_trips() -> None:
    """S-11 / C-20: "a\\n" goes out as two data lines and comes back as "a\\n"."""
    assert encode("a\n") == b"data: a\ndata: \n\n"
    assert parse(encode("a\n")) == [Event("message", "a\n", "")]


def test_leading_space_survives() -> None:
    """S-12 / C-15: one space after the colon always, so the value's own space is kept."""
    assert parse(encode(" x")) == [Event("message", " x", "")]


def test_empty_data_still_dispatches() -> None:
    """S-16."""
    assert encode("") == b"data: \n\n"
    assert parse(encode("")) == [Event("message", "", "")]


def test_comment_and_meta_only_blocks() -> None:
    assert encode(comment="ping") == b": ping\n\n"
    assert encode(comment="") == b":\n\n"
    assert parse(encode(id="5") + encode("x")) == [Event("message", "x", "5")]  # C-30


@pytest.mark.parametrize(
    ("kwargs", "field", "why"),
    [
        ({"event": "a\nb"}, "event", "CR or LF"),
        ({"event": "a\rb"}, "event", "CR or LF"),
        ({"id": "a\nb"}, "id", "CR or LF"),
        ({"id": "a\r\nb"}, "id", "CR or LF"),
        ({"comment": "a\nb"}, "comment", "CR or LF"),
        ({"comment": "a\rb"}, "comment", "CR or LF"),
        ({"id": "a\x00b"}, "id", "NUL"),
        ({"retry": -1}, "retry", "non-negative int"),
        ({"retry": True}, "retry", "non-negative int"),
        ({"retry": 1.5}, "retry", "non-negative int"),
        ({"retry": "100"}, "retry", "non-negative int"),
        ({"data": b"x"}, "data", "must be a str"),
        ({"event": 3}, "event", "must be a str"),
        ({"data": "\ud800"}, "data", "lone surrogate"),
        ({"id": "\udfff"}, "id", "lone surrogate"),
        ({"data": "x", "sep": "\n\n"}, "sep", "LF, CRLF or CR"),
        ({"data": "x", "sep": "\u2028"}, "sep", "LF, CRLF or CR"),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_refusals_name_the_field(kwargs: dict, field: str, why: str) -> None:
    """S-13..S-15: refuse instead of silently stripping, and say which field is wrong."""
    with pytest.raises(ValueError, match=f"^{field} .*{why}"):
        encode(**kwargs)


def test_empty_event_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one of"):
        encode()


def test_retry_zero_is_valid() -> None:
    assert encode(retry=0) == b"retry: 0\n\n"
