"""EventParser's API beyond the rule examples: reset (N-14), bounds, comments, the Event value."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from conformance.sse import Event, EventParser, EventTooLarge, LineDecoder, LineTooLong, parse


def test_reset_keeps_last_event_id_and_drops_partial_event() -> None:
    """N-14's example: the partial "def" block dies with connection 1."""
    parser = EventParser()
    assert parser.feed(b"id: abc\ndata: Hello\n\nid: def\ndata: Goodbye") == [
        Event("message", "Hello", "abc")
    ]
    parser.close()
    parser.reset()
    assert parser.feed(b"data: We meet again\n\n") == [Event("message", "We meet again", "abc")]


def test_reset_keeps_retry() -> None:
    """N-13: the reconnection time carries over."""
    parser = EventParser()
    parser.feed(b"retry: 1500\n\n")
    parser.reset()
    assert parser.retry == 1500


def test_reset_drops_partial_line() -> None:
    parser = EventParser()
    parser.feed(b"da")
    assert parser.pending
    parser.reset()
    assert not parser.pending
    assert parser.feed(b"ta: x\n\n") == []  # "ta" is an unknown field, not the end of "data"


def test_reset_drops_pending_type_and_data() -> None:
    parser = EventParser()
    parser.feed(b"event: old\ndata: a\n")
    parser.reset()
    assert parser.feed(b"data: b\n\n") == [Event("message", "b", "")]


def test_reset_restarts_bom_detection() -> None:
    """C-07: every response body is a new stream, so its BOM is stripped too."""
    parser = EventParser()
    parser.feed(b"\xef\xbb\xbfdata: 1\n\n")
    parser.reset()
    assert parser.feed(b"\xef\xbb\xbfdata: 2\n\n") == [Event("message", "2", "")]


def test_reset_restarts_cr_flag() -> None:
    """After a body ending in CR, the next body's leading LF is a line of its own.

    Were the skip-LF flag kept, the LF would vanish and the BOM after it would count as the
    new body's leading BOM; with a fresh flag the BOM is mid-stream text (C-06).
    """
    parser = EventParser()
    parser.feed(b"data: a\r")
    parser.reset()
    assert parser.feed(b"\n\xef\xbb\xbfdata: b\n\n") == []


def test_constructor_seeds_last_event_id_and_retry() -> None:
    """N-12: a new parser for a reconnection starts from the previous ID."""
    parser = EventParser(last_event_id="7", retry=100)
    assert parser.feed(b"data: x\n\n") == [Event("message", "x", "7")]
    assert parser.retry == 100


def test_close_discards_and_marks_closed() -> None:
    parser = EventParser()
    parser.feed(b"data: x\n")
    assert parser.pending
    assert parser.close() == []
    assert parser.closed
    assert not parser.pending


def test_close_discards_a_pending_id() -> None:
    """C-33: the unfinished block's id is never applied, not even by a later feed."""
    parser = EventParser()
    parser.feed(b"data: x\nid: 7\n")
    parser.close()
    assert (parser.pending, parser.last_event_id) == (False, "")
    assert parser.feed(b"\n") == []
    assert parser.last_event_id == ""


def test_line_bound() -> None:
    parser = EventParser(max_line_bytes=100)
    parser.feed(b"data: " + b"x" * 90 + b"\n\n")
    with pytest.raises(LineTooLong, match="100 bytes"):
        parser.feed(b"data: " + b"x" * 200)


def test_event_bound() -> None:
    parser = EventParser(max_event_bytes=100)
    assert len(parser.feed(b"data: " + b"x" * 50 + b"\n\n")) == 1
    with pytest.raises(EventTooLarge, match="event's data passed 100"):
        parser.feed(
            b"data: " + b"x" * 30 + b"\n" * 1 + b"data: " + b"y" * 30 + b"\n" * 1 + b"data: zz\n" * 20
        )


def test_event_bound_on_one_line_events() -> None:
    """The one-data-line fast path enforces the bound too, at its exact edge."""
    parser = EventParser(max_event_bytes=11)
    assert [e.data for e in parser.feed(b"data: 0123456789\n\n" * 3)] == ["0123456789"] * 3
    with pytest.raises(EventTooLarge, match="passed 11"):
        parser.feed(b"data: 0\n\ndata: 0123456789x\n\n")


def test_id_only_block_is_pending() -> None:
    parser = EventParser()
    parser.feed(b"id: 5\n")
    assert parser.pending
    parser.feed(b"\n")
    assert not parser.pending


def test_event_bound_resets_per_event() -> None:
    parser = EventParser(max_event_bytes=20)
    events = parser.feed(b"data: 0123456789\n\n" * 50)
    assert len(events) == 50


def test_keep_comments() -> None:
    parser = EventParser()
    parser.keep_comments()
    assert parser.feed(b": ping\n:\ndata: x\n\n") == [Event("message", "x", "")]
    assert parser.comments == [" ping", ""]


def test_parse_discards_unterminated_tail() -> None:
    assert parse(b"data: a\n\ndata: b") == [Event("message", "a", "")]


def test_event_defaults_and_fields() -> None:
    """C-39: an Event is the (type, data, lastEventId) triple, type "message" by default."""
    event = Event(data="x")
    assert (event.event, event.data, event.id) == ("message", "x", "")
    assert event.as_dict() == {"event": "message", "data": "x", "id": ""}
    assert dataclasses.replace(event, id="9") == Event("message", "x", "9")
    assert [f.name for f in dataclasses.fields(Event)] == ["event", "data", "id"]


def test_event_is_frozen_hashable_and_picklable() -> None:
    event = Event("t", "d", "i")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = "other"  # type: ignore[misc]
    assert {event: 1}[Event("t", "d", "i")] == 1
    assert pickle.loads(pickle.dumps(event)) == event
    assert repr(event) == "Event(event='t', data='d', id='i')"


def test_event_never_equals_a_plain_tuple() -> None:
    assert Event("t", "d", "i") != ("t", "d", "i")
    assert Event("t", "d", "i") != Event("t", "d", "j")


def test_retry_past_python_digit_limit_does_not_crash() -> None:
    """C-36: a huge retry must not crash the parser (int() refuses > 4300 digits)."""
    parser = EventParser(retry=5)
    assert parser.feed(b"retry: " + b"9" * 5000 + b"\ndata: x\n\n") == [Event("message", "x", "")]
    assert parser.retry == 5


MIXED = (
    b"data: a\n\ndata: b\n\ndata:  lead\n\ndata: \n\n"  # the one-data-line shape
    b"id: 1\ndata: c\n\ndata: d\n\n"  # an id changes the ID buffer mid-feed
    b"event: t\ndata: e\n\n: ping\n\ndata:f\n\n"  # type, comment, no space
    b"data: g\ndata: h\n\n\n\ndata: i\r\n\r\ndata: j\rdata: k\r\r"  # two lines, extra blanks, CR
    b"id\ndata: l\n\ndata: m\n\ndata: tail"  # bare id resets; unterminated tail discarded
)


def test_fast_path_matches_line_loop_at_every_chunk_size() -> None:
    """feed()'s one-data-line fast path and the feed_lines() loop agree, however fed."""
    decoder, reference = LineDecoder(), EventParser()
    expected = reference.feed_lines(decoder.feed(MIXED) + decoder.close())
    triples = [("message", "a", ""), ("message", "b", ""), ("message", " lead", ""), ("message", "", "")]
    triples += [("message", "c", "1"), ("message", "d", "1"), ("t", "e", "1"), ("message", "f", "1")]
    triples += [("message", "g\nh", "1"), ("message", "i", "1"), ("message", "j\nk", "1")]
    triples += [("message", "l", ""), ("message", "m", "")]
    assert expected == [Event(*triple) for triple in triples]
    for size in range(1, 70):
        parser = EventParser()
        got = [e for i in range(0, len(MIXED), size) for e in parser.feed(MIXED[i : i + size])]
        assert got + parser.close() == expected, f"chunk size {size}"
        assert parser.last_event_id == reference.last_event_id
