"""How late the reader was: the time it could not read, measured while it observes.

Why: only the reader's own lateness can make a streaming server look like a buffering one. A
reader that is not running lets the server's bytes pile up in the socket, and its next read
returns them at once, after a silence the server never made. So each read records how long,
since the previous read, the reader could not have been reading (its *lateness*):

- the reading thread's run-queue delay (runnable, not running), from
  ``/proc/thread-self/schedstat``, and its time on the CPU (busy with something else), from its
  CPU clock;
- the run-queue delay of the process's other threads: one may hold the GIL the reader waits
  for (an app served in-process), and a thread waiting for the GIL sleeps, invisible to its own
  schedstat.

A silence that a read of lateness L ended was at least (silence - L) long at the server: bytes
that came earlier would have been read when the reader last ran, which would have ended the
silence sooner. :func:`evened` spreads the bytes of every read over the time its reader was
late, as evenly as a streaming server would have sent them; a finding that still holds on those
times did not come from the reader.

Kernel receive timestamps do not give this: TCP merges the segments waiting in the queue and
stamps them all with the newest one's time.
"""

from __future__ import annotations

import os
import time
from bisect import bisect_right
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .capture import Capture

__all__ = ["MEASURES", "ReaderClock", "evened", "most_late", "parse_schedstat"]

NS = 1e-9
TASKS = "/proc/self/task"
OWN = "/proc/thread-self/schedstat"
STEP = 0.01  # seconds between the pieces a late read is spread into (well below any silence judged)
# What the lateness counts on this machine (schedstat needs Linux with CONFIG_SCHED_INFO).
MEASURES = "run queue and CPU" if os.path.exists(OWN) else "CPU time only"


def parse_schedstat(text: bytes | str) -> tuple[float, float]:
    """(seconds on the CPU, seconds waiting on a run queue) from one schedstat line:
    ``"<on-cpu ns> <run-queue ns> <timeslices>"``. Raises ValueError for anything else."""
    fields = text.split()
    if len(fields) != 3:
        raise ValueError(f"not a schedstat line: {text!r}")
    return int(fields[0]) * NS, int(fields[1]) * NS


class ReaderClock:
    """Seconds, summed since it started, during which the calling thread could not read.

    Made and read in the reading thread (``thread-self`` names the thread that opens it). Each
    reading costs one ``pread`` per thread of the process and one directory listing. Where
    schedstat is missing (not Linux, or a kernel without it) only the thread's CPU time counts
    (``MEASURES``)."""

    def __init__(self) -> None:
        self._own: int | None = _open(OWN)
        self._own_id = os.readlink("/proc/thread-self").rsplit("/", 1)[-1] if self._own is not None else ""
        self._others: dict[str, int] = {}

    def now(self) -> float:
        """The reader's lateness so far, in seconds (only differences between readings mean anything)."""
        if self._own is None:
            return time.thread_time()
        # CPU time from the thread's clock: schedstat adds a running thread's time only at
        # scheduler ticks, and a read's lateness can be a fraction of one.
        return time.thread_time() + _read(self._own)[1] + self._others_waiting()

    def _others_waiting(self) -> float:
        total = 0.0
        try:
            ids = set(os.listdir(TASKS)) - {self._own_id}
        except OSError:
            return 0.0
        for gone in set(self._others) - ids:
            os.close(self._others.pop(gone))
        for tid in ids:
            fd = self._others.get(tid)
            if fd is None:
                fd = _open(f"{TASKS}/{tid}/schedstat")
                if fd is None:
                    continue  # ended between the listing and the open
                self._others[tid] = fd
            try:
                total += _read(fd)[1]
            except (OSError, ValueError):
                continue
        return total

    def close(self) -> None:
        for fd in [self._own, *self._others.values()]:
            if fd is not None:
                os.close(fd)
        self._own, self._others = None, {}


def _open(path: str) -> int | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        parse_schedstat(os.pread(fd, 128, 0))
    except (OSError, ValueError):
        os.close(fd)
        return None
    return fd


def _read(fd: int) -> tuple[float, float]:
    return parse_schedstat(os.pread(fd, 128, 0))


def most_late(cap: Capture) -> float:
    """The largest lateness of one read (the headers' included) in a capture: what the
    verdict's message names when a late reader left a finding unproven."""
    return max([cap.headers_late, *cap.raw_lateness], default=0.0)


def evened(cap: Capture) -> Capture:
    """The capture as evenly spread as the reader's lateness allows. A judgement that still finds
    the same on these times does not rest on the reader's lateness.

    The bytes of a read that came ``late`` seconds after the reader could last have read may
    have reached the socket at any time in that window, though never before the read before
    it, which drained the socket. Reads between which the reader never waited for bytes (its
    lateness covers the whole time since the previous read, or the body came with the headers)
    form one group: their bytes may all have come in the first one's window. A group's bytes are
    spread evenly over its window in pieces ``STEP`` apart, none later than it was read. The
    headers come as early as their lateness allows."""
    headers = None if cap.t_headers is None else max(cap.t_headers - cap.headers_late, 0.0)
    groups = _groups(cap, headers or 0.0)
    return replace(cap, t_headers=headers, raw_arrivals=_spread(cap.raw_arrivals, cap.raw_size, groups),
                   arrivals=_spread(cap.arrivals, len(cap.body), groups))


class _Group(NamedTuple):
    first: float  # when its first read came
    last: float  # when its last read came
    start: float  # the earliest its bytes can have reached the socket


def _groups(cap: Capture, headers_from: float) -> list[_Group]:
    groups: list[_Group] = []
    previous, previous_start = cap.t_headers or 0.0, headers_from
    for (t, _), late in zip(cap.raw_arrivals, cap.raw_lateness, strict=True):
        never_waited = late >= t - previous - STEP
        if never_waited and groups:
            groups[-1] = groups[-1]._replace(last=t)
        else:
            start = previous_start if never_waited else max(t - late, previous)
            groups.append(_Group(t, t, start))
        previous, previous_start = t, groups[-1].start
    return groups


def _spread(arrivals: list[tuple[float, int]], total: int, groups: list[_Group]) -> list[tuple[float, int]]:
    """``arrivals`` (time, offset) with each group's bytes spread over its window."""
    if not groups:
        return list(arrivals)
    firsts = [g.first for g in groups]
    members: dict[int, list[int]] = {}
    for index, (t, _) in enumerate(arrivals):
        members.setdefault(max(bisect_right(firsts, t) - 1, 0), []).append(index)
    ends = [offset for _, offset in arrivals[1:]] + [total]
    out: list[tuple[float, int]] = []
    for group_index, indexes in sorted(members.items()):
        group, reads = groups[group_index], [arrivals[i] for i in indexes]
        low, high = reads[0][1], ends[indexes[-1]]
        size, span = high - low, max(reads[-1][0] - group.start, 0.0)
        pieces = max(1, min(size, int(span / STEP + 1e-9)))
        starts = [offset for _, offset in reads]
        for k in range(pieces):
            offset = low + k * size // pieces
            even = group.start + (k + 1) * span / pieces
            out.append((min(even, reads[bisect_right(starts, offset) - 1][0]), offset))
    return out
