"""The analysis layer: exact terminators across slices, blocks and events, arrival times, caps."""

from __future__ import annotations

import pytest

from conformance.server import stream as stream_module
from conformance.server.capture import Capture, Request
from conformance.server.stream import analyse


def captured(body: bytes, arrivals=((0.1, 0),)) -> Capture:
    cap = Capture(Request("GET", "http://127.0.0.1:1/"))
    cap.body += body
    cap.arrivals = list(arrivals)
    return cap


@pytest.mark.parametrize("cut", range(1, 12))
def test_crlf_is_exact_wherever_the_slices_fall(monkeypatch, cut):
    monkeypatch.setattr(stream_module, "SLICE", cut)
    s = analyse(captured(b"data: a\r\n\r\ndata: b\r\n\r\n"))
    assert [line.terminator_name for line in s.lines] == ["CRLF"] * 4
    assert [b.event.data for b in s.events] == ["a", "b"]


def test_blocks_events_and_times():
    body = b": hi\n\nid: 1\ndata: a\n\nevent: x\n\ndata: tail"
    s = analyse(captured(body, [(0.1, 0), (0.5, 12), (0.9, 30)]))
    assert [b.event.data if b.event else None for b in s.blocks] == [None, "a", None, None]
    assert s.events[0].time == 0.5  # its blank line (byte 20) arrived with the read at byte 12
    assert s.tail is s.blocks[-1] and s.tail.fields == []  # the unterminated line is never processed
    assert s.blocks[2].names() == {"event"}


def test_analysis_stops_at_the_line_cap():
    s = analyse(captured(b"\n" * 5000), max_lines=100)
    assert s.truncated and len(s.lines) == 100


def test_leading_bom_is_noted_and_offsets_count_it():
    s = analyse(captured(b"\xef\xbb\xbfdata: a\n\n"))
    assert s.bom and s.lines[0].offset == 3 and s.events[0].event.data == "a"
