"""When a run ends: on a fact, never on a window of silence. The first of: the client returned
or raised; it made one request past the 204 the case answers after its script ("enough"); it is
**waiting** (the five checks of docs/timing.md, at two looks: what it reported is final); the
case's deadline ("timed out", an error, never a rule failure). A target with no ``tree`` (a
browser) ends on the 204 once everything expected is reported.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from ..cases.model import Case
from .caseserver import Slot
from .observation import Invocation, Observation, Watch
from .waiting import SHORT_TIMER, ProcessTree, asleep_twice

__all__ = ["CaseWatch"]

POLL = (0.005, 0.01, 0.02, 0.05)  # seconds between looks at a quiet client (a look is ~0.1 ms)
SETTLE_TURNS = 8  # loop turns between the two looks that end a run as waiting: an accepted
# connection takes about five to reach its handler (accept, task, connection_made, read, request)
TIMER_SLACK = 0.002  # a look this long after the client's timer fires finds it awake or asleep again
IDLE_TICKS = 2  # timers that fired in a row with nothing to show, while the server holds the stream
# open, after which the client's timers are its housekeeping (undici's 500 ms tick in Node)


class CaseWatch(Watch):
    """Follows one run of ``case`` on ``slot`` and sets :attr:`stop` on a fact (see module)."""

    def __init__(self, case: Case, slot: Slot, invocation: Invocation, deadline_at: float) -> None:
        self.slot = slot
        super().__init__()
        self.case = case
        self.invocation = invocation
        self.deadline_at = deadline_at  # monotonic
        self.observation: Observation | None = None
        self._handle: asyncio.Handle | None = None
        self._step = 0
        self._closed_client = False
        self._seen_waiting = False  # the last look found it waiting (a stop takes two in a row)
        self._followed: float | None = None  # when the client's timer we wait for fires
        self._idle_ticks = 0  # its timers that fired since the last thing it did
        self.inbound: Callable[[], bool] = lambda: False  # the server has a request not taken in
        # ... or the kernel has something of its tree's on its way to us (it is given the tree)
        self.in_flight: Callable[[ProcessTree], bool] = lambda tree: False
        self.answer_lag = lambda: slot.answer_lag
        slot.listeners.append(self.check)

    @property  # type: ignore[override]
    def tree(self) -> ProcessTree | None:
        return self._tree

    @tree.setter
    def tree(self, tree: ProcessTree | None) -> None:
        """The client's threads; their root process also owns every connection its runs open
        (the case server leaves other processes' connections out of this client's inbound)."""
        self._tree = tree
        self.slot.client = None if tree is None else tree.pid

    def seen(self, observation: Observation) -> None:
        self.observation = observation
        self._step = 0
        self.check()

    def progress_at(self) -> float:
        return self.slot.read_at

    def close(self) -> None:
        if self.check in self.slot.listeners:
            self.slot.listeners.remove(self.check)
        self._cancel()
        super().close()

    def _cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _stop(self, reason: str) -> None:
        self.reason = reason
        self._cancel()
        self.stop.set()

    def _after_turns(self, turns: int) -> None:
        """Look again after ``turns`` turns of the event loop: what the server has read but not
        yet handled (a connection accepted, a request parsed) reaches its handler meanwhile."""
        self._cancel()
        then = (self._look,) if turns <= 0 else (self._after_turns, turns - 1)
        self._handle = asyncio.get_running_loop().call_soon(*then)

    def _later(self, delay: float) -> None:
        self._cancel()
        self._handle = asyncio.get_running_loop().call_later(max(0.0, delay), self._look)

    # -- the facts ---------------------------------------------------------------------------
    def server_idle(self) -> bool:
        """The case server owes this client nothing now: a request came, and every response so
        far has had all its scripted bytes written (and, where the kernel tells, read)."""
        requests = self.slot.requests
        return bool(requests) and not self.slot.arriving and all(r.sent is not None for r in requests)

    def owes_nothing(self) -> bool:
        """Nothing left to write now, and the client read every byte written on every connection."""
        return self.server_idle() and all(request.read_by_client() for request in self.slot.requests)

    def check(self) -> None:
        """Called on every report, request and response end: something happened, so a look that
        found the client waiting before it no longer counts."""
        self._seen_waiting = False
        self._followed, self._idle_ticks = None, 0
        self._stamp_starved()
        if self.invocation.close_after_events == 0 and self.slot.requests and not self._closed_client:
            self._closed_client = True  # "close as soon as the connection is open"
            self.invocation.close_now.set()
            self.close_client()
        if self.stop.is_set():
            return
        if self.slot.total > len(self.case.connections) + 1:  # one request past the 204 after the script
            self._stop("enough")
            return
        if self.tree is None:
            covered = (self.observation or Observation()).covers(self.case.expect)
            if self.slot.answered_204 and covered:
                self._stop("enough")  # no threads to look at: the 204, once all is reported
            return
        if self.server_idle():  # the first look a step later: most runs end on the client's return
            self._step = 0
            self._later(POLL[0])
        else:
            self._cancel()  # the next request or response end calls again

    def _stamp_starved(self) -> None:
        """Stamp each request's arrival and its response's end with the client's run-queue wait
        so far, so a reconnect gap is judged without the time load kept the client waiting."""
        fresh = [r for r in self.slot.requests
                 if r.starved_at_received is None or (r.ended is not None and r.starved_at_ended is None)]
        if self.tree is None or not fresh:
            return
        starved = self.tree.starved()
        for request in fresh:
            if request.starved_at_received is None:
                request.starved_at_received = starved
                request.stamped_late = max(0.0, time.monotonic() - request.received)
            if request.ended is not None and request.starved_at_ended is None:
                request.starved_at_ended = starved

    def held_open(self) -> bool:
        """The server has written all it scripted and holds a stream open: the client has
        nothing to do but wait for bytes (or its own read timeout)."""
        return any(r.sent is not None and r.ended is None for r in self.slot.requests)

    def _ticks_change_nothing(self, now: float) -> bool:
        """Have the client's timers fired IDLE_TICKS times in a row with nothing to show, on a
        stream the server holds open? Then they are housekeeping, not work to come; never where
        the case tests the client's own read timeout (that timer is the question)."""
        if self._followed is not None and now >= self._followed:
            self._idle_ticks += 1  # it fired; the client went back to sleep and showed nothing
            self._followed = None
        return (
            self._idle_ticks >= IDLE_TICKS and self.held_open() and self.invocation.read_timeout_ms is None
        )

    def _look(self) -> None:
        """Is the client waiting? Look again soon while it is not."""
        self._handle = None
        if self.stop.is_set() or self.tree is None or not self.server_idle():
            return
        now = time.monotonic()
        if not self.unread() and not self.inbound():
            look = asleep_twice(self.tree)
            # What came in meanwhile waits unread (this callback takes nothing in): the second
            # look's kernel count (in_flight) sees it, and no run stops at its first look.
            if look.waiting and not self.unread() and self.owes_nothing():
                soon = look.timer_at <= max(self.deadline_at, now + SHORT_TIMER)
                if soon and not self._ticks_change_nothing(now):
                    self._seen_waiting = False
                    self._followed = look.timer_at
                    self._later(look.timer_at - now + TIMER_SLACK)  # its own timer first
                    return
                if self._seen_waiting and not self.in_flight(self.tree):
                    self._stop("waiting")  # twice, with SETTLE_TURNS turns of the loop between
                    return
                self._seen_waiting = True
                self._after_turns(SETTLE_TURNS)
                return
        self._seen_waiting = False
        self._later(POLL[min(self._step, len(POLL) - 1)])
        self._step += 1
