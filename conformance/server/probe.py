"""P-07's probe: is a second request answered while a stream is open?

Run after the main exchange, never during it: the stream being judged must not share the
server with the suite's own probes. The first stream is kept open while the second request
waits, for ``hold`` seconds at most; then the suite closes it and the second request waits on,
up to its own (generous) deadline. An answer that comes only once the stream is closed is a
fact: the server served one request at a time. No answer even then is a time-out, not a finding.

Over plain HTTP/1.1 on Linux both requests are sent at once and the kernel's byte counts judge
(``overlap.py``): a look at which both responses were coming in proves the server answers a
second request while a stream is open, however late the look, so a busy machine cannot turn a
short stream's pass into "could not tell". Elsewhere (TLS, HTTP/2) the second request is sent
once the first's headers are in, and the order the reader saw, less its lateness, judges.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import time
from dataclasses import replace

from .capture import Capture, Request, capture
from .overlap import Looks, data_received, in_progress_together, quiet
from .registry import Probe

__all__ = ["probe"]

# Loop steps (not seconds: load cannot shorten them) in which the first stream may still see an
# end that reached its socket with the answer: then the answer may have come after it.
SETTLE_STEPS = 20
# A try costs one short stream. Counted, a concurrent server's 15 ms stream told in the first try
# in 60 of 60 probes (quiet, beside a client suite, beside 8 CPU burners); a serial one uses all.
TRIES = 12


async def probe(first_req: Request, second_req: Request, header_timeout: float, hold: float,
                tries: int = TRIES) -> Probe:
    """Is ``second_req`` answered while ``first_req``'s stream is open? Up to ``tries`` times
    while a stream that ends by itself leaves that untold (a stream of 14 ms beat a 3 ms answer in
    one run and not in the next): each try costs a short stream."""
    once = _probe_counted if counts_bytes(first_req) else _probe_once
    for attempt in range(1, tries + 1):
        found = replace(await once(first_req, second_req, header_timeout, hold), tries=attempt)
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
        for _ in range(SETTLE_STEPS):  # an end already in the first's socket: let it be seen
            if first.t_end is not None or closed_at is not None:
                break
            await asyncio.sleep(0)
        if closed_at is None and first.t_end is not None and first.end.limited:
            closed_at = first.t_end  # its own read bound closed it
        ended = closed_at is None and first.t_end is not None
        return Probe(first, second, sent_at, first.t_end if ended else None, closed_at=closed_at)
    finally:
        for pending in (task, answer, headers):
            if pending is not None:
                await _close(pending)


def counts_bytes(req: Request) -> bool:
    """Can the kernel's byte counts judge this request? Plain HTTP/1.1 on Linux: over TLS or
    HTTP/2 the server sends bytes (a handshake, its settings) before it answers anything."""
    return (hasattr(socket, "TCP_INFO") and req.url.lower().startswith("http://")
            and not req.transport.http2_prior_knowledge)


async def _probe_counted(first_req: Request, second_req: Request, header_timeout: float,
                         hold: float) -> Probe:
    """Send both requests at once and watch both connections' byte counts (see overlap.py).
    The second reads as long as the first may (its own end or the suite's close is what the
    counts are compared with)."""
    loop = asyncio.get_running_loop()
    proven, heard = asyncio.Event(), (asyncio.Event(), asyncio.Event())
    looks = Looks(on_proof=lambda: loop.call_soon_threadsafe(proven.set))

    def answered(index: int) -> None:
        looks.look()
        heard[index].set()

    second_req = replace(second_req, max_events=first_req.max_events, max_seconds=first_req.max_seconds)
    caps = [Capture(req, on_headers=functools.partial(answered, i), on_closing=looks.look,
                    on_socket=functools.partial(looks.watch, i))
            for i, req in enumerate((first_req, second_req))]
    with looks.sampling():
        tasks = [asyncio.ensure_future(capture(cap.request, into=cap)) for cap in caps]
        waits = [asyncio.ensure_future(event.wait()) for event in (proven, *heard)]
        try:
            return await _judge_counted(caps, tasks, waits, looks, header_timeout, hold)
        finally:
            for pending in (*tasks, *waits):
                await _close(pending)


async def _judge_counted(caps: list[Capture], tasks: list[asyncio.Future], waits: list[asyncio.Future],
                         looks: Looks, header_timeout: float, hold: float) -> Probe:
    proof, *heard = waits
    await asyncio.wait([*tasks, *heard], timeout=header_timeout, return_when=asyncio.FIRST_COMPLETED)
    if not any(cap.answered for cap in caps):
        return Probe(caps[0], None, 0.0, caps[0].t_end, counted=True)
    await _until(proof, tasks, hold)
    looks.look()
    taken = list(looks.seen)  # "still open" vouches for these only: the thread looks on meanwhile
    still = [await _still_open(cap, task, sock)
             for cap, task, sock in zip(caps, tasks, looks.socks, strict=True)]
    found = looks.proven
    if found is None and not looks.blind:
        found = in_progress_together(taken, (looks.last[0], looks.last[1]), (still[0], still[1]))
    order = sorted(range(2), key=lambda i: _answered_at(caps[i]))  # the one answered first leads
    first, second = caps[order[0]], caps[order[1]]
    sent_at = second.t0 - first.t0
    if found is not None:
        return Probe(first, second, sent_at, first.t_end, counted=True, overlap=found)
    served = [i for i in range(2) if looks.last[i] > 0]
    if len(served) == 1 and still[served[0]] and not looks.blind:
        return await _serial(caps, tasks, heard, looks, served[0])
    for index, cap in enumerate(caps):
        if not cap.answered:  # its own deadline bounds the wait: unanswered by it is a time-out
            await asyncio.wait([tasks[index], heard[index]], return_when=asyncio.FIRST_COMPLETED)
    return Probe(first, second, sent_at, first.t_end, counted=True)


async def _serial(caps: list[Capture], tasks: list[asyncio.Future], heard: list[asyncio.Future],
                  looks: Looks, served: int) -> Probe:
    """One response has come in for ``hold`` s, the other not a byte: close the one and see
    when the other is answered. Not a byte even once the close is done is the fact judged."""
    waiting = 1 - served
    sent_at = caps[waiting].t0 - caps[served].t0
    closed_at = time.monotonic() - caps[served].t0
    await _close(tasks[served])
    if data_received(looks.socks[waiting]) != 0:  # its answer came around the close: cannot tell
        return Probe(caps[served], caps[waiting], sent_at, None, counted=True)
    await asyncio.wait([tasks[waiting], heard[waiting]], return_when=asyncio.FIRST_COMPLETED)
    return Probe(caps[served], caps[waiting], sent_at, None, closed_at=closed_at, counted=True)


async def _until(proof: asyncio.Future, tasks: list[asyncio.Future], hold: float) -> None:
    """Wait until both responses are in progress together, both are over, or ``hold`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + hold
    while not proof.done() and not all(task.done() for task in tasks) and loop.time() < deadline:
        pending = [f for f in (proof, *tasks) if not f.done()]
        await asyncio.wait(pending, timeout=deadline - loop.time(), return_when=asyncio.FIRST_COMPLETED)


async def _still_open(cap: Capture, task: asyncio.Future, sock: socket.socket | None) -> bool:
    """Had this response not ended when the probe stopped waiting? The kernel must hold nothing
    unread and no close from the server; then, once the reader has handled what it took (a few
    loop steps), an end it did not see cannot have come."""
    if task.done() or not quiet(sock):
        return False
    for _ in range(SETTLE_STEPS):
        await asyncio.sleep(0)
    return cap.t_end is None and not task.done()


def _answered_at(cap: Capture) -> float:
    return cap.t0 + cap.t_headers if cap.t_headers is not None else float("inf")


async def _close(task: asyncio.Future) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
