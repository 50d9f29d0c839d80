"""A small spec-following SSE parser with one bug planted on demand, for cause inference tests.

Each bug is one a real library shipped (the issue that asked for causes names them): lines end
only at LF, an id-only block's id is lost, a blank line at the start of a read is missed
(sseclient-py 1.6), a CRLF earlier in a read hides later lone LFs (eventsource #326), reads are
not buffered, and a CRLF split across reads counts twice. With ``bug=None`` it is correct.
"""

from __future__ import annotations

from conformance.sse import Event

BUGS = ("lf-only", "id-only", "blank-split", "mixed-read", "no-buffer", "crlf-split")
_BOM = b"\xef\xbb\xbf"


class Planted:
    def __init__(self, bug: str | None = None) -> None:
        assert bug in (None, *BUGS), bug
        self.bug = bug
        self.buffer = b""
        self.skip_lf = False  # the last read ended with CR: an LF starting the next one is its pair
        self.start = True  # the BOM may still come
        self.data: list[str] = []
        self.type = ""
        self.last_id = ""
        self.block_id: str | None = None

    def feed(self, chunk: bytes) -> list[Event]:
        events: list[Event] = []
        if self.bug == "blank-split" and not self.buffer and chunk[:1] in (b"\n", b"\r"):
            chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk[1:]  # the blank line is lost
        if self.skip_lf and chunk.startswith(b"\n"):
            chunk = chunk if self.bug == "crlf-split" else chunk[1:]
        self.skip_lf = False
        data = self.buffer + chunk
        if self.start:
            if len(data) < 3 and _BOM.startswith(data):
                self.buffer = data
                return events
            data, self.start = data.removeprefix(_BOM), False
        lines, rest = self._split(data)
        if self.bug == "no-buffer" and rest:
            lines, rest = [*lines, rest], b""
        self.buffer = rest
        for line in lines:
            events += self._line(line.decode("utf-8", "replace"))
        return events

    def _split(self, data: bytes) -> tuple[list[bytes], bytes]:
        lines, start, i, seen_crlf = [], 0, 0, False
        while i < len(data):
            byte = data[i:i + 1]
            if byte == b"\r" and self.bug != "lf-only":
                lines.append(data[start:i])
                if i + 1 == len(data):
                    self.skip_lf = True
                elif data[i + 1:i + 2] == b"\n":
                    i, seen_crlf = i + 1, True
                start = i + 1
            elif byte == b"\n" and not (self.bug == "mixed-read" and seen_crlf):
                line = data[start:i]
                lines.append(line[:-1] if self.bug == "lf-only" and line.endswith(b"\r") else line)
                start = i + 1
            i += 1
        return lines, data[start:]

    def _line(self, line: str) -> list[Event]:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return []
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self.data.append(value)
        elif name == "event":
            self.type = value
        elif name == "id" and "\0" not in value:
            if self.bug == "id-only":
                self.block_id = value
            else:
                self.last_id = value
        return []

    def _dispatch(self) -> list[Event]:
        events = []
        if self.data:
            if self.block_id is not None:
                self.last_id = self.block_id
            events.append(Event(self.type or "message", "\n".join(self.data), self.last_id))
        self.data, self.type, self.block_id = [], "", None
        return events
