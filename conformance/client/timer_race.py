"""Did load race the client's own timers? Then a failing run is no fact and runs again (at most
``RACE_ATTEMPTS`` times; load never undoes a pass). A read time-out: the server's silence plus the
client's run-queue wait before it asked again, past half the time-out (docs/timing.md). A
reconnection delay: a gap long enough as measured, short only less that wait (which may lie
inside a delay counted from the connection's end).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ..cases.model import Case
from .findings import gap_ms, reconnect_delay_findings, starved_in_gap_ms
from .slots import RecordedRequest

__all__ = ["RACE_ATTEMPTS", "delay_raced", "timer_raced"]

RACE_ATTEMPTS = 4  # runs of one item at most, while each raced the client's timer and failed


def timer_raced(case: Case, requests: Sequence[RecordedRequest]) -> str | None:
    """Why load may have fired the client's read timer in this run, or None where it cannot
    have: every connection up to the first 204 answered (and was read) in well under its time."""
    timeout_ms = case.client.read_timeout_ms
    if timeout_ms is None:
        return None
    watched = requests[: len(case.connections) + 2]  # the scripted ones, the first 204, the next
    weighed = [(number, _silence_ms(*pair), _starved_ms(*pair))
               for number, pair in enumerate(itertools.pairwise(watched), start=1)]
    number, silence, starved = max(weighed, key=lambda row: row[1] + row[2], default=(0, 0.0, 0.0))
    if silence + starved < timeout_ms / 2:
        return None
    return (f"request #{number}: the case server's answer took {silence:.0f} ms and the client waited "
            f"{starved:.0f} ms for a CPU before it asked again, against its {timeout_ms} ms read time-out: "
            "the machine, not the client, may have fired the timer")


def _silence_ms(request: RecordedRequest, following: RecordedRequest) -> float:
    """From the request's arrival until its scripted bytes were out and, where the kernel tells,
    read (a held stream's ``sent``, else the response's end), or until the next request if owed then."""
    out = request.sent if request.sent is not None else request.ended
    until = following.received if out is None else min(out, following.received)
    return max(0.0, until - request.received) * 1000


def _starved_ms(request: RecordedRequest, following: RecordedRequest) -> float:
    """The client's run-queue wait between the two requests' stamps (0 where it cannot be seen)."""
    if request.starved_at_received is None or following.starved_at_received is None:
        return 0.0
    return max(0.0, following.starved_at_received - request.starved_at_received) * 1000


def delay_raced(case: Case, requests: Sequence[RecordedRequest]) -> str | None:
    """Why load may have made a reconnection look too early (None: no gap misses the lower bound
    only less the run-queue wait; one short as measured is a fact, load only lengthens a gap)."""
    low = case.expect.min_reconnect_delay_ms
    if low is None:
        return None
    for number, pair in enumerate(itertools.pairwise(requests), start=2):
        gap, starved = gap_ms(*pair), starved_in_gap_ms(*pair)
        early = reconnect_delay_findings([gap], low, None, [starved])  # the judge's own test, less load
        if early and not reconnect_delay_findings([gap], low, None):  # ... and as measured
            return (f"request #{number} came {gap:.0f} ms after the previous connection ended, "
                    f"{starved[0]:.0f} ms of it waiting for a CPU: whether the client's own wait was under "
                    f"{low} ms, or that wait lay inside it, cannot be told")
    return None
