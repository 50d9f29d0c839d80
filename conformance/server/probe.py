"""P-07's probe: is a second request answered while a stream is open?

Run after the main exchange, never during it: the stream being judged must not share the
server with the suite's own probes. The first stream is kept open while the second request
waits, for ``hold`` seconds at most; then the suite closes it and the second request waits on,
up to its own (generous) deadline. An answer that comes only once the stream is closed is a
fact: the server served one request at a time. No answer even then is a time-out, not a finding.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace

from .capture import Capture, Request, capture
from .registry import Probe

__all__ = ["probe"]

TRIES = 12  # a try costs one short stream; beside 4 CPU burners about 3 in 5 tries of a 20 ms stream race


async def probe(first_req: Request, second_req: Request, header_timeout: float, hold: float,
                tries: int = TRIES) -> Probe:
    """Open ``first_req``; once its headers are in, send ``second_req`` and time its answer.
    Up to ``tries`` times while the first stream ends by itself before that can tell (a stream
    of 14 ms beat a 3 ms answer in one run and not in the next): each try costs a short stream."""
    for attempt in range(1, tries + 1):
        found = replace(await _probe_once(first_req, second_req, header_timeout, hold), tries=attempt)
        if not found.raced_the_end:
            break
    return found


async def _probe_once(first_req: Request, second_req: Request, header_timeout: float,
                      hold: float) -> Probe:
    answered = asyncio.Event()  # set the moment the first's headers are in: a short stream races
    first = Capture(first_req, on_headers=answered.set)
    task = asyncio.ensure_future(capture(first_req, into=first))
    headers = asyncio.ensure_future(answered.wait())
    answer: asyncio.Future | None = None
    try:
        await asyncio.wait([task, headers], timeout=header_timeout, return_when=asyncio.FIRST_COMPLETED)
        # Whether the first stream has ended is what its capture saw (``t_end``), not whether the
        # task is done: closing the client after the end takes a few more steps.
        if first.status != 200 or first.t_end is not None or task.done():
            return Probe(first, None, 0.0, first.t_end)
        sent_at = time.monotonic() - first.t0
        answer = asyncio.ensure_future(capture(second_req))
        await asyncio.wait([answer], timeout=hold)
        closed_at = None
        if not answer.done() and first.t_end is None:
            closed_at = time.monotonic() - first.t0
            await _close(task)
        second = await answer
        if closed_at is None and first.t_end is not None and first.end.limited:
            closed_at = first.t_end  # its own read bound closed it
        ended = closed_at is None and first.t_end is not None
        return Probe(first, second, sent_at, first.t_end if ended else None, closed_at=closed_at)
    finally:
        for pending in (task, answer, headers):
            if pending is not None:
                await _close(pending)


async def _close(task: asyncio.Future) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
