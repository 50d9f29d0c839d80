"""The captured body seen through the core's line layer: lines, blocks, events, arrival times.

No second parser: lines come from :class:`conformance.sse.LineDecoder` and events from
:meth:`EventParser.feed_lines`, block by block, so each event knows the bytes that made it.
The body is fed in slices that never split a CRLF (exact terminators) and analysis stops after
``MAX_LINES`` lines, so a hostile body of millions of empty lines stays cheap.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..sse import Event, EventParser, Line, LineDecoder, LineKind
from .capture import Capture

__all__ = ["Block", "Stream", "analyse"]

MAX_LINES = 50_000  # a few µs of CPU per Line record: bounds analysis well under a second
SLICE = 16 * 1024


@dataclass
class Block:
    """The lines of one event block; ``end`` is its blank line, None when the body stopped first."""

    lines: list[Line]
    end: Line | None
    event: Event | None = None
    time: float | None = None  # when the dispatching blank line arrived

    @property
    def offset(self) -> int:
        return self.lines[0].offset

    @property
    def fields(self) -> list[Line]:
        """Field lines clients process (an unterminated last line is never processed, C-33)."""
        return [line for line in self.lines if line.kind is LineKind.FIELD and line.terminator]

    def names(self) -> set[str]:
        return {line.name for line in self.fields}


@dataclass
class Stream:
    # repr=False: asyncio reprs task results, and a repr of 50 000 Lines costs seconds.
    body: bytes = field(repr=False)
    lines: list[Line] = field(default_factory=list, repr=False)
    blocks: list[Block] = field(default_factory=list, repr=False)
    bom: bool = False
    truncated: bool = False  # analysis stopped at MAX_LINES

    @property
    def events(self) -> list[Block]:
        """Blocks that dispatched an event, in order."""
        return [b for b in self.blocks if b.event is not None]

    @property
    def tail(self) -> Block | None:
        """The block the body stopped inside, if any."""
        return self.blocks[-1] if self.blocks and self.blocks[-1].end is None else None

    @property
    def no_blank_line(self) -> bool:
        """Data lines and not one event: no blank line ever ended one (S-09). Every check that
        finds no event then fails for S-09's reason, and says so (``extra["follows"]``)."""
        return not self.events and any("data" in b.names() for b in self.blocks)

    def terminators(self) -> Counter[str]:
        return Counter(line.terminator_name for line in self.lines if line.terminator)


def _lines(body: bytes, limit: int) -> tuple[list[Line], bool, bool]:
    decoder = LineDecoder()
    lines: list[Line] = []
    start = 0
    while start < len(body):
        stop = min(start + SLICE, len(body))
        if body[stop - 1 : stop] == b"\r" and body[stop : stop + 1] == b"\n":
            stop += 1  # keep a CRLF in one feed so its terminator is exact
        lines += decoder.feed(body[start:stop])
        start = stop
        if len(lines) >= limit:
            return lines[:limit], decoder.bom_stripped, True
    return lines + decoder.close(), decoder.bom_stripped, False


def analyse(cap: Capture, max_lines: int = MAX_LINES) -> Stream:
    """Split the body into blocks and events; each dispatched event gets its arrival time."""
    body = bytes(cap.body)
    lines, bom, truncated = _lines(body, max_lines)
    stream = Stream(body, lines, bom=bom, truncated=truncated)
    parser = EventParser()
    pending: list[Line] = []
    for line in lines:
        if line.kind is not LineKind.BLANK or not line.terminator:
            pending.append(line)
            continue
        if pending:
            events = parser.feed_lines([*pending, line])
            block = Block(pending, line, events[0] if events else None, cap.time_at(line.end - 1))
            stream.blocks.append(block)
            pending = []
        else:
            parser.feed_lines([line])
    if pending:
        stream.blocks.append(Block(pending, None))
    return stream
