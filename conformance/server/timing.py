"""How the body reached the client, measured on the wire and judged in dispatched events.

Wire reads (before decompression) are grouped into *releases*: reads under ``JOIN`` apart are
one release, the bytes some buffer or the app let go at once. Each dispatched event is counted in
the release its blank line came in. Bytes that complete no event (a compressor's 10-byte header, a
comment, half a line) are no delivery: a stream whose events all come in the release that ends the
body was held to its end, whatever came before.

A pattern then says who held the events (``Pattern``), from what the bytes show:
- releases cut mid-event, after long silences: a byte-count buffer (nginx, Apache: 4-8 KiB);
- releases that each just pass a known buffer size (PHP's output_buffering=4096);
- releases of several whole events after a fixed ~0.2 s hold, the headers held as long: the
  kernel cork of MSG_MORE (HAProxy without ``option http-no-delay``);
- releases of several whole events, nothing else to go on: the app's own writes or a timed flush,
  which the wire cannot tell apart (``GROUPED``).
Every pattern needs several releases of several events after a silence, repeated: a loaded
machine stretches pauses and merges a few reads, but cannot make a repeated pattern.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

from .capture import Capture, End
from .stream import Stream

__all__ = ["Burst", "Delivery", "Pattern", "measure"]

JOIN = 0.1  # reads closer than this are one release
BATCH_GAP = 0.6  # a silence this long before a release...
BATCH_EVENTS = 4  # ...that carries at least this many events is a batch
BATCH_REPEATS = 2  # batching is periodic from this many batches on
HELD_WAIT = 1.0  # no event before the final release, which came this late: held to the end
HELD_EVENTS = 2  # one late event may just have been written late; two or more were held
HEADERS_LATE = 3.0  # headers this late, glued to the first wire bytes, were held back (or 1 s+,
# glued to a body held to its end: a proxy that collects the response holds its headers too)
GLUED = 0.02  # "glued": within max(this, 5% of the headers' delay)
GLUED_SHARE = 0.05
GROUP_GAP = 0.15  # a release of several events after this much silence was held, or written so
GROUP_REPEATS = 3  # ...and a pattern from this many such releases on
GROUP_SHARE = 0.8  # ...when at least this share of the releases before the last are such
BUFFER_SIZES = (4096, 8192, 16384)  # PHP output_buffering, nginx proxy_buffer_size, Apache 8k
CORK = (0.18, 0.35)  # MSG_MORE: the kernel holds a corked segment 200 ms (+ one write interval)


class Pattern(str, enum.Enum):
    """Who held the events, as far as the wire shows."""

    NONE = "none"
    HELD = "held to the end"  # every event came with the body's end
    CUT = "byte buffer"  # releases cut mid-event after long silences
    THRESHOLD = "output buffer"  # releases that each just pass a known buffer size
    CORK = "cork"  # a fixed ~200 ms hold before each release (MSG_MORE)
    GROUPED = "grouped"  # several whole events at once: the app's writes or a timed flush


@dataclass(frozen=True)
class Burst:
    """One release: wire reads under ``JOIN`` apart."""

    start: float
    end: float
    wire_bytes: int
    events: int = 0
    gap_before: float = 0.0  # silence since the previous release (or since the headers)
    cut: bool = False  # ends inside an event: a byte-count buffer, not the app, chose the cut
    decoded: int = 0  # decoded body bytes it carried

    def describe(self) -> str:
        cut = ", cut mid-event" if self.cut else ""
        return (f"{self.start:.2f} s: {self.events} events, {self.wire_bytes} bytes after "
                f"{self.gap_before:.2f} s of silence{cut}")


@dataclass
class Delivery:
    bursts: list[Burst] = field(default_factory=list)
    events: int = 0
    batches: list[Burst] = field(default_factory=list)  # releases of many events after a long silence
    held_to_end: Burst | None = None  # no event before the final release, which came late
    final: Burst | None = None  # the release the body ended with (None: we stopped reading first)
    nothing: bool = False  # the read window ran out and not one event was dispatched
    headers_held: float | None = None  # seconds the headers were held, glued to the first bytes
    pattern: Pattern = Pattern.NONE
    groups: list[Burst] = field(default_factory=list)  # the releases that make the pattern
    buffer_size: int | None = None  # the known buffer size the releases just pass (THRESHOLD)
    early_bytes: int = 0  # wire bytes before the first event's release (a compressor's header)
    early_decoded: int = 0  # what they decoded to (0 for a gzip header; a comment's bytes)

    @property
    def periodic(self) -> bool:
        return len(self.batches) >= BATCH_REPEATS

    @property
    def held_share(self) -> float:
        """The share of events that arrived in the final release."""
        return self.final.events / self.events if self.final is not None and self.events else 0.0

    @property
    def problem(self) -> bool:
        """A measured delivery problem that header clues may then explain."""
        return (self.pattern not in (Pattern.NONE, Pattern.GROUPED) or self.nothing
                or self.headers_held is not None)

    def evidence(self, limit: int = 4) -> str:
        shown = self.groups or self.batches or self.bursts
        more = f" (+{len(shown) - limit} more)" if len(shown) > limit else ""
        return "; ".join(b.describe() for b in shown[:limit]) + more


def _releases(cap: Capture, times: list[float], boundaries: set[int]) -> list[Burst]:
    groups: list[list[tuple[float, int]]] = []
    for arrival in cap.raw_arrivals:
        if groups and arrival[0] - groups[-1][-1][0] < JOIN:
            groups[-1].append(arrival)
        else:
            groups.append([arrival])
    out, previous, decoded_before = [], cap.t_headers or 0.0, 0
    for index, group in enumerate(groups):
        start, end = group[0][0], group[-1][0]
        stop = groups[index + 1][0][1] if index + 1 < len(groups) else cap.raw_size
        count = sum(1 for t in times if start <= t <= end)
        decoded = _decoded_by(cap, end)
        cut = bool(boundaries) and decoded not in boundaries and decoded < len(cap.body)
        size = stop - group[0][1]
        out.append(Burst(start, end, size, count, start - previous, cut, decoded - decoded_before))
        previous, decoded_before = end, decoded
    return out


def _decoded_by(cap: Capture, moment: float) -> int:
    """Decoded body bytes that had arrived by ``moment``."""
    later = next((offset for t, offset in cap.arrivals if t > moment), None)
    return len(cap.body) if later is None else later


def measure(cap: Capture, stream: Stream) -> Delivery:
    """The delivery pattern of one capture (empty when there was no 200 body to time)."""
    delivery = Delivery()
    if cap.t_headers is None:
        return delivery
    times = [b.time for b in stream.events if b.time is not None]
    boundaries = {0} | {b.end.end for b in stream.blocks if b.end is not None} if not _encoded(cap) else set()
    releases = delivery.bursts = _releases(cap, times, boundaries)
    delivery.events = len(times)
    delivery.batches = [b for b in releases if b.gap_before >= BATCH_GAP and b.events >= BATCH_EVENTS]
    delivery.nothing = cap.end is End.MAX_SECONDS and not times
    if releases and cap.end in (End.CLEAN, End.ABORTED):
        delivery.final = releases[-1]
    first = next((i for i, b in enumerate(releases) if b.events), None)
    early = releases[:first] if first is not None else []
    delivery.early_bytes = sum(b.wire_bytes for b in early)
    delivery.early_decoded = sum(b.decoded for b in early)
    final = delivery.final
    if (final is not None and final.events == delivery.events >= HELD_EVENTS
            and final.start >= HELD_WAIT):
        delivery.held_to_end = final
    if cap.raw_arrivals and cap.raw_arrivals[0][0] - cap.t_headers <= max(GLUED, GLUED_SHARE * cap.t_headers):
        # glued to the first body bytes: held, when very late or held with a body held to its end
        held = delivery.held_to_end is not None and not delivery.early_bytes
        if cap.t_headers >= HEADERS_LATE or (held and cap.t_headers >= HELD_WAIT):
            delivery.headers_held = cap.t_headers
    _find_pattern(delivery, cap, stream)
    return delivery


def _find_pattern(delivery: Delivery, cap: Capture, stream: Stream) -> None:
    """Name who held the events, from the releases (first match of the table's order)."""
    if delivery.held_to_end is not None:
        delivery.pattern, delivery.groups = Pattern.HELD, [delivery.held_to_end]
        return
    if delivery.periodic and any(b.cut for b in delivery.batches):
        delivery.pattern, delivery.groups = Pattern.CUT, delivery.batches
        return
    body = delivery.bursts[:-1] if delivery.final is not None else delivery.bursts
    carrying = [b for b in body if b.events]
    groups = [b for b in carrying if b.events >= 2 and (b.gap_before >= GROUP_GAP or b is carrying[0])]
    if len(groups) < GROUP_REPEATS or len(groups) < GROUP_SHARE * len(carrying):
        if delivery.periodic:  # many events after long silences, on event boundaries
            delivery.pattern, delivery.groups = Pattern.GROUPED, delivery.batches
        return
    delivery.groups = groups
    size = _threshold(groups, stream)
    if size is not None:
        delivery.pattern, delivery.buffer_size = Pattern.THRESHOLD, size
    elif _corked(groups, cap):
        delivery.pattern = Pattern.CORK
    elif delivery.periodic:
        delivery.pattern, delivery.groups = Pattern.GROUPED, groups
    else:
        delivery.pattern = Pattern.GROUPED


def _threshold(groups: list[Burst], stream: Stream) -> int | None:
    """The known buffer size every release just passes (at least it, less than it plus one event)."""
    largest = max((b.end.end - b.offset for b in stream.events), default=0)
    for size in BUFFER_SIZES:
        if all(size <= b.decoded < size + largest for b in groups):
            return size
    return None


def _corked(groups: list[Burst], cap: Capture) -> bool:
    """Releases a steady ~0.2-0.35 s apart, the first glued to headers held as long: MSG_MORE."""
    gaps = [b.start - a.start for a, b in pairwise(groups)]
    steady = bool(gaps) and CORK[0] <= median(gaps) <= CORK[1]
    headers = cap.t_headers or 0.0
    return steady and CORK[0] <= headers and groups[0].start - headers <= GLUED


def _encoded(cap: Capture) -> bool:
    return (cap.header("content-encoding") or "identity").strip().lower() != "identity"


def largest_gap(bursts: list[Burst]) -> float:
    return max((b.start - a.end for a, b in pairwise(bursts)), default=0.0)
