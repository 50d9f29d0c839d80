"""Every byte example of rules C-01..C-39 (rules.md section A), under every chunking.

Each example is run whole, as given, one byte at a time, at every single split point, and
through the diagnostics path (LineDecoder -> Line -> EventParser.feed_lines). The last test shows
the same checks catch a deliberately naive parser, so they can fail.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest

from conformance.sse import Event, EventParser, LineDecoder

UNSET = object()
"""An expectation the example does not make (retry or last event ID left unchecked)."""

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Example:
    rule: str
    name: str
    chunks: Sequence[bytes]
    events: Sequence[tuple[str, str, str]]
    retry: object = UNSET
    last_event_id: object = UNSET
    start_retry: int | None = None
    small: bool = True  # small enough to feed byte by byte and at every split point

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.name}"


def ex(rule: str, name: str, chunks: bytes | Sequence[bytes], *events: tuple[str, str, str], **kw) -> Example:
    chunks = [chunks] if isinstance(chunks, bytes) else list(chunks)
    return Example(rule, name, chunks, list(events), **kw)


def msg(data: str, id: str = "", type: str = "message") -> tuple[str, str, str]:
    return (type, data, id)


# C-35: each of these retry values is ignored, leaving the reconnection time unchanged.
BOGUS_RETRY = {
    "empty": b"retry:",
    "bare": b"retry",
    "two-spaces": b"retry:  1000",
    "trailing-space": b"retry: 1000 ",
    "tab": b"retry:\t1000",
    "negative": b"retry: -1",
    "plus": b"retry: +1000",
    "underscore": b"retry: 1_000",
    "exponent": b"retry: 1e3",
    "decimal": b"retry: 1000.5",
    "hex": b"retry: 0x10",
    "arabic-indic": "retry: ١٠٠٠".encode(),
    "superscript": "retry: ¹⁰".encode(),
}

# C-29 (WPT format-field-id-null): each id value holds a NUL, so the field is ignored.
NUL_IDS = {
    "nul-nul": b"\x00\x00",
    "x-nul": b"x\x00",
    "nul-x": b"\x00x",
    "x-nul-x": b"x\x00x",
    "sp-nul": b" \x00",
}

C12 = (
    b"data:1\r:\x00\n:\r\ndata:2\n:"
    + b"x" * 2048
    + b"\rdata:3\n:data:fail\r:"
    + b"x" * 2048
    + b"\ndata:4\n\n"
)
C16 = (
    b"data:\x00\ndata:  2\rData:1\ndata\x00:2\ndata:1\r\x00data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n"
    b" data:32\ndata:4\n\n"
)
FIVE_MIB = "x" * (5 * 1024 * 1024)

EXAMPLES: list[Example] = [
    ex("C-01", "charset-ignored", b"data: ok\xe2\x80\xa6\n\n", msg("ok…")),
    ex("C-02", "invalid-bytes", b"data: \xff\xfe\n\n", msg("\ufffd\ufffd")),
    ex("C-02", "truncated-sequence", b"data: \xe2\x82\n\n", msg("\ufffd")),
    ex("C-03", "split-3-byte", [b"data: \xe2\x82", b"\xac\xe8\xb1\x86\n\n"], msg("€豆")),
    ex("C-03", "bytewise", [b"data: \xe2", b"\x82", b"\xac\n", b"\n"], msg("€")),
    ex("C-03", "split-4-byte", [b"data: \xf0\x9f", b"\x98\x80\n\n"], msg("😀")),
    ex("C-04", "bom-stripped", BOM + b"data: 1\n\n", msg("1")),
    ex("C-05", "second-bom-kept", BOM + BOM + b"data:1\n\ndata:2\n\ndata:3\n\n\n", msg("2"), msg("3")),
    ex(
        "C-06", "bom-later-is-text", BOM + b"data:1\n\n" + BOM + b"data:2\n\ndata:3\n\n\n", msg("1"), msg("3")
    ),
    ex("C-06", "bom-in-value", BOM + b"data: " + BOM + b"Hello\n\n", msg("\ufeffHello")),
    ex("C-07", "bom-split-2", [b"\xef\xbb", b"\xbfdata: Hello\n\n"], msg("Hello")),
    ex("C-07", "bom-split-3", [b"\xef", b"\xbb", b"\xbf", b"data: Hello\n\n"], msg("Hello")),
    # A lone 0xEF is not a BOM: kept (as U+FFFD), it makes the field name unknown.
    ex("C-07", "lone-ef-kept", [b"\xef", b"data: x\n\n"]),
    ex("C-07", "partial-bom-kept", [b"\xef\xbb", b"data: x\n\n"]),
    ex(
        "C-08", "cr-lf-crlf", b"data: cr\r\rdata: lf\n\ndata: crlf\r\n\r\n", msg("cr"), msg("lf"), msg("crlf")
    ),
    ex("C-08", "bare-data-line", b"data:test\r\ndata\ndata:test\r\n\r\n", msg("test\n\ntest")),
    ex("C-09", "cr-then-crlf", b"data: a\r\r\n", msg("a")),
    ex("C-09", "lf-then-crlf", b"data: a\n\r\n", msg("a")),
    ex("C-09", "crlf-then-lf", b"data: a\r\n\n", msg("a")),
    ex("C-09", "lf-then-cr-at-eof", b"data: a\n\r", msg("a")),
    ex("C-09", "lone-cr-at-eof", b"data: a\r"),
    ex(
        "C-10",
        "crlf-split",
        [b"data: Hello\r", b"\ndata: World\r", b"\n\r\ndata: OK\r", b"\n", b"\r", b"\n"],
        msg("Hello\nWorld"),
        msg("OK"),
    ),
    ex(
        "C-10",
        "crlf-split-once",
        [b"data: A\r\n", b"data: B\r", b"\n", b"data: C\r\n", b"\n"],
        msg("A\nB\nC"),
    ),
    ex(
        "C-11",
        "only-cr-lf-end-lines",
        b"data: a\x0bb\x0cc\x1cd\x1de\x1ef\xc2\x85g\xe2\x80\xa8h\xe2\x80\xa9i\n\n",
        msg("a\x0bb\x0cc\x1cd\x1de\x1ef\x85g\u2028h\u2029i"),
    ),
    ex("C-12", "comments-anywhere", C12, msg("1\n2\n3\n4")),
    ex("C-12", "bare-colon", b":\n\n"),
    ex("C-12", "ping", b": ping\n\n"),
    ex("C-13", "blank-lines", b"\n\n\n\ndata: x\n\n:\n\n", msg("x")),
    ex("C-13", "extra-blank-crlf", b"data: a\r\n\r\n\r\n\r\ndata: b\r\n\r\n", msg("a"), msg("b")),
    ex("C-13", "extra-blank-cr", b"data: a\r\r\r\rdata: b\r\r", msg("a"), msg("b")),
    ex("C-14", "first-colon", b"data: a:b: c\n\n", msg("a:b: c")),
    ex("C-14", "double-colon", b"data:: x\n\n", msg(": x")),
    ex("C-14", "id-with-colon", b"id: a:b\ndata: c\n\n", msg("c", "a:b"), last_event_id="a:b"),
    ex(
        "C-15",
        "one-space",
        b"data:test\n\ndata: test\n\ndata:  test\n\n",
        msg("test"),
        msg("test"),
        msg(" test"),
    ),
    ex("C-15", "tab-kept", b"data:\ttest\rdata: \ndata:test\n\n\n", msg("\ttest\n\ntest")),
    ex("C-15", "trailing-space-kept", b"data: a \nid: 1 \n\n", msg("a ", "1 ")),
    ex("C-16", "exact-names", C16, msg("\x00\n 2\n1\n3\n\n4")),
    ex("C-17", "no-colon", b"data:\n\ndata\ndata\n\ndata:test\n\n\n", msg(""), msg("\n"), msg("test")),
    ex("C-17", "spec-example", b"data\n\ndata\ndata\n\ndata:", msg(""), msg("\n")),
    ex(
        "C-18",
        "unknown-fields",
        b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n\n",
        msg("test\n\ntest"),
    ),
    ex("C-18", "prefixes", b"data: a\neventually\ndatabase\nidentity\nretrying\n\n", msg("a"), retry=None),
    ex("C-19", "space-line-not-blank", b"data: a\n \ndata: b\n\n", msg("a\nb")),
    ex("C-20", "spec-yhoo", b"data: YHOO\ndata: +2\ndata: 10\n\n", msg("YHOO\n+2\n10")),
    ex("C-20", "two-empty", b"data:\ndata:\n\n", msg("\n")),
    ex("C-20", "trailing-empty", b"data: a\ndata:\n\n", msg("a\n")),
    ex("C-20", "leading-empty", b"data:\ndata: x\n\n", msg("\nx")),
    ex("C-21", "empty-data", b"data:\n\n", msg("")),
    ex("C-22", "nul-in-data", b"data:\x00\n\n", msg("\x00")),
    ex("C-23", "type-then-reset", b"event:test\ndata:x\n\ndata:x\n\n", msg("x", type="test"), msg("x")),
    ex("C-24", "empty-type", b"event: \ndata:data\n\n", msg("data")),
    ex("C-25", "extra-spaces", b"event:  greeting\ndata:  Hello\n\n", msg(" Hello", type=" greeting")),
    ex(
        "C-25",
        "exact-case",
        b"event: error\ndata: x\n\nevent: Message\ndata: z\n\n",
        msg("x", type="error"),
        msg("z", type="Message"),
    ),
    ex("C-26", "no-data-resets-type", b"event: foo\n\ndata: x\n\n", msg("x")),
    ex(
        "C-27",
        "id-persists",
        b"id: 1\ndata: 1\n\ndata: 2\n\nid: 2\ndata:3\n\ndata:4\n\n",
        msg("1", "1"),
        msg("2", "1"),
        msg("3", "2"),
        msg("4", "2"),
        last_event_id="2",
    ),
    ex("C-28", "empty-id", b"id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n", msg("1", "1"), msg("2"), msg("3")),
    ex("C-28", "bare-id", b"id: 1\ndata: 1\n\nid\ndata:2\n\ndata:3\n\n", msg("1", "1"), msg("2"), msg("3")),
    ex(
        "C-28",
        "spec-example",
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n",
        msg("first event", "1"),
        msg("second event"),
        last_event_id="",
    ),
    ex("C-29", "nul-id-ignored", b"id: 123\nid: bad\x00id\ndata: hello\n\n", msg("hello", "123")),
    *[
        ex(
            "C-29",
            f"wpt-{name}",
            b"id: " + value + b"\nretry: 200\ndata: hello\n\n",
            msg("hello"),
            retry=200,
            last_event_id="",
        )
        for name, value in NUL_IDS.items()
    ],
    ex("C-30", "id-only-block", b"id: 42\n\ndata: x\n\n", msg("x", "42")),
    ex("C-30", "id-only-block-sets-last-id", b"id: 42\n\n", last_event_id="42"),
    ex("C-31", "field-order", b"data: Hello\nid: abc\nevent: greeting\n\n", msg("Hello", "abc", "greeting")),
    ex(
        "C-32", "non-ascii-id", b"id: \xe2\x80\xa6\nretry: 200\ndata: hello\n\n", msg("hello", "…"), retry=200
    ),
    ex("C-33", "unterminated-event", b"data: first\n\ndata: second", msg("first")),
    ex("C-33", "id-never-applied", b"data: x\nid: 7\n", last_event_id=""),
    ex(
        "C-33",
        "wpt-final-block",
        b"retry:1000\ndata:test1\n\nid:test\ndata:test2\n",
        msg("test1"),
        retry=1000,
        last_event_id="",
    ),
    ex("C-34", "leading-zeros", b"retry: 03000\ndata:x\n\n", msg("x"), retry=3000),
    ex("C-34", "bogus-ignored", b"retry:3000\nretry:1000x\ndata:x\n\n\n", msg("x"), retry=3000),
    *[
        ex("C-35", f"bogus-{name}", line + b"\ndata:x\n\n", msg("x"), retry=3000, start_retry=3000)
        for name, line in BOGUS_RETRY.items()
    ],
    ex("C-35", "bogus-from-unset", b"retry: -1\ndata:x\n\n", msg("x"), retry=None),
    ex("C-36", "no-dispatch-needed", b"retry: 5000\n\n", retry=5000),
    ex("C-36", "applies-before-eof", b"data: x\nretry: 5000\n", retry=5000),
    ex("C-36", "unterminated-discarded", b"retry: 5000", retry=None),
    ex("C-36", "zero-valid", b"retry: 0\n\n", retry=0),
    ex("C-36", "twenty-digits", b"retry: 12345678901234567890\n\n", retry=12345678901234567890),
    ex("C-37", "three-chunks", [b"data: test", b"test\n\ndata:", b"test\n\n"], msg("testtest"), msg("test")),
    ex(
        "C-38",
        "hundred-in-order",
        b"".join(b"data: message %d\n\n" % i for i in range(100)),
        *[msg(f"message {i}") for i in range(100)],
    ),
    ex("C-38", "5mib-line", b"data: " + FIVE_MIB.encode() + b"\n\n", msg(FIVE_MIB), small=False),
    ex(
        "C-38",
        "10mib-line-in-5mib-chunks",
        [b"data: " + FIVE_MIB.encode(), FIVE_MIB.encode() + b"\n\n"],
        msg(FIVE_MIB * 2),
        small=False,
    ),
    ex(
        "C-39",
        "no-data-no-event",
        b"id: 1\n\nevent: x\n\nretry: 5\n\ndata: y\n\n",
        msg("y", "1"),
        retry=5,
        last_event_id="1",
    ),
]


# -- chunkings -------------------------------------------------------------------------------

Chunking = Callable[[Example], Iterator[tuple[str, list[bytes]]]]


def whole(example: Example) -> Iterator[tuple[str, list[bytes]]]:
    yield "whole", [b"".join(example.chunks)]


def as_given(example: Example) -> Iterator[tuple[str, list[bytes]]]:
    yield "as given", list(example.chunks)


def bytewise(example: Example) -> Iterator[tuple[str, list[bytes]]]:
    body = b"".join(example.chunks)
    yield "1 byte at a time", [body[i : i + 1] for i in range(len(body))]


def every_split(example: Example) -> Iterator[tuple[str, list[bytes]]]:
    body = b"".join(example.chunks)
    for i in range(1, len(body)):
        yield f"split at byte {i}", [body[:i], body[i:]]


CHUNKINGS: dict[str, tuple[Chunking, bool]] = {  # name -> (chunking, needs a small example)
    "whole": (whole, False),
    "given": (as_given, False),
    "bytewise": (bytewise, True),
    "splits": (every_split, True),
}


# -- running an example ----------------------------------------------------------------------

Outcome = tuple[list[Event], "int | None", str]  # events, retry, last_event_id


def run_feed(example: Example, chunks: list[bytes]) -> Outcome:
    parser = EventParser(retry=example.start_retry)
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    events += parser.close()
    return events, parser.retry, parser.last_event_id


def run_lines(example: Example, chunks: list[bytes]) -> Outcome:
    """The diagnostics path: Line records from LineDecoder, events from feed_lines()."""
    decoder = LineDecoder()
    parser = EventParser(retry=example.start_retry)
    events = [event for chunk in chunks for event in parser.feed_lines(decoder.feed(chunk))]
    events += parser.feed_lines(decoder.close())
    return events, parser.retry, parser.last_event_id


def mismatch(example: Example, outcome: Outcome) -> str | None:
    """Why ``outcome`` breaks the example's expectations, or None when it meets them."""
    events, retry, last_event_id = outcome
    expected = [Event(*triple) for triple in example.events]
    if events != expected:
        return f"events {short(events)} != expected {short(expected)}"
    if example.retry is not UNSET and retry != example.retry:
        return f"retry {retry!r} != expected {example.retry!r}"
    if example.last_event_id is not UNSET and last_event_id != example.last_event_id:
        return f"last_event_id {last_event_id!r} != expected {example.last_event_id!r}"
    return None


def short(value: object) -> str:
    text = repr(value)
    return text if len(text) < 300 else text[:300] + "..."


def check(example: Example, chunking: Chunking, run: Callable[[Example, list[bytes]], Outcome]) -> None:
    for label, chunks in chunking(example):
        problem = mismatch(example, run(example, chunks))
        assert problem is None, f"{example.id} fed {label}: {problem}"


def cases(skip: tuple[str, ...] = ()) -> Iterator[object]:
    for example in EXAMPLES:
        for name, (_, needs_small) in CHUNKINGS.items():
            if (needs_small and not example.small) or name in skip:
                continue
            if name == "given" and len(example.chunks) == 1:
                continue  # same as whole
            yield pytest.param(example, name, id=f"{example.id}-{name}")


@pytest.mark.parametrize(("example", "chunking"), list(cases()))
def test_rule_example(example: Example, chunking: str) -> None:
    check(example, CHUNKINGS[chunking][0], run_feed)


# Every split point is feed()'s job above; the Line path is compared with feed() under random
# splits by the property tests, so here it runs whole, as given and byte by byte.
@pytest.mark.parametrize(("example", "chunking"), list(cases(skip=("splits",))))
def test_rule_example_through_lines(example: Example, chunking: str) -> None:
    check(example, CHUNKINGS[chunking][0], run_lines)


def test_every_catalogue_rule_has_an_example() -> None:
    assert {example.rule for example in EXAMPLES} == {f"C-{n:02d}" for n in range(1, 40)}


def test_example_ids_are_unique() -> None:
    ids = [example.id for example in EXAMPLES]
    assert len(ids) == len(set(ids))


def test_c10_cr_dispatches_without_waiting() -> None:
    """C-10 latency: a CR ends its line at once; no later byte is needed to dispatch."""
    parser = EventParser()
    assert parser.feed(b"data: x\r\r") == [Event("message", "x", "")]
    assert parser.feed(b"\n") == []  # the LF of the final CRLF is skipped, not a new blank line
    assert parser.feed(b"data: y\r") == []
    assert parser.feed(b"\r") == [Event("message", "y", "")]


# -- the checks can fail: a naive parser breaks them ------------------------------------------


# Line breaks of two typical hand-rolled parsers: LF only, and everything str.splitlines() takes.
NAIVE_BREAKS = {
    "lf-strip": re.compile("\n"),
    "splitlines": re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]"),
}


def run_naive(example: Example, chunks: list[bytes], breaks: re.Pattern[str]) -> Outcome:
    """A typical hand-rolled parser: per-chunk decode and split, strip, dispatch at EOF."""
    events: list[Event] = []
    retry, last_id, data, event_type, text = example.start_retry, "", [], "", ""

    def dispatch() -> None:
        nonlocal event_type
        if data:
            events.append(Event(event_type or "message", "\n".join(data), last_id))
        data.clear()
        event_type = ""

    for chunk in [*chunks, None]:
        text += chunk.decode("utf-8", "replace") if chunk is not None else "\n"
        *lines, text = breaks.split(text)
        for line in lines:
            line = line.strip()
            if not line:
                dispatch()
                continue
            name, _, value = line.partition(":")
            value = value.strip()
            if name == "data":
                data.append(value)
            elif name == "event":
                event_type = value
            elif name == "id":
                last_id = value
            elif name == "retry":
                with contextlib.suppress(ValueError):
                    retry = int(value)
    dispatch()
    return events, retry, last_id


NAIVE_CATCHES = [  # (naive parser, example id, the chunking that exposes it)
    ("lf-strip", "C-03-bytewise", "given"),
    ("lf-strip", "C-04-bom-stripped", "whole"),
    ("lf-strip", "C-08-cr-lf-crlf", "whole"),
    ("lf-strip", "C-09-lone-cr-at-eof", "whole"),
    ("lf-strip", "C-15-one-space", "whole"),
    ("lf-strip", "C-15-trailing-space-kept", "whole"),
    ("lf-strip", "C-19-space-line-not-blank", "whole"),
    ("lf-strip", "C-29-nul-id-ignored", "whole"),
    ("lf-strip", "C-33-unterminated-event", "whole"),
    ("lf-strip", "C-35-bogus-plus", "whole"),
    ("lf-strip", "C-35-bogus-arabic-indic", "whole"),
    ("splitlines", "C-10-crlf-split-once", "given"),
    ("splitlines", "C-10-crlf-split", "splits"),
    ("splitlines", "C-11-only-cr-lf-end-lines", "whole"),
    ("splitlines", "C-07-bom-split-2", "given"),
]


@pytest.mark.parametrize(
    ("naive", "example_id", "chunking"), [pytest.param(*c, id=f"{c[1]}-{c[0]}") for c in NAIVE_CATCHES]
)
def test_checks_catch_a_naive_parser(naive: str, example_id: str, chunking: str) -> None:
    example = next(e for e in EXAMPLES if e.id == example_id)
    split = CHUNKINGS[chunking][0]
    problems = [
        mismatch(example, run_naive(example, chunks, NAIVE_BREAKS[naive])) for _, chunks in split(example)
    ]
    assert any(problems), f"the {naive} parser passes {example_id}: that check cannot fail"
    # ... while the real parser passes the very same check.
    check(example, split, run_feed)


def test_naive_parser_agrees_on_plain_events() -> None:
    """Sanity of the control: the naive parser is right on the simplest stream."""
    example = next(e for e in EXAMPLES if e.id == "C-20-spec-yhoo")
    for breaks in NAIVE_BREAKS.values():
        assert mismatch(example, run_naive(example, list(example.chunks), breaks)) is None


def test_test_ids_start_with_rule_id() -> None:
    assert all(re.fullmatch(r"C-\d\d-[a-z0-9-]+", e.id) for e in EXAMPLES)
