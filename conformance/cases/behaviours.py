"""What a case exercises, as named behaviours: the vocabulary cause inference reasons with.

Why: a case lists the rules it covers, but a failure says nothing about which of them the client
broke (a CR-only case lists C-08, C-37, C-13, C-20...). Behaviours are finer and each belongs to
one rule: ``cr`` (a lone CR ends a line) is C-08, ``id-only-block`` is C-30 while its neighbour
``dataless-block`` is C-39. A case declares its behaviours in ``exercises`` (the bytes must agree:
``static_behaviours`` derives the byte-level ones and the corpus test checks the data against it);
how a chunking split the body adds the split behaviours of one item (``split_behaviours``).
Pure functions of the case's bytes; nothing here does I/O.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .chunkings import cut_points
from .model import Case, Connection

__all__ = ["BEHAVIOURS", "BOUNDARY_BEHAVIOURS", "SPLIT_BEHAVIOURS", "Behaviour", "split_behaviours",
           "static_behaviours"]


@dataclass(frozen=True)
class Behaviour:
    """One thing a client may get wrong on its own: the rule it belongs to and its fix."""

    rule: str
    what: str  # completes "the client mishandles ..."
    fix: str


BEHAVIOURS: dict[str, Behaviour] = {
    # on a tie (one case shows several) the first is named: a lone CR is the one most often missed
    "cr": Behaviour("C-08", "a lone CR as a line end",
                    "end a line at a lone CR too (split on CRLF, LF and CR, bytes.splitlines-style)"),
    "crlf": Behaviour("C-08", "CRLF as one line end",
                      "treat CRLF as one line end: not a CR line end followed by an empty line, "
                      "and no CR left in the value"),
    "lf": Behaviour("C-08", "a lone LF as a line end",
                    "end a line at a lone LF too, not only at CRLF"),
    "mixed": Behaviour("C-09", "different line ends in one stream",
                       "treat each CR, LF or CRLF as its own terminator, however they mix"),
    "mixed-read": Behaviour("C-09", "a CRLF, then a lone LF or CR, in the same read",
                            "scan each read from where the last line ended: a CRLF early in a read "
                            "must not change how the later line ends in it are read"),
    "mixed-lf-blank": Behaviour("C-09", "an LF blank line after an LF line end, in a read where a CR "
                                "ended an earlier line",
                                "skip an LF only when it comes right after a CR: clear the 'skip the "
                                "next LF' mark at the next byte, whatever it is"),
    "other-breaks": Behaviour("C-11", "VT, FF, NEL, LS or PS inside a line",
                              "split lines on CR and LF only (str.splitlines also splits on U+2028, "
                              "NEL, VT, FF...)"),
    "bom": Behaviour("C-04", "a leading byte order mark",
                     "strip one U+FEFF at the very start of each response body"),
    "invalid-utf8": Behaviour("C-02", "invalid UTF-8",
                              "decode with errors='replace' (one U+FFFD per maximal invalid "
                              "subpart), never fail"),
    "comment": Behaviour("C-12", "comment lines",
                         "ignore every line that starts with a colon, wherever it appears"),
    "extra-blank": Behaviour("C-13", "a blank line with nothing buffered",
                             "dispatch only when data was buffered: a blank line after nothing "
                             "(or only comments) does nothing"),
    "no-colon": Behaviour("C-17", "a line without a colon",
                          "a line without a colon is a field named by the whole line, with an "
                          "empty value"),
    "no-space": Behaviour("C-15", "a field with no space after its colon (data:x)",
                          "the space after the colon is optional: split at the first colon, then "
                          "remove one leading space if there is one"),
    "dataless-block": Behaviour("C-39", "a block without data (only id, event or retry)",
                                "do not report an event for a block without data"),
    "id-only-block": Behaviour("C-30", "the id of a block without data",
                               "apply an id field when its line is processed, even in a block "
                               "without data: the next event carries it"),
    "inherited-id": Behaviour("C-27", "the last event ID on an event without an id field",
                              "keep the last event ID across events: an event without an id field "
                              "carries the last ID set, not an empty one (only an id field changes it)"),
    "type-only-block": Behaviour("C-26", "the type of a block without data",
                                 "reset the event type buffer after every blank line, even when "
                                 "no data was buffered"),
    "reserved-type": Behaviour("C-25", "an event typed error or open (names EventSource fires itself)",
                               "report the type as sent: a server event typed error or open is that "
                               "event, not the connection's own error or open"),
    "empty-data": Behaviour("C-21", "an empty data field",
                            "dispatch a block whose data field is empty as an event with empty data"),
    "multi-data": Behaviour("C-20", "several data lines in one event",
                            "join data lines with LF and remove exactly one trailing LF"),
    "empty-data-line": Behaviour("C-20", "an empty data line (data: with no value)",
                                 "keep an empty data line: it adds an empty line to the data (alone, "
                                 "an event with empty data)"),
    "trailing-empty-data": Behaviour("C-20", "an event whose last data line is empty",
                                     "remove exactly one LF after joining, never strip: data whose "
                                     "last line is empty ends with an LF"),
    "leading-empty-data": Behaviour("C-20", "an event whose first data line is empty, before others",
                                    "add the LF after every data line, an empty first one too (never "
                                    "only when the buffer already holds something)"),
    "huge-line": Behaviour("C-38", "a line of megabytes",
                           "buffer a whole line however large; never cap it below what the server sends"),
    "unterminated": Behaviour("C-33", "an unfinished block at the end of the body",
                              "discard the pending event at EOF; only a blank line dispatches"),
    "cr-at-end": Behaviour("C-10", "a CR that ends an event as the last byte sent so far",
                           "dispatch at the CR at once: do not wait for the next byte to see whether "
                           "an LF follows (skip that LF when it comes)"),
    "cr-before-pause": Behaviour("C-10", "a CR that ends an event as the last byte before a pause, the "
                                 "stream still open", "dispatch at the CR at once: do not wait for the "
                                 "next byte to see whether an LF follows (EOF is not the only flush)"),
    "type-case": Behaviour("N-03", "a Content-Type in upper or mixed case (Text/Event-Stream)",
                           "compare the MIME essence case-insensitively: TEXT/EVENT-STREAM is an "
                           "event stream"),
    "wrong-type": Behaviour("N-03", "a 200 response whose Content-Type is not text/event-stream",
                            "check the Content-Type before reading: fail the connection unless its "
                            "essence is text/event-stream (any parameters, any case)"),
    "other-2xx": Behaviour("N-04", "a 2xx status other than 200 (201, 206, 299)",
                           "accept only status 200: a check for success (fetch's res.ok, "
                           "raise_for_status) lets 201 and 206 through"),
    "server-error": Behaviour("N-04", "a 5xx status",
                              "fail the connection on a 5xx as on any status but 200, and do not "
                              "reconnect (EventSource once retried 500, 502, 503 and 504; the spec "
                              "no longer does)"),
    "other-redirect": Behaviour("N-06", "a 303 or 308 redirect (beside 301, 302 and 307)",
                                "follow every redirect status fetch follows, 303 and 308 included, "
                                "not only 301, 302 and 307"),
    "empty-location": Behaviour("N-07", "a redirect whose Location is empty",
                                "fail the connection on a 3xx whose Location is empty, as on one with none"),
    # how one item's chunking split the body (never declared: derived per item)
    "split-line": Behaviour("C-37", "a line split across reads",
                            "buffer bytes across reads; a line is complete only at CR, LF or CRLF"),
    "split-line-end": Behaviour("C-37", "a line end that starts a new read",
                                "a line end at the start of a read ends the line buffered from the "
                                "last read; it is a blank line only after a line end"),
    "split-blank": Behaviour("C-37", "a blank line that starts a new read",
                             "keep the line state across reads: a line end at the end of one read "
                             "and the blank line at the start of the next still dispatch"),
    "split-whitespace": Behaviour("C-37", "a read that starts inside a line with only whitespace",
                                  "decide what a line is from the bytes buffered across reads, never "
                                  "from one read alone: a read that starts with a space or a line "
                                  "end inside a line continues that line (a blank line is a line end "
                                  "right after another line end)"),
    "split-crlf": Behaviour("C-10", "a CRLF split across reads",
                            "end the line at CR at once; skip an LF that starts the next read"),
    "split-utf8": Behaviour("C-03", "a multi-byte character split across reads",
                            "decode incrementally (codecs.getincrementaldecoder('utf-8')) or decode "
                            "whole lines"),
    "split-bom": Behaviour("C-07", "a byte order mark split across reads",
                           "buffer up to 3 bytes at the start of the body before deciding whether "
                           "it is a BOM"),
}
# derived per item: where its reads start and end (the first ones need a read boundary to show)
BOUNDARY_BEHAVIOURS = frozenset({"split-line", "split-line-end", "split-blank", "split-whitespace",
                                 "split-crlf", "split-utf8", "split-bom"})
SPLIT_BEHAVIOURS = BOUNDARY_BEHAVIOURS | {"mixed-read", "mixed-lf-blank"}

_TERMINATOR = re.compile(rb"\r\n|\r|\n")
_OTHER_BREAKS = re.compile(rb"[\x0b\x0c\x1c-\x1e]|\xc2\x85|\xe2\x80[\xa8\xa9]")
_BOM = b"\xef\xbb\xbf"
_NO_SPACE = re.compile(rb"(?:data|event|id|retry)(?::(?! )|$)")  # a known field without ": " after it
_KINDS = {b"\n": "lf", b"\r\n": "crlf", b"\r": "cr"}
HUGE_LINE = 1 << 20  # bytes: past a reader's usual cap (aiohttp's 512 KiB), short of nothing else


@dataclass(frozen=True)
class _Line:
    start: int
    end: int  # where the content ends (the terminator starts)
    terminator: bytes  # b"" for an unfinished last line

    def text(self, body: bytes) -> bytes:
        return body[self.start:self.end]


def _lines(body: bytes) -> list[_Line]:
    lines, start = [], 0
    for match in _TERMINATOR.finditer(body):
        lines.append(_Line(start, match.start(), match.group()))
        start = match.end()
    if start < len(body):
        lines.append(_Line(start, len(body), b""))
    return lines


def _field(line: bytes) -> tuple[bytes, bytes] | None:
    """(name, value) of a field line; None for a comment."""
    if line.startswith(b":"):
        return None
    name, _, value = line.partition(b":")
    return name, value[1:] if value.startswith(b" ") else value


def _blocks(body: bytes) -> Iterator[tuple[list[tuple[bytes, bytes]], bool, bool]]:
    """Each block: its fields, whether a blank line ended it, whether it held only comments."""
    fields: list[tuple[bytes, bytes]] = []
    lines = 0
    body = body.removeprefix(_BOM)
    for line in _lines(body):
        text = line.text(body)
        if not text and line.terminator:
            yield fields, True, lines == 0 or not fields
            fields, lines = [], 0
            continue
        lines += 1
        field = _field(text)
        if field is not None:
            fields.append(field)
        if not line.terminator:
            yield fields, False, False
            return
    if fields:
        yield fields, False, False


def _connection_behaviours(connection: Connection) -> set[str]:
    body = connection.body_bytes()
    found = {_KINDS[m.group()] for m in _TERMINATOR.finditer(_without_idle_cr(body))}
    if len(found) > 1:
        found.add("mixed")
    unmarked = body.removeprefix(_BOM)  # line offsets below are into this, not into body
    texts = [ln.text(unmarked) for ln in _lines(unmarked)]
    checks: dict[str, Callable[[], bool]] = {
        "other-breaks": lambda: bool(_OTHER_BREAKS.search(body)),
        "bom": lambda: body.startswith(_BOM),
        "invalid-utf8": lambda: not _decodes(body),
        "comment": lambda: any(text.startswith(b":") for text in texts),
        "no-space": lambda: any(_NO_SPACE.match(text) for text in texts),
    }
    found |= {name for name, check in checks.items() if check()}
    last_id = b""
    for fields, dispatched, empty in _blocks(body):
        names = [name for name, _ in fields]
        ids = [value for name, value in fields if name == b"id" and b"\x00" not in value]
        last_id, inherited = (ids[-1] if ids else last_id), last_id and not ids
        if dispatched and empty and not names:
            found.add("extra-blank")
        if not dispatched:
            if fields and not connection.ends_held_open:
                found.add("unterminated")
            continue
        data = [value for name, value in fields if name == b"data"]
        if data and inherited:
            found.add("inherited-id")
        if not data and names:
            found.add("dataless-block")
            if ids:
                found.add("id-only-block")
            if b"event" in names:
                found.add("type-only-block")
        if data and [value for name, value in fields if name == b"event"][-1:] in ([b"error"], [b"open"]):
            found.add("reserved-type")  # the last event line of the block names it
        if data == [b""]:
            found.add("empty-data")
        if len(data) > 1:
            found.add("multi-data")
        if b"" in data:  # alone (empty-data too) or among others: a reader dropping it fails both
            found.add("empty-data-line")
        if len(data) > 1 and data[-1] == b"":  # the joined data ends with an LF: rstrip loses it
            found.add("trailing-empty-data")
        if len(data) > 1 and data[0] == b"":  # starts with an LF: "join if the buffer is set" loses it
            found.add("leading-empty-data")
    if any(b":" not in ln.text(body) and ln.text(body).strip(b"\xef\xbb\xbf")
           for ln in _lines(body)):
        found.add("no-colon")
    if _cr_ends_a_run(connection.byte_runs()):
        found.add("cr-at-end")
        if _cr_ends_a_run(connection.byte_runs(), last=connection.ends_held_open):
            found.add("cr-before-pause")  # not only at EOF, which flushes many a waiting reader
    if connection.longest_line > HUGE_LINE:
        found.add("huge-line")
    return found


def _without_idle_cr(body: bytes) -> bytes:
    """``body`` less a lone CR that is its last byte and ends a line with text: taken for a line
    end or not, that line is discarded at the end all the same, so no client is told apart by it
    (LE-026, ``data: a\r``, passes for a client blind to CR). A CR ending a blank line stays."""
    if not body.endswith(b"\r"):
        return body
    line = body[: -1].rsplit(b"\n", 1)[-1].rsplit(b"\r", 1)[-1]
    return body[:-1] if line else body


def _cr_ends_a_run(runs: list[bytes], last: bool = True) -> bool:
    """Is a lone CR that ends an event (the blank line after its data) the last byte before a
    pause or the end of the body (``last``: the end of the last run counts)? A reader that waits
    to see whether an LF follows holds it."""
    body, end = b"".join(runs), 0
    for run in runs if last else runs[:-1]:
        end += len(run)
        if not body[:end].endswith((b"\r\r", b"\n\r")) or body[end:end + 1] == b"\n":
            continue
        *_, (fields, _dispatched, _empty) = _blocks(body[:end])
        if any(name == b"data" for name, _ in fields):
            return True
    return False


def _decodes(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def static_behaviours(case: Case) -> frozenset[str]:
    """The behaviours a case's bytes show whatever the chunking (what ``exercises`` must list)."""
    if case.profile != "generic":
        return frozenset()
    found: set[str] = set()
    for connection in case.connections:
        if not connection.refused and not connection.no_response:
            found |= _connection_behaviours(connection)
            if connection.type_essence != connection.type_essence.lower():
                found.add("type-case")
        elif connection.status == 200 and not connection.no_response:
            found.add("wrong-type")  # a 200 to refuse: its type is the only reason
        elif 200 < connection.status < 300 and connection.status != 204:
            found.add("other-2xx")  # "ok", yet no stream (204 is a stop of its own, N-05)
        elif connection.status >= 500:
            found.add("server-error")
        elif 300 <= connection.status < 400 and connection.header("location") == "":
            found.add("empty-location")
        elif connection.status in (303, 308) and connection.header("location"):
            found.add("other-redirect")
    return frozenset(found)


def _boundaries(connection: Connection, chunking: str) -> tuple[bytes, list[int]]:
    """The body and every offset where a new read starts (the case's own pauses included)."""
    body, cuts, offset = b"", [], 0
    runs = connection.byte_runs()
    for run in runs:
        if offset:
            cuts.append(offset)
        cuts += [offset + cut for cut in cut_points(chunking, run)]
        offset += len(run)
    body = b"".join(runs)
    return body, cuts


def _split_behaviours(body: bytes, cuts: list[int]) -> set[str]:
    found: set[str] = set()
    cuts = sorted(set(cuts))
    lines = _lines(body)
    held = _pending(body, lines)
    for index, line in enumerate(lines):
        pending = held[index]
        if line.end > line.start and _cut_in(cuts, line.start, line.end):
            found.add("split-line")  # a cut inside its content or right before its terminator
        following = lines[index + 1] if index + 1 < len(lines) else None
        not_blank_next = following is None or following.end > following.start
        if pending and not_blank_next and _cut_in(cuts, line.end - 1, line.end):
            found.add("split-line-end")  # a reader taking it for a blank line dispatches too early
        if (line.terminator == b"\r\n" and _cut_in(cuts, line.end, line.end + 1) and line.end > line.start
                and following is not None and following.end > following.start):
            found.add("split-crlf")  # a CR|LF split a reader could take for an extra blank line
        before = lines[index - 1] if index else None
        if (line.end == line.start and line.terminator and before is not None and before.end > before.start
                and _cut_in(cuts, before.end, line.start)):
            found.add("split-blank")  # the blank line that dispatches starts a read, or its line end does
    bom = body.startswith(_BOM)
    if bom and _cut_in(cuts, 0, 2):
        found.add("split-bom")
    if any(0x80 <= body[cut] <= 0xBF and body[cut - 1] >= 0x80 for cut in cuts if not (bom and cut < 3)):
        found.add("split-utf8")
    if _mixed_read(lines, cuts):
        found.add("mixed-read")
    if _lf_blank_after_cr(lines, cuts):
        found.add("mixed-lf-blank")
    if _whitespace_starts_a_read(body, lines, cuts):
        found.add("split-whitespace")
    return found


def _whitespace_starts_a_read(body: bytes, lines: list[_Line], cuts: list[int]) -> bool:
    """Does a read start inside a line (or between its CR and LF) with nothing but whitespace up
    to the line's end or the read's? A reader that judges each read alone (``not piece.strip()``)
    takes it for a blank line. That shows when it cuts a field's value off, or when it dispatches
    a pending event before the lines that still belong to it."""
    starts = [line.start for line in lines]
    pending = _pending(body, lines)
    for index, cut in enumerate(cuts):
        found = bisect.bisect_right(starts, cut) - 1
        line = lines[found] if found >= 0 else None
        if line is None or line.end == line.start:
            continue
        stop = min(cuts[index + 1] if index + 1 < len(cuts) else len(body), line.end + len(line.terminator))
        if not (cut < stop and not body[cut:stop].strip()):
            continue
        following = lines[found + 1] if found + 1 < len(lines) else None
        early = pending[found] and (following is None or following.end > following.start)
        field = _field(_text(body, line))
        cut_off = field is not None and field[0] in _FIELDS and bool(body[cut:line.end].strip())
        inside = line.start <= cut < line.end
        if (inside and (cut_off or early)) or (not inside and early and (
                cut == line.end or (line.terminator == b"\r\n" and cut == line.end + 1))):
            return True
    return False


_FIELDS = (b"data", b"event", b"id")


def _text(body: bytes, line: _Line) -> bytes:
    """A line's text, without the BOM when it is the first line."""
    return line.text(body).removeprefix(_BOM) if line.start == 0 else line.text(body)


def _pending(body: bytes, lines: list[_Line]) -> list[bool]:
    """For each line: does its block hold data or a type by then, so an early dispatch shows?"""
    out, pending = [], False
    for line in lines:
        field = _field(_text(body, line)) if line.end > line.start else None
        pending = line.end > line.start and (pending or (field is not None and (
            field[0] == b"data" or (field[0] == b"event" and field[1] != b""))))
        out.append(pending)
    return out


def _lf_blank_after_cr(lines: list[_Line], cuts: list[int]) -> bool:
    """Does one read hold a CR line end and, later, an LF line end followed at once by an LF
    blank line? A reader whose "skip the LF after a CR" mark outlives the next byte eats it."""
    cr_in: set[int] = set()  # reads in which a CR ended a line so far
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else None
        read = bisect.bisect_right(cuts, line.end)
        if line.terminator.startswith(b"\r"):
            cr_in.add(read)
        elif (line.terminator == b"\n" and line.end > line.start and read in cr_in and following is not None
              and following.end == following.start and following.terminator == b"\n"
              and bisect.bisect_right(cuts, following.end) == read):
            return True
    return False


def _cut_in(cuts: list[int], low: int, high: int) -> bool:
    """Is a read boundary in (low, high]? ``cuts`` sorted."""
    index = bisect.bisect_right(cuts, low)
    return index < len(cuts) and cuts[index] <= high


def _mixed_read(lines: list[_Line], cuts: list[int]) -> bool:
    """Does one read hold a whole CRLF and, after it, a whole lone LF or CR?"""
    crlf_in: set[int] = set()  # reads that held a CRLF so far
    for line in lines:
        if line.terminator:
            first = bisect.bisect_right(cuts, line.end)
            if first != bisect.bisect_right(cuts, line.end + len(line.terminator) - 1):
                continue  # the terminator itself is split
            if line.terminator == b"\r\n":
                crlf_in.add(first)
            elif first in crlf_in:
                return True
    return False


_SPLITS: dict[tuple[str, str], tuple[Case, frozenset[str]]] = {}


def _split_cached(case: Case, chunking: str) -> frozenset[str]:
    """Memoised per case and chunking: REPORT.md asks for the same items once per library."""
    known = _SPLITS.get((case.id, chunking))
    if known is not None and known[0] is case:
        return known[1]
    found = _derive_splits(case, chunking)
    _SPLITS[(case.id, chunking)] = (case, found)
    return found


def _derive_splits(case: Case, chunking: str) -> frozenset[str]:
    found: set[str] = set()
    for connection in case.connections:
        if connection.refused or connection.no_response:
            continue
        body, cuts = _boundaries(connection, chunking)
        if len(body) > 1 << 20 and chunking in ("1-byte", "2-byte"):
            found.add("split-line")  # every line of a huge body is split: no need to look
            continue
        found |= _split_behaviours(body, cuts)
    return frozenset(found)


def split_behaviours(case: Case, chunking: str | None) -> frozenset[str]:
    """The behaviours one item adds by how its reads fall: split lines, blank lines, CRLFs,
    characters and BOMs across reads, and mixed line ends within one read."""
    if case.profile != "generic" or not chunking:
        return frozenset()
    return _split_cached(case, chunking)
