"""Did load race the client's own read timer? Then the run is no fact about that timer.

A case about the client's read time-out (``read_timeout_ms``) expects the timer to fire on the
connection the script holds open, and nowhere else. Load can fire it elsewhere, and the client
is right to act on it. A case server kept off the CPU answers late, so the client goes its whole
time-out without a byte. A client kept off the CPU wakes to a due timer and waiting bytes at once,
and a timer of its own event loop (asyncio, libuv) may run first. Either way one request more, or
an event less, is the machine's doing.

So each connection that got a next request is weighed: how long the server took, from the
request's arrival, to get the connection's scripted bytes out and read (its *silence*), plus
how long the client's threads waited for a CPU before they asked again (``schedstat``). Under
half the time-out, the client had every byte of it long before its timer could be due. The
half leaves room for what neither stamp sees: a request waiting for a softirq on its way in,
the kernel's 4 ms stamps, the client's own work between its reads. Where a run of a failing
verdict raced, the runner runs it again (``runner.ClientRun.attempt``); a pass is never undone
by load (a race adds requests and loses events; it does not make a wrong client right).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ..cases.model import Case
from .slots import RecordedRequest

__all__ = ["RACE_ATTEMPTS", "timer_raced"]

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
    """From the request's arrival until its scripted bytes were out (and, where the kernel
    tells, read: a held stream's ``sent``; else the response's end), capped at the next request:
    a response still owed then was owed for all of it."""
    out = request.sent if request.sent is not None else request.ended
    until = following.received if out is None else min(out, following.received)
    return max(0.0, until - request.received) * 1000


def _starved_ms(request: RecordedRequest, following: RecordedRequest) -> float:
    """The client's run-queue wait between the two requests' stamps (0 where it cannot be seen)."""
    if request.starved_at_received is None or following.starved_at_received is None:
        return 0.0
    return max(0.0, following.starved_at_received - request.starved_at_received) * 1000
