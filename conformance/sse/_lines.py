"""The line layer: bytes in, lines out (`#event-stream-interpretation` steps 1, 2 and 4).

Rules this module owns, and nothing else does:

* C-03, C-07: UTF-8 sequences and the BOM may be split across feeds; bytes are buffered until a
  line is complete, and lines are decoded whole, so a split never produces U+FFFD.
* C-02: invalid UTF-8 becomes U+FFFD (maximal subparts, which is what Python's "replace" does).
  Decoding a run of whole lines at once gives the same text as decoding them one by one, because
  CR and LF can never be part of a multi-byte sequence.
* C-04, C-05, C-06: exactly one BOM is stripped, and only at the very start of the stream.
* C-08..C-11: a line ends at CRLF, at a lone LF, or at a lone CR, and at nothing else. A CR ends
  its line at once (no waiting for the next byte, C-10 latency); if the next byte, possibly in
  the next feed, is LF it is skipped.
* C-12, C-14, C-15, C-17, C-19: classification of a line as blank, comment or field, split at the
  first colon with one leading U+0020 removed from the value.

Two faces over one splitter (``_take``): :meth:`LineDecoder.feed_joined` returns the decoded
text of the completed lines, LF-terminated, which the event parser works on block by block (and
``feed_text`` splits into ``str`` lines); :meth:`LineDecoder.feed` returns :class:`Line` records
(raw bytes, terminator, byte offset, first invalid UTF-8 byte) for the server checks' diagnostics.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from ._events import TupleRecord, tuple_record

__all__ = ["BOM", "Line", "LineDecoder", "LineKind", "LineTooLong", "classify"]

BOM = b"\xef\xbb\xbf"
_LINE = re.compile(rb"([^\r\n]*)(\r\n|\r|\n)")
_new_record = tuple.__new__


class LineTooLong(ValueError):
    """A line grew past the bound the caller set: the stream is hostile or broken."""


class LineKind(str, enum.Enum):
    BLANK = "blank"
    COMMENT = "comment"
    FIELD = "field"


TERMINATOR_NAMES = {"\n": "LF", "\r": "CR", "\r\n": "CRLF", "": "EOF"}


def classify(text: str) -> tuple[LineKind, str, str]:
    """Return (kind, field name, field value) for one decoded line (C-14, C-15, C-17)."""
    if not text:
        return LineKind.BLANK, "", ""
    if text[0] == ":":
        return LineKind.COMMENT, "", text[1:]
    name, colon, value = text.partition(":")
    if colon and value[:1] == " ":
        value = value[1:]
    return LineKind.FIELD, name, value


@tuple_record
@dataclass(frozen=True, init=False, eq=False)
class Line(TupleRecord):
    """One line of an event stream, with what the server checks need to explain a verdict.

    ``offset`` is the byte offset of ``raw[0]`` in the response body (a stripped BOM counts);
    ``terminator`` is "\\n", "\\r", "\\r\\n", or "" for an unterminated last line (from
    ``close()``). A CRLF whose LF arrives in a later feed is reported as "\\r": feed a captured
    body whole when the exact terminator matters. For a comment, ``value`` is the text after the
    colon, untouched. Tuple-backed like :class:`Event`, so a captured body's lines cost little.
    """

    __slots__ = ()

    kind: LineKind
    text: str
    raw: bytes
    terminator: str
    offset: int
    name: str = ""
    value: str = ""
    invalid_utf8_at: int | None = None

    def __new__(
        cls,
        kind: LineKind,
        text: str,
        raw: bytes,
        terminator: str,
        offset: int,
        name: str = "",
        value: str = "",
        invalid_utf8_at: int | None = None,
    ) -> Line:
        return tuple.__new__(cls, (kind, text, raw, terminator, offset, name, value, invalid_utf8_at))

    @property
    def terminator_name(self) -> str:
        return TERMINATOR_NAMES[self.terminator]

    @property
    def end(self) -> int:
        """Byte offset just past this line's terminator."""
        return self.offset + len(self.raw) + len(self.terminator)


class LineDecoder:
    """Incremental bytes-to-lines splitter for one response body.

    ``max_line_bytes`` bounds the bytes buffered for one line; past it :class:`LineTooLong` is
    raised instead of growing memory without bound.
    """

    def __init__(self, max_line_bytes: int | None = None) -> None:
        self.max_line_bytes = max_line_bytes
        # The unterminated line so far: _buf, then _more (chunks without a terminator, kept
        # apart so a long line fed in small chunks is copied once, not once per chunk).
        self._buf = b""
        self._more: list[bytes] = []
        self._more_len = 0
        self._skip_lf = False
        self._bom_pending = True
        self._at_edge = True  # _skip_lf or _bom_pending: one test on the hot path
        self.bom_stripped = False
        self.bytes_seen = 0  # fed so far; the stream offset of the pending line is this - its length

    @property
    def pending(self) -> bytes:
        """Bytes of the current, not yet terminated, line."""
        if self._more:
            self._buf = b"".join([self._buf, *self._more])
            self._more, self._more_len = [], 0
        return self._buf

    def _take(self, data: bytes) -> bytes:
        """Add ``data``; return the region of complete lines it finishes.

        The region's stream offset is ``bytes_seen - len(region) - len(pending)``.
        """
        self.bytes_seen += len(data)
        if self._at_edge:
            if not data:
                return b""
            data = self._edge(self._buf + data)  # _buf is empty or part of a BOM here
            if data is None:
                return b""
        # The last terminator: the last LF, unless a CR comes after it (scan only that tail).
        cut = data.rfind(b"\n")
        cr = data.rfind(b"\r", cut + 1)
        if cr > cut:
            cut = cr
        if cut < 0:
            if self._buf:
                self._more.append(data)
                self._more_len += len(data)
            else:
                self._buf = data
            if self.max_line_bytes is not None and len(self._buf) + self._more_len > self.max_line_bytes:
                raise self._too_long(self.bytes_seen - len(self._buf) - self._more_len)
            return b""
        cut += 1
        region = self.pending + data[:cut] if self._buf else data[:cut]
        self._buf = rest = data[cut:]
        if not rest and cr == cut - 1:
            self._skip_lf = self._at_edge = True
        if self.max_line_bytes is not None:
            self._check_bounds(region, rest)
        return region

    def _edge(self, buf: bytes) -> bytes | None:
        """Skip the LF of a CRLF split across feeds (C-10); strip the stream's BOM (C-04, C-07).

        Returns the bytes left, or None while a BOM prefix waits for its next byte (kept in
        ``_buf``).
        """
        self._buf = b""
        if self._skip_lf:
            self._skip_lf = False
            if buf[0] == 10:
                buf = buf[1:]
        if self._bom_pending and buf:
            if buf[:3] == BOM:
                buf = buf[3:]
                self.bom_stripped = True
            elif len(buf) < 3 and BOM.startswith(buf):
                self._buf = buf
                return None
            self._bom_pending = False
        self._at_edge = self._skip_lf or self._bom_pending
        return buf

    def _check_bounds(self, region: bytes, rest: bytes) -> None:
        bound = self.max_line_bytes
        assert bound is not None
        if len(rest) > bound:
            raise self._too_long(self.bytes_seen - len(rest))
        if len(region) > bound:
            base = self.bytes_seen - len(rest) - len(region)
            for match in _LINE.finditer(region):
                if match.end(1) - match.start() > bound:
                    raise self._too_long(base + match.start())

    def _too_long(self, offset: int) -> LineTooLong:
        return LineTooLong(
            f"a line passed {self.max_line_bytes} bytes without a CR or LF (the line starts at stream "
            f"byte {offset})"
        )

    def feed_joined(self, data: bytes) -> str:
        """Add bytes; return the text of every line they complete, each ending in LF.

        One decode and one normalisation per feed, so a caller can work on whole blocks with
        C-speed string methods (EventParser.feed inlines this, as it runs once per chunk).
        CR and CRLF become LF here, which is safe because a CR can never be part of a line's
        text (C-08, C-11).
        """
        region = self._take(data)
        if not region:
            return ""
        text = region.decode("utf-8", "replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text

    def feed_text(self, data: bytes) -> list[str]:
        """Add bytes; return the decoded text of every line they complete."""
        lines = self.feed_joined(data).split("\n")
        lines.pop()  # the text ends with a terminator (or is empty), so the last piece is empty
        return lines

    def close_text(self) -> list[str]:
        """End of stream: the unterminated last line, if any (callers discard it, C-33)."""
        return [line.text for line in self.close()]

    def feed(self, data: bytes) -> list[Line]:
        """Add bytes; return a :class:`Line` for every line they complete."""
        region = self._take(data)
        if not region:
            return []
        start = self.bytes_seen - len(region) - len(self._buf)
        return [
            _make_line(m.group(1), m.group(2).decode("ascii"), start + m.start())
            for m in _LINE.finditer(region)
        ]

    def close(self) -> list[Line]:
        """End of stream: a :class:`Line` with terminator "" for unterminated bytes, if any."""
        buf, self._buf = self.pending, b""
        if not buf:
            return []
        return [_make_line(buf, "", self.bytes_seen - len(buf))]


def _make_line(raw: bytes, terminator: str, offset: int) -> Line:
    bad: int | None = None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = offset + error.start
        text = raw.decode("utf-8", "replace")
    kind, name, value = classify(text)
    return _new_record(Line, (kind, text, raw, terminator, offset, name, value, bad))
