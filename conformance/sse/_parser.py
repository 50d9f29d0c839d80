"""The event layer: lines in, events out (`#event-stream-interpretation`, `#processField`,
`#dispatchMessage`). This is the suite's oracle; rules C-12..C-39 are its contract.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from itertools import repeat
from operator import itemgetter

from ._events import Event, make_event
from ._lines import Line, LineDecoder, LineKind

__all__ = ["EventParser", "EventTooLarge"]


class EventTooLarge(ValueError):
    """An event's data grew past the bound the caller set."""


_EVENT_TYPE = repeat(Event)  # endless and stateless, so one of each serves every parser
_MESSAGE = repeat("message")
_SIMPLE_FIELDS = {"data", "event", "id"}
_UNIFORM_MIN_BLOCKS = 12  # below this the column set-up costs more than the line loop saves


def _lines_of(text: str) -> list[str]:
    """Lines of LF-terminated text (as LineDecoder.feed_joined returns it)."""
    lines = text.split("\n")
    lines.pop()
    return lines


def _is_ascii_digits(value: str) -> bool:
    # str.isdigit() accepts Arabic-Indic and superscript digits; the spec wants ASCII only (C-35).
    return value.isascii() and value.isdigit()


class EventParser:
    """Incremental, sans-IO event-stream parser for one connection's worth of state.

    ``feed(bytes)`` returns the events those bytes complete; ``close()`` ends the body and
    discards an incomplete event (C-33). ``last_event_id`` and ``retry`` (milliseconds, or
    None until a valid ``retry`` field is seen) survive :meth:`reset`, which starts a new
    response body on reconnection (N-12, N-13, N-14).

    ``max_line_bytes`` and ``max_event_bytes`` bound memory: a hostile stream then raises
    :class:`~conformance.sse.LineTooLong` or :class:`EventTooLarge` instead of growing forever.
    The event bound counts the decoded characters of an event's data lines, plus one per line.
    """

    def __init__(
        self,
        *,
        last_event_id: str = "",
        retry: int | None = None,
        max_line_bytes: int | None = None,
        max_event_bytes: int | None = None,
    ) -> None:
        self.last_event_id = last_event_id
        self.retry = retry
        self.max_line_bytes = max_line_bytes
        self.max_event_bytes = max_event_bytes
        self.comments: list[str] | None = None
        self.reset()

    def reset(self) -> None:
        """Start a new response body: buffers, partial line, CR flag and BOM detection restart."""
        self._lines = LineDecoder(self.max_line_bytes)
        self._take = self._lines._take
        self._data: list[str] = []
        self._data_size = 0
        self._type = ""
        self._id_buffer = self.last_event_id
        self.closed = False

    @property
    def pending(self) -> bool:
        """True when a block (data, type or id) or a line has started and not been dispatched."""
        return bool(self._data or self._type or self._id_buffer != self.last_event_id or self._lines.pending)

    def keep_comments(self) -> None:
        """Record comment text in ``self.comments`` (for clients that report comments)."""
        self.comments = []

    # -- feeding -------------------------------------------------------------------------
    def feed(self, data: bytes) -> list[Event]:
        """Parse more bytes of the body; return the events they complete, in order.

        Fast path for the shape nearly every server sends, one ``data: `` line per event: when
        every complete block in the new text is exactly that, its events are built by C-level
        string methods and ``map``, with no Python loop per line; :meth:`_uniform_blocks` does
        the same for many blocks of one event/id/data shape. Anything else goes through the
        line loop (:meth:`_process`), as do the end of a block earlier feeds began and the
        incomplete block at the end. The property tests compare every path with feed_lines().
        """
        region = self._take(data)  # LineDecoder.feed_joined, inlined: this runs per chunk
        if not region:
            return []
        text = region.decode("utf-8", "replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        head = None
        if self._data or self._type or self._id_buffer != self.last_event_id:
            # Finish, line by line, the block earlier feeds started: up to its blank line.
            if text[0] == "\n":
                end = 1
            else:
                end = text.find("\n\n") + 2
                if end == 1:
                    return self._process(_lines_of(text))
            head = self._process(_lines_of(text[:end]))
            text = text[end:]
            if not text:
                return head
        # From here, text starts at a block boundary with nothing pending.
        events = None
        end = text.rfind("\n\n") + 2  # just past the last blank line (1: none in text)
        if end > 2 and text.startswith("data: "):
            values = text[6 : end - 2].split("\n\ndata: ")
            limit = self.max_event_bytes
            # Each "\n\ndata: " separator brings 2 LFs and the final blank line 2 more; when
            # there are no other LFs, text[:end] is exactly blocks of one "data: " line each.
            if text.count("\n", 0, end) == 2 * len(values) and (
                limit is None or max(map(len, values)) < limit  # else the line loop raises
            ):
                # With nothing pending, the type buffer is "" and the ID buffer is already the
                # last event ID (C-23, C-27): each block is Event("message", value, id).
                events = list(map(make_event, _EVENT_TYPE, zip(_MESSAGE, values, repeat(self._id_buffer))))
                if end < len(text):
                    events += self._process(_lines_of(text[end:]))
        if events is None and text.count("\n\n", 0, end) >= _UNIFORM_MIN_BLOCKS:
            events = self._uniform_blocks(text, end)
        if events is None:
            events = self._process(_lines_of(text))
        return head + events if head else events

    def _uniform_blocks(self, text: str, end: int) -> list[Event] | None:
        """Second fast path: every complete block is the same ``event: ``/``id: ``/``data: ``
        lines in the same order (``event: x`` + ``data: y`` as Anthropic sends, ``id: n`` +
        ``data: y``). Columns of lines are checked and sliced by C-level list and string
        methods. None when the text has any other shape: the caller then runs the line loop.
        """
        lines = text[: end - 2].split("\n")  # blocks of k lines with one "" between blocks
        first = lines.index("") if "" in lines else len(lines)
        names = [line.partition(": ")[0] for line in lines[:first]]
        width = first + 1
        if (len(lines) + 1) % width or not set(names) <= _SIMPLE_FIELDS or "data" not in names:
            return None
        if "".join(lines[first::width]):  # the separators: every one a blank line
            return None
        columns: dict[str, list[str]] = {}
        data: list[list[str]] = []
        for index, name in enumerate(names):
            column = lines[index::width]
            prefix = name + ": "
            if ("\n" + "\n".join(column)).count("\n" + prefix) != len(column):
                return None  # some block has another line here
            cells = list(map(itemgetter(slice(len(prefix), None)), column))
            if name == "data":
                data.append(cells)
            elif name == "event" or "\x00" not in "".join(cells):  # a NUL id is ignored (C-29)
                columns[name] = cells  # the last line of a name wins, as in the loop
            else:
                return None
        types = columns.get("event")
        if types is not None and "" in types:
            return None  # an empty type means "message" (C-24): leave that to the loop
        ids = columns.get("id")
        values = data[0] if len(data) == 1 else list(map("\n".join, zip(*data, strict=True)))
        limit = self.max_event_bytes
        if limit is not None and max(map(len, values)) >= limit:  # size: len + 1 LF (C-20)
            return None  # the loop raises EventTooLarge at the right line
        events = list(
            map(
                make_event,
                _EVENT_TYPE,
                zip(
                    _MESSAGE if types is None else types,
                    values,
                    repeat(self._id_buffer) if ids is None else ids,
                    strict=False,  # the repeats are endless
                ),
            )
        )
        if ids is not None:
            self._id_buffer = self.last_event_id = ids[-1]  # C-27: the last id persists
        if end < len(text):
            events += self._process(_lines_of(text[end:]))
        return events

    def close(self) -> list[Event]:
        """End of body. The pending block is discarded, its id too (C-33): always returns []."""
        self._lines.close()
        self._data = []
        self._data_size = 0
        self._type = ""
        self._id_buffer = self.last_event_id
        self.closed = True
        return []

    def feed_lines(self, lines: Iterable[Line]) -> list[Event]:
        """Build events from :class:`Line` records (the diagnostics path shares this layer)."""
        events: list[Event] = []
        for line in lines:
            if not line.terminator:
                continue  # an unterminated line at EOF is never processed (C-33)
            if line.kind is LineKind.BLANK:
                event = self._dispatch()
                if event is not None:
                    events.append(event)
            elif line.kind is LineKind.FIELD:
                self._field(line.name, line.value)
            elif self.comments is not None:
                self.comments.append(line.value)
        return events

    # -- the interpretation loop -----------------------------------------------------------
    def _process(self, lines: list[str]) -> list[Event]:
        if not lines:
            return []
        if self.max_event_bytes is not None or self.comments is not None:
            return self._process_general(lines)
        # Hot loop: `#processField` and `#dispatchMessage` inlined on local copies of the
        # buffers, written back at the end. _process_general is the same algorithm spelt out
        # through _field/_dispatch; the property tests hold the two to the same results.
        events: list[Event] = []
        append_event = events.append
        data = self._data
        append_data = data.append
        event_type, id_buffer, last_id = self._type, self._id_buffer, self.last_event_id
        for line in lines:
            if not line:  # dispatch (C-26, C-30: the id applies even with no data)
                last_id = id_buffer
                if data:
                    append_event(make_event(Event, (event_type or "message", "\n".join(data), id_buffer)))
                    data.clear()
                event_type = ""
            elif line[:5] == "data:":
                append_data(line[6:] if line[5:6] == " " else line[5:])
            else:
                name, _, value = line.partition(":")  # no colon: value "" (C-17)
                if value[:1] == " ":
                    value = value[1:]
                if name == "event":
                    event_type = value
                elif name == "id":
                    if "\x00" not in value:  # C-29
                        id_buffer = value
                elif name == "data":
                    append_data(value)
                elif name == "retry" and _is_ascii_digits(value):  # C-34, C-35
                    with suppress(ValueError):
                        self.retry = int(value)
                # comments (name "") and unknown fields are ignored (C-12, C-18)
        self._type, self._id_buffer, self.last_event_id = event_type, id_buffer, last_id
        return events

    def _process_general(self, lines: list[str]) -> list[Event]:
        events: list[Event] = []
        for line in lines:
            if not line:
                event = self._dispatch()
                if event is not None:
                    events.append(event)
            elif line[0] == ":":
                if self.comments is not None:
                    self.comments.append(line[1:])
            else:
                name, colon, value = line.partition(":")
                if colon and value[:1] == " ":
                    value = value[1:]
                self._field(name, value)
        return events

    def _field(self, name: str, value: str) -> None:
        """`#processField`: names compared exactly, no case folding (C-16)."""
        if name == "data":
            self._data.append(value)
            if self.max_event_bytes is not None:
                self._data_size += len(value) + 1
                if self._data_size > self.max_event_bytes:
                    raise EventTooLarge(f"an event's data passed {self.max_event_bytes} characters")
        elif name == "event":
            self._type = value
        elif name == "id":
            if "\x00" not in value:  # C-29
                self._id_buffer = value
        elif name == "retry" and _is_ascii_digits(value):  # C-34, C-35
            with suppress(ValueError):  # past Python's int digit limit: C-36 asks for no crash
                self.retry = int(value)
        # anything else is ignored (C-18)

    def _dispatch(self) -> Event | None:
        """`#dispatchMessage`: the id applies even when nothing is dispatched (C-30)."""
        self.last_event_id = self._id_buffer
        data, event_type = self._data, self._type
        self._type = ""
        if not data:
            return None  # C-26, C-39
        self._data = []
        self._data_size = 0
        return make_event(Event, (event_type or "message", "\n".join(data), self._id_buffer))
