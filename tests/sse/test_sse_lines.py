"""The line layer: terminator kinds, byte offsets, invalid UTF-8 offsets, classification, bounds.

The server checks explain verdicts from these records, so offsets must point at the real bytes.
"""

from __future__ import annotations

import pytest

from conformance.sse import BOM, Line, LineDecoder, LineKind, LineTooLong, classify


def lines_of(*chunks: bytes) -> list[Line]:
    decoder = LineDecoder()
    return [line for chunk in chunks for line in decoder.feed(chunk)] + decoder.close()


def shape(lines: list[Line]) -> list[tuple[bytes, str, int]]:
    return [(line.raw, line.terminator, line.offset) for line in lines]


def test_terminator_kinds_and_offsets() -> None:
    """C-08: LF, CRLF and CR each end a line; an unterminated last line comes from close()."""
    assert shape(lines_of(b"a\nbb\r\nc\rd")) == [
        (b"a", "\n", 0),
        (b"bb", "\r\n", 2),
        (b"c", "\r", 6),
        (b"d", "", 8),
    ]


@pytest.mark.parametrize(("terminator", "name"), [("\n", "LF"), ("\r", "CR"), ("\r\n", "CRLF"), ("", "EOF")])
def test_terminator_names(terminator: str, name: str) -> None:
    (line,) = lines_of(b"x" + terminator.encode())
    assert (line.terminator, line.terminator_name) == (terminator, name)


def test_end_is_just_past_the_terminator() -> None:
    first, second = lines_of(b"ab\r\ncd\n")
    assert (first.end, second.offset, second.end) == (4, 4, 7)


def test_offsets_count_a_stripped_bom() -> None:
    """C-04: the BOM is not part of any line, but offsets stay body offsets."""
    decoder = LineDecoder()
    (line,) = decoder.feed(BOM + b"data: x\n")
    assert (line.raw, line.offset, decoder.bom_stripped) == (b"data: x", 3, True)


def test_bom_split_across_feeds_is_stripped() -> None:
    """C-07."""
    decoder = LineDecoder()
    assert decoder.feed(b"\xef") == []
    assert decoder.feed(b"\xbb") == []
    (line,) = decoder.feed(b"\xbfdata: x\n")
    assert (line.text, line.offset, decoder.bom_stripped) == ("data: x", 3, True)


def test_second_bom_is_text() -> None:
    """C-05: only one BOM is stripped; the second starts the field name."""
    decoder = LineDecoder()
    (line,) = decoder.feed(BOM + BOM + b"data: x\n")
    assert (line.name, line.offset) == ("\ufeffdata", 3)


def test_no_bom_is_not_reported_stripped() -> None:
    decoder = LineDecoder()
    decoder.feed(b"\xef\xbbX\n")
    assert decoder.bom_stripped is False


def test_crlf_split_across_feeds_is_one_terminator() -> None:
    """C-10: the CR ends the line at once, and the LF in the next feed is skipped."""
    decoder = LineDecoder()
    (first,) = decoder.feed(b"a\r")
    assert first.terminator == "\r"  # reported as CR: the LF had not arrived (documented)
    (second,) = decoder.feed(b"\nb\n")
    assert (second.raw, second.offset) == (b"b", 3)


def test_invalid_utf8_at_is_a_body_offset() -> None:
    """C-02: bad bytes become U+FFFD, and the first one's body offset is recorded."""
    ok, bad = lines_of(BOM + b"ok\n" + b"data: a\xffb\n")
    assert ok.invalid_utf8_at is None
    assert bad.text == "data: a\ufffdb"
    assert bad.invalid_utf8_at == 3 + 3 + 7


def test_invalid_utf8_at_in_unterminated_line() -> None:
    (line,) = lines_of(b"x\xe2\x82")
    assert (line.terminator, line.invalid_utf8_at, line.text) == ("", 1, "x\ufffd")


def test_multibyte_split_across_feeds_decodes_intact() -> None:
    """C-03."""
    (line,) = lines_of(b"data: \xe2\x82", b"\xac\n")
    assert (line.value, line.invalid_utf8_at) == ("€", None)


def test_only_cr_and_lf_end_lines() -> None:
    """C-11: VT, FF, FS..RS, NEL, LS and PS are ordinary characters."""
    body = "a\x0bb\x0cc\x1cd\x1de\x1ef\x85g\u2028h\u2029i".encode()
    (line,) = lines_of(body + b"\n")
    assert line.raw == body


def test_close_gives_unterminated_line_once() -> None:
    """C-33: the caller sees the unterminated bytes (to report S-09) and discards them."""
    decoder = LineDecoder()
    decoder.feed(b"data: x\ndata: partial")
    assert decoder.pending == b"data: partial"
    (line,) = decoder.close()
    assert (line.raw, line.terminator, line.offset) == (b"data: partial", "", 8)
    assert decoder.close() == []


def test_close_with_nothing_pending() -> None:
    decoder = LineDecoder()
    decoder.feed(b"data: x\n")
    assert decoder.close() == []


def test_feed_text_matches_feed() -> None:
    body = BOM + b"data: a\r\n: c\rid\n\nevent: \xff\n"
    for size in (1, 2, 5, len(body)):
        records, texts = LineDecoder(), LineDecoder()
        chunks = [body[i : i + size] for i in range(0, len(body), size)]
        from_records = [line.text for chunk in chunks for line in records.feed(chunk)]
        assert from_records == [text for chunk in chunks for text in texts.feed_text(chunk)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (LineKind.BLANK, "", "")),
        (":", (LineKind.COMMENT, "", "")),
        (": ping", (LineKind.COMMENT, "", " ping")),  # C-12: comment text untouched
        ("data", (LineKind.FIELD, "data", "")),  # C-17
        ("data:", (LineKind.FIELD, "data", "")),
        ("data: x", (LineKind.FIELD, "data", "x")),  # C-15
        ("data:  x", (LineKind.FIELD, "data", " x")),
        ("data:\tx", (LineKind.FIELD, "data", "\tx")),
        ("data: a:b: c", (LineKind.FIELD, "data", "a:b: c")),  # C-14
        (" ", (LineKind.FIELD, " ", "")),  # C-19
        ("\ufeffdata: x", (LineKind.FIELD, "\ufeffdata", "x")),  # C-05
        ("Data: x", (LineKind.FIELD, "Data", "x")),  # C-16
    ],
    ids=repr,
)
def test_classify(text: str, expected: tuple[LineKind, str, str]) -> None:
    assert classify(text) == expected


def test_line_records_carry_classification() -> None:
    blank, comment, field = lines_of(b"\n:hi\nid: 7\n")
    assert blank.kind is LineKind.BLANK
    assert (comment.kind, comment.value) == (LineKind.COMMENT, "hi")
    assert (field.kind, field.name, field.value) == (LineKind.FIELD, "id", "7")


def test_line_longer_than_bound_raises() -> None:
    decoder = LineDecoder(max_line_bytes=8)
    decoder.feed(b"12345678")  # exactly at the bound: fine
    with pytest.raises(LineTooLong, match=r"passed 8 bytes"):
        decoder.feed(b"9")


def test_long_line_inside_one_chunk_raises() -> None:
    decoder = LineDecoder(max_line_bytes=8)
    with pytest.raises(LineTooLong, match=r"passed 8 bytes without a CR or LF"):
        decoder.feed(b"short\n" + b"x" * 20 + b"\nshort\n")


def test_lines_at_the_bound_pass() -> None:
    decoder = LineDecoder(max_line_bytes=8)
    assert [line.raw for line in decoder.feed(b"12345678\n" * 50)] == [b"12345678"] * 50


def test_long_line_in_small_chunks() -> None:
    """C-38: a line fed in many small chunks arrives intact; pending shows it so far."""
    decoder = LineDecoder()
    piece = b"x" * 1000
    for _ in range(300):
        assert decoder.feed(piece) == []
    assert decoder.pending == piece * 300
    decoder.feed(piece)
    (line,) = decoder.feed(b"\nnext")
    assert (line.raw, line.offset, line.end) == (piece * 301, 0, 301_001)
    assert decoder.pending == b"next"


def test_bound_counts_every_small_chunk() -> None:
    decoder = LineDecoder(max_line_bytes=2500)
    decoder.feed(b"ok\n")
    for _ in range(25):
        decoder.feed(b"y" * 100)  # 2500 bytes pending: at the bound, fine
    with pytest.raises(LineTooLong, match="starts at stream byte 3"):
        decoder.feed(b"y")
