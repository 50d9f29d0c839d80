"""A small spec-following SSE parser with one bug planted on demand, for cause inference tests.

Each bug is one a real library shipped (the issue that asked for causes names them): lines end
only at LF, an id-only block's id is lost, a blank line at the start of a read is missed, a line
end that starts a read is taken for a blank line (sseclient-py 1.6), a CRLF earlier in a read
hides later lone LFs (eventsource #326), reads are not buffered, and a CRLF split across reads
counts twice. Four more are whole releases' bugs: a CR's "skip the next LF" mark that outlives
the next byte (eventsource-parser 2.0.1), a read judged alone so that a whitespace-only piece is
a blank line (sseclient-py 1.6), a CR at the end of a read held until the next read
(eventsource-parser 3.1.1), and an event that carries only its own block's id (eventsource
5.1.0). And the tutorials' own: a field is one only with a space after its colon
(``line.split(": ", 1)``), and an empty data value dropped (``if value:``, aiosseclient and
fetch-event-source), and joined data stripped of every trailing LF (requests-sse,
aiohttp-sse-client2). ``Planted(None)`` is correct; several bugs at once are a tuple.
"""

from __future__ import annotations

from conformance.sse import Event

BUGS = ("lf-only", "id-only", "blank-split", "mixed-read", "no-buffer", "crlf-split", "line-end-read",
        "sticky-cr", "strip-read", "cr-held", "block-id", "needs-space", "drops-empty-data",
        "rstrip-data")
_BOM = b"\xef\xbb\xbf"


class Planted:
    def __init__(self, bug: str | tuple[str, ...] | None = None) -> None:
        self.bugs = set(bug if isinstance(bug, tuple) else [bug] if bug else [])
        assert self.bugs <= set(BUGS), bug
        self.buffer = b""
        self.held_cr = b""  # cr-held: a CR that ended the last read, not yet looked at
        self.strip_pending = b""  # strip-read: the bytes gathered since the last blank piece
        self.skip_lf = False  # the last read ended with CR: an LF starting the next one is its pair
        self.start = True  # the BOM may still come
        self.data: list[str] = []
        self.type = ""
        self.last_id = ""
        self.block_id: str | None = None

    def feed(self, chunk: bytes) -> list[Event]:
        if "strip-read" in self.bugs:
            return self._strip_read(chunk)
        if "cr-held" in self.bugs:
            chunk, self.held_cr = self.held_cr + chunk, b""
            if chunk.endswith(b"\r"):
                chunk, self.held_cr = chunk[:-1], b"\r"
        return self._feed(chunk)

    def _strip_read(self, chunk: bytes) -> list[Event]:
        """sseclient-py 1.6: each read's line pieces, the first one taken for a blank line when it
        is whitespace only (1.6 does that to every piece: a line of spaces is a bug of its own)."""
        events: list[Event] = []
        for n, piece in enumerate(chunk.splitlines(True)):
            if not piece.strip() if n == 0 else piece in (b"\n", b"\r", b"\r\n"):
                events += self._feed(self.strip_pending + b"\n\n") if self.strip_pending.strip() else []
                self.strip_pending = b""
            self.strip_pending += piece
        return events

    def _feed(self, chunk: bytes) -> list[Event]:
        events: list[Event] = []
        if "blank-split" in self.bugs and not self.buffer and chunk[:1] in (b"\n", b"\r"):
            chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk[1:]  # the blank line is lost
        if "line-end-read" in self.bugs and self.buffer and chunk[:1] in (b"\n", b"\r"):
            # the line end of the buffered line, starting this read, taken for a blank line
            events += self._line(self.buffer.decode("utf-8", "replace")) + self._dispatch()
            self.buffer, chunk = b"", chunk[2:] if chunk.startswith(b"\r\n") else chunk[1:]
        if self.skip_lf and chunk.startswith(b"\n"):
            chunk = chunk if "crlf-split" in self.bugs else chunk[1:]
        self.skip_lf = False
        data = self.buffer + chunk
        if self.start:
            if len(data) < 3 and _BOM.startswith(data):
                self.buffer = data
                return events
            data, self.start = data.removeprefix(_BOM), False
        lines, rest = self._split(data)
        if "no-buffer" in self.bugs and rest:
            lines, rest = [*lines, rest], b""
        self.buffer = rest
        for line in lines:
            events += self._line(line.decode("utf-8", "replace"))
        return events

    def _split(self, data: bytes) -> tuple[list[bytes], bytes]:
        lines, start, i, seen_crlf, seen_cr, after_lf_line = [], 0, 0, False, False, False
        while i < len(data):
            byte = data[i:i + 1]
            if byte == b"\n" and after_lf_line and seen_cr and "sticky-cr" in self.bugs:
                start, after_lf_line = i + 1, False  # a CR's mark, earlier in the read, eats this LF
            elif byte == b"\r" and "lf-only" not in self.bugs:
                seen_cr = True
                lines.append(data[start:i])
                if i + 1 == len(data):
                    self.skip_lf = True
                elif data[i + 1:i + 2] == b"\n":
                    i, seen_crlf = i + 1, True
                start = i + 1
            elif byte == b"\n" and not ("mixed-read" in self.bugs and seen_crlf):
                line = data[start:i]
                lines.append(line[:-1] if "lf-only" in self.bugs and line.endswith(b"\r") else line)
                start, after_lf_line = i + 1, bool(line)
                i += 1
                continue
            after_lf_line = False
            i += 1
        return lines, data[start:]

    def _line(self, line: str) -> list[Event]:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return []
        if "needs-space" in self.bugs:  # the tutorials' line.split(": ", 1): "data:x" is no field
            name, colon, value = line.partition(": ")
            if not colon:
                return []
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
        if name == "data" and (value or "drops-empty-data" not in self.bugs):  # the other: if value:
            self.data.append(value)
        elif name == "event":
            self.type = value
        elif name == "id" and "\0" not in value:
            if self.bugs & {"id-only", "block-id"}:
                self.block_id = value
            else:
                self.last_id = value
        return []

    def _dispatch(self) -> list[Event]:
        events = []
        if self.data:
            if self.block_id is not None and "block-id" not in self.bugs:
                self.last_id = self.block_id
            own = self.block_id or "" if "block-id" in self.bugs else self.last_id
            data = "\n".join(self.data)
            data = data.rstrip("\n") if "rstrip-data" in self.bugs else data
            events.append(Event(self.type or "message", data, own))
        self.data, self.type, self.block_id = [], "", None
        return events
