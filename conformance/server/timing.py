"""How the body reached the client, measured on the wire: bursts, batches, held-back headers.

Why wire reads and not events: a buffering proxy or compressor decides when *bytes* move, and a
comment that arrives early proves the path does not buffer. So reads (before decompression,
comments included) are grouped into bursts, and each event is counted in the burst it arrived in.

Every criterion needs a long silence *and* many events moving at once, repeated or final; a
loaded machine only stretches pauses and coalesces a few reads, so it cannot fake a pattern.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from .capture import Capture, End
from .stream import Stream

__all__ = ["Burst", "Delivery", "measure"]

JOIN = 0.1  # reads closer than this are one burst
BATCH_GAP = 0.6  # a silence this long before a burst...
BATCH_EVENTS = 4  # ...that carries at least this many events is a batch
BATCH_REPEATS = 2  # batching is periodic from this many batches on
HELD_WAIT = 1.0  # every event in one final burst, after this long with nothing at all: held back
HEADERS_LATE = 3.0  # headers this late, glued to the first wire bytes, were held back
GLUED = 0.02  # "glued": within max(this, 5% of the headers' delay)
GLUED_SHARE = 0.05


@dataclass(frozen=True)
class Burst:
    start: float
    end: float
    wire_bytes: int
    events: int = 0
    gap_before: float = 0.0  # silence since the previous burst (or since the headers)
    cut: bool = False  # ends inside an event: a byte-count buffer, not the app, chose the cut

    def describe(self) -> str:
        cut = ", cut mid-event" if self.cut else ""
        return (f"{self.start:.2f} s: {self.events} events, {self.wire_bytes} bytes after "
                f"{self.gap_before:.2f} s of silence{cut}")


@dataclass
class Delivery:
    bursts: list[Burst] = field(default_factory=list)
    events: int = 0
    batches: list[Burst] = field(default_factory=list)  # bursts of many events after a long silence
    held_to_end: Burst | None = None  # every event in one last burst, nothing before, then the end
    nothing: bool = False  # the connection stayed open for the whole window and no byte came
    headers_held: float | None = None  # seconds the headers were held, glued to the first bytes

    @property
    def periodic(self) -> bool:
        return len(self.batches) >= BATCH_REPEATS

    @property
    def problem(self) -> bool:
        """A measured delivery problem that header clues may then explain."""
        return self.periodic or self.nothing or self.held_to_end is not None or self.headers_held is not None

    def evidence(self, limit: int = 4) -> str:
        shown = self.batches or self.bursts
        more = f" (+{len(shown) - limit} more)" if len(shown) > limit else ""
        return "; ".join(b.describe() for b in shown[:limit]) + more


def _bursts(cap: Capture, times: list[float], boundaries: set[int]) -> list[Burst]:
    groups: list[list[tuple[float, int]]] = []
    for arrival in cap.raw_arrivals:
        if groups and arrival[0] - groups[-1][-1][0] < JOIN:
            groups[-1].append(arrival)
        else:
            groups.append([arrival])
    out, previous = [], cap.t_headers or 0.0
    for index, group in enumerate(groups):
        start, end = group[0][0], group[-1][0]
        stop = groups[index + 1][0][1] if index + 1 < len(groups) else cap.raw_size
        count = sum(1 for t in times if start <= t <= end)
        decoded = _decoded_by(cap, end)
        cut = bool(boundaries) and decoded not in boundaries and decoded < len(cap.body)
        out.append(Burst(start, end, stop - group[0][1], count, start - previous, cut))
        previous = end
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
    delivery.bursts = _bursts(cap, times, boundaries)
    delivery.events = len(times)
    delivery.batches = [b for b in delivery.bursts if b.gap_before >= BATCH_GAP and b.events >= BATCH_EVENTS]
    delivery.nothing = cap.end is End.MAX_SECONDS and not cap.body
    last = delivery.bursts[-1] if delivery.bursts else None
    if (last is not None and len(delivery.bursts) == 1 and last.events >= BATCH_EVENTS
            and last.start >= HELD_WAIT and cap.end in (End.CLEAN, End.ABORTED)):
        delivery.held_to_end = last
    if cap.t_headers >= HEADERS_LATE and cap.raw_arrivals:
        glued = cap.raw_arrivals[0][0] - cap.t_headers
        if glued <= max(GLUED, GLUED_SHARE * cap.t_headers):
            delivery.headers_held = cap.t_headers
    return delivery


def _encoded(cap: Capture) -> bool:
    return (cap.header("content-encoding") or "identity").strip().lower() != "identity"


def largest_gap(bursts: list[Burst]) -> float:
    return max((b.start - a.end for a, b in pairwise(bursts)), default=0.0)
