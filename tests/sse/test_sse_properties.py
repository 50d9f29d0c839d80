"""Hypothesis properties of the core: round trip (S-11, C-37), chunking transparency, no crash."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.sse import LINE_SEPARATORS, Event, EventParser, LineDecoder, encode

# A settings object, not a loaded profile: loading one would change other areas' tests too.
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text with the characters that matter overweighted: every line break, NUL, BOM, space, colon.
TRICKY = st.sampled_from(["\r", "\n", "\r\n", "\x00", "\ufeff", " ", ":", "\u2028", "\x85", "é", "😀"])
TEXT = st.lists(st.one_of(st.text(max_size=8), TRICKY), max_size=8).map("".join)
SINGLE_LINE = TEXT.map(lambda text: re.sub(r"[\r\n]", "", text))
ID = SINGLE_LINE.map(lambda text: text.replace("\x00", ""))

# Bytes with the same bias: terminators, field names, BOM fragments, bad UTF-8, retry digits.
TOKENS = st.sampled_from(
    [b"\r", b"\n", b"\r\n", b":", b" ", b"data", b"event", b"id", b"retry", b"\xef\xbb\xbf", b"\xef",
     b"\xbb", b"\xff", b"\xe2\x82", b"\xac", b"\x00", b"0", b"12", b"x",
     # whole lines and blocks, so the parser's one-data-line fast path runs often
     b"data: x\n\n", b"data: \n\n", b"data:  y\n\n", b"data: a\r\n\r\n", b"\n\n", b"\n\n\n",
     b"data: ", b"id: 1\n", b"event: e\n", b": c\n"]
)  # fmt: skip
BODY = st.one_of(
    st.binary(max_size=200), st.lists(st.one_of(TOKENS, st.binary(max_size=3)), max_size=60).map(b"".join)
)


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(body) + 1) for cut in cuts})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]


def parse_chunks(chunks: list[bytes], **options: int) -> tuple[list[Event], int | None, str]:
    parser = EventParser(**options)
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    events += parser.close()
    return events, parser.retry, parser.last_event_id


CUTS = st.lists(st.integers(min_value=0, max_value=10_000), max_size=12)


@PROPERTY
@given(
    st.lists(st.tuples(SINGLE_LINE, TEXT, st.one_of(st.none(), ID)), max_size=6),
    st.sampled_from(LINE_SEPARATORS),
    CUTS,
)
def test_encode_then_parse_round_trips(events: list, sep: str, cuts: list[int]) -> None:
    """S-11: CR and CRLF in data arrive as LF; an omitted id keeps the last one (C-27)."""
    body = b"".join(encode(data, event=type_, id=id_, sep=sep) for type_, data, id_ in events)
    expected, last_id = [], ""
    for type_, data, id_ in events:
        last_id = last_id if id_ is None else id_
        expected.append(Event(type_ or "message", re.sub(r"\r\n|\r", "\n", data), last_id))
    assert parse_chunks(split_at(body, cuts))[0] == expected


@PROPERTY
@given(BODY, CUTS)
def test_chunking_is_transparent(body: bytes, cuts: list[int]) -> None:
    """C-37: whole and chunked parses agree on events, retry and last event ID."""
    assert parse_chunks(split_at(body, cuts)) == parse_chunks([body])


@PROPERTY
@given(BODY, CUTS)
def test_bounds_and_comments_change_no_event(body: bytes, cuts: list[int]) -> None:
    """Bounds that are not hit, and keeping comments, take other paths to the same events."""
    chunks = split_at(body, cuts)
    bounded = parse_chunks(chunks, max_line_bytes=10**6, max_event_bytes=10**6)
    assert bounded == parse_chunks(chunks)
    parser = EventParser()
    parser.keep_comments()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    assert (events, parser.retry, parser.last_event_id) == parse_chunks(chunks)


@PROPERTY
@given(BODY)
def test_bytewise_equals_whole(body: bytes) -> None:
    assert parse_chunks([body[i : i + 1] for i in range(len(body))]) == parse_chunks([body])


@PROPERTY
@given(BODY, CUTS)
def test_lines_path_equals_feed(body: bytes, cuts: list[int]) -> None:
    """feed_lines() over LineDecoder records gives what feed() gives (one parser, two faces)."""
    chunks = split_at(body, cuts)
    decoder, parser = LineDecoder(), EventParser()
    events = [event for chunk in chunks for event in parser.feed_lines(decoder.feed(chunk))]
    events += parser.feed_lines(decoder.close())
    assert (events, parser.retry, parser.last_event_id) == parse_chunks(chunks)


@PROPERTY
@given(BODY, CUTS)
def test_lines_cover_the_body_exactly(body: bytes, cuts: list[int]) -> None:
    """Line records tile the body: raw + terminator, contiguous offsets, BOM accounted for."""
    decoder = LineDecoder()
    lines = [line for chunk in split_at(body, cuts) for line in decoder.feed(chunk)] + decoder.close()
    position = 3 if decoder.bom_stripped else 0
    rebuilt = body[:position]
    for line in lines:
        skipped = body[position : line.offset]
        assert skipped in (b"", b"\n")  # only the LF of a CRLF split across feeds
        rebuilt += skipped + line.raw + line.terminator.encode()
        position = line.end
    assert body[position:] in (b"", b"\n")  # a skipped LF may also end the body
    assert rebuilt + body[position:] == body


@PROPERTY
@given(st.binary(max_size=300), CUTS)
def test_never_raises_on_arbitrary_bytes(body: bytes, cuts: list[int]) -> None:
    for event in parse_chunks(split_at(body, cuts))[0]:
        assert isinstance(event, Event)


# Streams of many blocks of one shape (event/id/data lines in a fixed order), as real servers
# send them, so feed()'s column fast path runs, sometimes with one line spoilt so it must not.
VALUE = st.lists(st.sampled_from(["", " ", "\x00", ":", "x", "é", "data: ", "\ufeff"]), max_size=4).map(
    "".join
)
SPOILERS = st.sampled_from(["retry: 5", "data:x", ": c", "", "id", "event:", "Data: x", "id: \x00"])


@st.composite
def uniform_streams(draw: st.DrawFn) -> bytes:
    shape = draw(st.lists(st.sampled_from(["data", "event", "id"]), min_size=1, max_size=4))
    if "data" not in shape and draw(st.booleans()):
        shape.append("data")
    tidy = draw(st.booleans())  # no empty type, no NUL id: the shape the fast path takes

    def value(name: str) -> str:
        text = draw(VALUE)
        return "t" + text.replace("\x00", "") if tidy and name != "data" else text

    count = draw(st.integers(min_value=12, max_value=16))
    blocks = [[f"{name}: {value(name)}" for name in shape] for _ in range(count)]
    if draw(st.booleans()):
        block = draw(st.sampled_from(blocks))
        block[draw(st.integers(0, len(block) - 1))] = draw(SPOILERS)
    sep = draw(st.sampled_from(LINE_SEPARATORS))
    text = "".join(sep.join(block) + sep + sep for block in blocks) + draw(VALUE)
    return text.encode()


def outcome(chunks: list[bytes], through_lines: bool, **options: int) -> tuple[object, ...]:
    """Events, retry and last ID; or, if a bound is hit, the events before it and the error."""
    decoder, parser = LineDecoder(), EventParser(**options)
    events: list[Event] = []
    try:
        for chunk in chunks:
            events += parser.feed_lines(decoder.feed(chunk)) if through_lines else parser.feed(chunk)
    except ValueError as error:
        return events, type(error)
    return events, parser.retry, parser.last_event_id


@settings(PROPERTY, max_examples=60)
@given(uniform_streams(), CUTS, st.one_of(st.none(), st.integers(min_value=1, max_value=12)))
def test_uniform_blocks_fast_path_matches_line_loop(body: bytes, cuts: list[int], bound: int | None) -> None:
    chunks = split_at(body, cuts)
    options = {} if bound is None else {"max_event_bytes": bound}
    assert outcome(chunks, False, **options) == outcome(chunks, True, **options)
    assert outcome([body], False, **options) == outcome([body], True, **options)
