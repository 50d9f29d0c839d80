"""Gathering one run's reports into an Observation, within the run's bounds: :func:`collect`
consumes a target's ``(kind, value)`` reports until the client ends, the watch says stop, the
deadline passes or an output bound is hit, yielding to the loop every few reports so that a
flood never starves the deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from ..tcpinfo import unread_in
from .observation import MAX_EVENTS, Observation, Watch, absorb
from .waiting import SHORT_TIMER, ProcessTree, asleep_twice

__all__ = ["LineTooLong", "Tail", "bounded_lines", "collect", "pipe_unread"]

_YIELD_EVERY = 64
_DRAIN_TURNS = 64  # loop turns a stopped run may take in what has already arrived ...
_DRAIN_STILL = 3  # ... ending after this many turns in a row took nothing in
STARVED_MIN = 0.01  # seconds of CPU-wait worth giving back at the deadline
STARVED_CAP = 10.0  # ... up to this many deadlines in all (a bound on the bound)


class LineTooLong(Exception):
    """One line passed the bound; ``head`` is its first bytes (to name whose it was)."""

    def __init__(self, head: bytes, size: int) -> None:
        super().__init__(f"a line longer than {size:,} bytes")
        self.head = head


async def bounded_lines(reader: Any, max_line: int) -> AsyncIterator[bytes | LineTooLong]:
    """The lines of ``reader`` (without their LF); one past ``max_line`` is yielded as a
    :class:`LineTooLong` at once and the rest skipped, so memory stays within a line and a read."""
    pending = bytearray()
    skipping = False  # past the bound: the rest of the line up to its LF is dropped
    while chunk := await reader.read(1 << 16):
        pieces = chunk.split(b"\n")
        for number, piece in enumerate(pieces, 1):
            if not skipping and len(pending) + len(piece) > max_line:
                yield LineTooLong(bytes(pending[:64]) + piece[:64], max_line)
                pending.clear()
                skipping = True
            elif not skipping:
                pending += piece
            if number < len(pieces):  # an LF ended this piece
                if not skipping:
                    yield bytes(pending)
                pending.clear()
                skipping = False
    if pending and not skipping:
        yield bytes(pending)


def pipe_unread(reader: Any) -> bool:
    """Are bytes a client wrote to its pipe still waiting to be read here: in the kernel's pipe
    buffer (FIONREAD) or in ``reader``'s own? A waiting client's reports must all be in first."""
    if getattr(reader, "_buffer", b""):
        return True
    transport = getattr(reader, "_transport", None)
    if transport is None or transport.is_closing():
        return False  # its end was read: nothing is left in the pipe, which may be closed now
    pipe = transport.get_extra_info("pipe")
    return pipe is not None and unread_in(pipe.fileno()) > 0


class Tail:
    """A client's stderr read to its end, keeping only the last ``SIZE`` bytes (a client may print
    forever), and how many bytes came in all (a run names what it wrote since a mark)."""

    SIZE = 2000

    def __init__(self) -> None:
        self.kept = bytearray()
        self.total = 0

    async def read(self, stream: asyncio.StreamReader) -> None:
        with contextlib.suppress(OSError, ValueError, ConnectionError):
            while chunk := await stream.read(1 << 16):
                self.kept += chunk
                self.total += len(chunk)
                if len(self.kept) > 2 * self.SIZE:
                    del self.kept[:-self.SIZE]

    def text(self, since: int = 0) -> str:
        """The end of what came, as text; only what came after ``since`` (an earlier ``total``)."""
        fresh = min(self.SIZE, self.total - since, len(self.kept))
        return bytes(self.kept[len(self.kept) - fresh:]).decode("utf-8", "replace")


_SEQ = re.compile(rb'"seq"\s*:\s*(\d+)')


def seq_of(head: bytes) -> int | None:
    """The ``seq`` a line names in its first bytes (the protocol puts it first)."""
    match = _SEQ.search(head[:64])
    return int(match.group(1)) if match else None


async def _drain(task: asyncio.Future[None], absorbed: Callable[[], int]) -> None:
    """Let a stopped run take in the reports already arrived (the suite may see a reconnect
    before the event reported ahead of it). Counted in loop turns, not seconds: a few turns
    read what the pipe holds, whatever the load."""
    still = 0
    for _ in range(_DRAIN_TURNS):
        before = absorbed()
        await asyncio.sleep(0)
        still = still + 1 if absorbed() == before else 0
        if task.done() or still >= _DRAIN_STILL:
            return


def _at_work(tree: ProcessTree, watch: Watch | None) -> bool:
    """Is a client at its deadline still at work (a large case's: slow, not wrong): a thread running
    or due within SHORT_TIMER (the GIL's hand-over is a timed sleep), case bytes or its reports
    on their way (a client blocked writing to a full pipe sleeps, but it is not done)?"""
    look = asleep_twice(tree)
    soon = look.timer_at <= time.monotonic() + SHORT_TIMER
    return not look.waiting or soon or (watch is not None and (watch.unread() or not watch.owes_nothing()))


async def collect(reports: AsyncIterator[tuple[str, Any]], *, profile: str, timeout: float,
                  watch: Watch | None) -> Observation:
    """Consume ``reports`` into an Observation; ``ended_by`` says how the run ended."""
    observation = Observation()
    started = time.monotonic()
    absorbed = 0  # reports taken in so far (the drain watches it move)

    async def consume() -> None:
        nonlocal absorbed
        async for kind, value in reports:
            if absorb(observation, kind, value, profile):
                return
            absorbed += 1
            if len(observation.events) > MAX_EVENTS:
                absorb(observation, "flood", f"more than {MAX_EVENTS:,} events", profile)
                return
            if watch is not None and kind == "event":
                watch.seen(observation)
            if absorbed % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the deadline and the watch run during a flood
        if not observation.ended_by:
            observation.ended_by = "returned"

    task = asyncio.ensure_future(consume())
    stopper = asyncio.ensure_future(watch.stop.wait()) if watch is not None else None
    waiting = {task} if stopper is None else {task, stopper}
    deadline = started + max(0.0, timeout)
    tree = getattr(watch, "tree", None)

    def held_back() -> float:  # not the client's time: its run-queue wait, the suite's lateness
        return (tree.starved() if tree else 0.0) + (watch.answer_lag() if watch is not None else 0.0)
    given = held_back()
    try:
        while True:
            left = max(0.0, deadline - time.monotonic())
            done, _ = await asyncio.wait(waiting, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            # The deadline counts the time the client could act (what was held back is given
            # back), and it runs again from the last chunk the client read (docs/timing.md)
            now = time.monotonic()
            owed = 0.0 if done else held_back() - given
            reading = 0.0 if done or watch is None else watch.progress_at() + timeout - now
            # reports it wrote that we have not read yet: a busy suite is late, not the client
            behind = STARVED_MIN if not done and watch is not None and watch.unread() else 0.0
            if max(owed, reading, behind) < STARVED_MIN or now - started > timeout * STARVED_CAP:
                break
            given += owed
            owed = max(owed, reading, behind)
            deadline += owed
            if hasattr(watch, "deadline_at"):
                watch.deadline_at += owed  # the watch weighs the client's timers against it
        if stopper is not None and stopper in done and not task.done():
            await _drain(task, lambda: absorbed)
            if task.done():
                done = {task}  # it ended by itself while taking in the rest
    finally:
        for waiter in waiting:
            waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if task in done:
        task.result()  # re-raises a fault of the suite itself; the client's faults are reports
    elif stopper is not None and stopper in done:
        observation.ended_by = getattr(watch, "reason", "") or "enough"
    else:
        observation.ended_by = "deadline"
        observation.busy_at_deadline = tree is not None and _at_work(tree, watch)
    observation.seconds = time.monotonic() - started
    return observation
