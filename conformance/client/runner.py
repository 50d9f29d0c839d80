"""The runner: every case x chunking against one target, concurrently, each with a time bound.

One case server per run serves every URL; a semaphore bounds how many clients run at once
(sync callables run in threads, commands in processes). A case that needs a capability the
target did not declare is skipped with the reason; a client that hangs, crashes or prints
garbage gets that case's verdict and the run goes on.

Python API (what the CLI, the pytest face and the report use)::

    report = run_client_suite("mypkg.adapter:connect", capabilities=["reconnect"])
    report = run_client_suite(CommandTarget("node client.js {url}"), pattern="LE-*")
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..cases import load_cases
from ..cases.chunkings import Chunking, chunking, chunkings_for
from ..cases.model import Case, Sleep
from ..results import Outcome, Report, Result
from .caseserver import CaseServer, Slot
from .gate import alone_gate
from .judge import (
    CHUNKING_FIXES,
    CHUNKING_RULES,
    DEFAULT_CHUNKING_RULE,
    Finding,
    Judgement,
    end_left_to_whole,
    judge_run,
    judges_ending,
    results_for,
)
from .observation import TIME_ENDINGS, Invocation, Observation, Watch
from .targets import Target, load_target

__all__ = [
    "CAPABILITIES",
    "BackgroundRun",
    "ClientRun",
    "Item",
    "plan_items",
    "run_client_suite",
    "run_client_suite_async",
]

CAPABILITIES = (
    *("reconnect", "last-event-id", "retry", "post", "headers", "comments", "open", "close"),
    *("read-timeout", "restart", "notifications"),
)
BASE_TIMEOUT = 5.0  # seconds per case, before the case's own sleeps and reconnections
PER_RECONNECT = 3.5  # a client without retry support waits its default (about 3 s) each time
SETTLE = 0.15  # after the last body ends, how long extra events may still show up
QUIET = 1.0  # after the last body ends, how long a client that owes events may stay silent
BUSY = 0.01  # a client using at least this share of a CPU while silent is still working (an idle
# one blocked on a socket uses none; a starved one on a loaded machine still gets a few percent)
GUESSED_RETRY_MS = 1000  # a stream's retry the case does not state (start order only)
LARGE_BODY_WAIT = 0.5  # seconds a large body is guessed to add (start order only)
FAST_RETRY_MS = 10  # the initial reconnection time given to clients that take one
ALONE_SCALE = 4.0  # a verdict resting on time is confirmed alone, with bounds this much longer
IDLE_ALONE = 12.0  # alone, a client idle this long while it owes a request has hung: longer than a
# reconnection delay doubled once (aiohttp-sse-client2 came back after 10 s on RT-018, after a 6 s cut)
BUSY_WINDOW = 0.5  # the shortest span the CPU share is measured over
BUSY_LIMIT = 600.0  # a client still using CPU at its deadline gets more time, up to this
CPU_BUDGET = 30.0  # ... while its CPU time on the case stays under this (P-10 beyond it),
CPU_PER_MIB = 4.0  # ... or this many seconds per MiB the case sends, if that is more
BUSY_SLICE = 2.0  # ... a slice at a time, each given only while it is still working
FRESH_PROCESS_BYTES = 1 << 20  # a case sending more runs in an adapter process started for it
PIPE_BYTES = 1 << 16  # a pipe's buffer: a report line longer than this is written in pieces


def default_concurrency() -> int:
    """Runs at once: most of a run is waiting on sockets, so several per CPU."""
    return max(4, min(64, 8 * (os.cpu_count() or 1)))


DEFAULT_CONCURRENCY = default_concurrency()

Progress = Callable[["Item", list[Result]], None]


@dataclass(frozen=True)
class Item:
    """One case under one chunking: the unit the faces show (``CASE-ID[chunking]``)."""

    case: Case
    chunking: Chunking

    @property
    def name(self) -> str:
        return f"{self.case.id}[{self.chunking.name}]"


def _wanted(selection: Iterable[str] | None) -> Callable[[Chunking], bool]:
    if selection is None:
        return lambda c: True
    names = set(selection)
    for name in names:
        if name != "random":
            chunking(name)  # raises ValueError on an unknown name
    return lambda c: c.name in names or c.family in names


def plan_items(
    *,
    profile: str = "generic",
    pattern: str | None = None,
    chunkings: Iterable[str] | None = None,
    seeds: Sequence[int] | None = None,
) -> list[Item]:
    """Every case of the profile matching ``pattern``, under every allowed chunking.

    Asking for ``random-SEED`` by name runs that seed (a failure printed as ``random-7``
    replays with ``--chunking random-7``)."""
    named = [int(name[7:]) for name in chunkings or () if name.startswith("random-") and name[7:].isdigit()]
    if seeds is None and named:
        seeds = named
    key = (profile, pattern, None if chunkings is None else tuple(chunkings), seeds and tuple(seeds))
    return list(_plan(*key))


@functools.lru_cache(maxsize=64)
def _plan(
    profile: str, pattern: str | None, chunkings: tuple[str, ...] | None, seeds: tuple[int, ...] | None
) -> tuple[Item, ...]:
    # Cached: splitting every case under every chunking to drop duplicates costs about a second.
    wanted = _wanted(chunkings)
    extra = {} if seeds is None else {"seeds": seeds}
    return tuple(
        Item(case, each)
        for case in load_cases(profile=profile, pattern=pattern)
        for each in chunkings_for(case, **extra)
        if wanted(each)
    )


def case_timeout(case: Case, scale: float) -> float:
    """The time bound of one case: a base, plus its own sleeps, plus each reconnection."""
    sleeps = sum(step.ms for conn in case.connections for step in conn.stream if isinstance(step, Sleep))
    requests = max(case.expect.requests or 0, len(case.connections))
    return scale * (BASE_TIMEOUT + sleeps / 1000 + PER_RECONNECT * max(0, requests - 1))


def bytes_sent(case: Case) -> int:
    """The body bytes every connection of ``case`` sends, in all."""
    return sum(conn.body_length for conn in case.connections)


def needs_fresh_process(case: Case) -> bool:
    """Does ``case`` run in an adapter process started for it (not one of the pool)? A
    client's CPU time on a large event depends on the state its process is in: sseclient-py
    needed 8 s on DA-013 in a worker whose allocator an earlier run had left with a raised
    mmap threshold, and 42 s (34 of them page faults) in a new one, every time. P-10 compares
    that time with a budget, so it must be measured from the same state on every run."""
    return bytes_sent(case) > FRESH_PROCESS_BYTES


def cpu_budget(case: Case, base: float = CPU_BUDGET) -> float:
    """CPU seconds a client still working may spend on ``case`` before P-10 calls it too
    slow. It grows with the bytes the case sends, so a budget sits far from what a client needs
    on every case (a fixed 30 s was right at the edge of sseclient-py's need on 10 MiB, and the
    same client then got P-10 in one run and a parsing verdict in the next)."""
    return max(base, CPU_PER_MIB * bytes_sent(case) / (1 << 20))


def ends_mid_event(case: Case) -> bool:
    """Does a connection of ``case`` end (EOF, not held open) with an event still pending? A
    client that wrongly dispatches it does so only once it has processed the end, so whether
    it reported everything is not known at the moment the expected events are in."""
    return any(connection.ends_mid_event for connection in case.connections)


def invocation_for(case: Case, url: str, capabilities: frozenset[str]) -> Invocation:
    """The URL, plus the extra inputs the case asks for (only ever for declared capabilities)."""
    options = case.client
    custom_method = options.method != "GET" or options.body is not None
    return Invocation(
        url,
        method=options.method if custom_method else None,
        headers=options.headers or None,
        body=options.body,
        last_event_id=options.last_event_id,
        initial_retry_ms=(options.initial_retry_ms or FAST_RETRY_MS) if "retry" in capabilities else None,
        close_after_events=options.close_after_events if "close" in capabilities else None,
        read_timeout_ms=options.read_timeout_ms if "read-timeout" in capabilities else None,
        restart_after_events=options.restart_after_events if "restart" in capabilities else None,
    )


@dataclass(frozen=True)
class Bounds:
    """The time bounds of one attempt: the case's own, or the longer ones of a run alone.
    ``scale`` multiplies the deadline; ``quiet`` and ``settle`` are seconds."""

    scale: float = 1.0
    quiet: float = QUIET
    settle: float = SETTLE
    idle: float | None = None  # alone only: stop a client idle this long (no CPU, no I/O, no report)
    busy: float = 0.0  # past the deadline, time a client still working may have in all
    variant: str = ""  # the URL suffix of this attempt (a confirmation has a URL of its own)
    cpu_budget: float | None = None  # CPU seconds a still-working client may use (then P-10)

    @classmethod
    def scaled(cls, scale: float, cpu_budget: float | None = None) -> Bounds:
        """The case's own bounds, every one scaled (``--timeout-scale``). A client still using
        CPU at its deadline gets more time until ``cpu_budget``: whether it finishes within its
        CPU budget is a question of CPU time, which no load changes, so it is answered in the
        crowd and never waits for a turn alone (a quadratic client on the 10 MiB cases used to
        hold the machine for minutes, one confirmation at a time)."""
        return cls(scale, QUIET * scale, SETTLE * scale, busy=BUSY_LIMIT * scale, cpu_budget=cpu_budget)


class ClientRun:
    """One target against one case server; ``await run(items)`` returns every Result.

    Two passes keep time out of the verdicts: every item runs once, ``concurrency`` at a time;
    then each item whose failure rests on a time bound (the client was stopped while silent,
    or at its deadline) runs again alone, with nothing else running and bounds ``ALONE_SCALE``
    times longer. The second verdict is the one reported, with the first recorded beside it.
    """

    def __init__(
        self,
        target: Any,
        *,
        capabilities: Iterable[str] = (),
        timeout_scale: float = 1.0,
        concurrency: int = DEFAULT_CONCURRENCY,
        server: CaseServer | None = None,
        confirm_alone: bool = True,
        cpu_budget: float = CPU_BUDGET,
    ) -> None:
        self.target: Target = load_target(target)
        self.extra_capabilities = frozenset(capabilities)
        self.timeout_scale = timeout_scale
        self.concurrency = concurrency
        self.server = server or CaseServer()
        self.confirm_alone = confirm_alone
        self.cpu_budget = cpu_budget  # alone: CPU seconds a client may spend on one case (P-10)
        self._semaphore: asyncio.Semaphore | None = None
        self._opened = False

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def capabilities(self) -> frozenset[str]:
        return self.extra_capabilities | self.target.capabilities

    @property
    def comes_back(self) -> bool:
        """Does the client reconnect within ms of a stream's end? It takes the suite's short
        initial reconnection time (a browser keeps its own 3 s, see ``takes_initial_retry``)."""
        takes = getattr(self.target, "takes_initial_retry", True)
        return {"reconnect", "retry"} <= self.capabilities and takes

    def follows_comeback(self, item: Item) -> bool:
        """Is a client that comes back followed until it does in this run (not where the case
        leaves that to its whole run, see ``end_left_to_whole``)?"""
        return self.comes_back and not end_left_to_whole(item.case, item.chunking)

    def expected_wait(self, item: Item) -> float:
        """Seconds ``item`` should wait beyond the usual few ms, so the longest start first and
        their waits overlap the many short items instead of trailing them (only the order of
        starts; results keep plan order): the ``retry`` a reconnecting client waits out where
        the run waits for its comeback (RT-001's 3 s), then a large body (megabytes to parse,
        on the CPU the others need)."""
        case = item.case
        followed = self.follows_comeback(item) and _ends(case)
        waits_retry = (
            "reconnect" in self.capabilities
            and case.sets_retry
            and (followed or judges_ending(case) or ends_mid_event(case))
        )
        retry = (case.expect.retry or GUESSED_RETRY_MS) / 1000 if waits_retry else 0.0
        return retry + (LARGE_BODY_WAIT if needs_fresh_process(case) else 0.0)

    async def open(self) -> None:
        """Start the target's processes (workers, adapters) once, before the first item."""
        if not self._opened:
            self._opened = True
            opener = getattr(self.target, "open", None)
            if opener is not None:
                await opener(self.concurrency)

    async def aclose(self) -> None:
        """Stop the target's processes; safe to call more than once."""
        closer = getattr(self.target, "aclose", None)
        if closer is not None:
            await closer()
        self._opened = False

    def _skipped(self, item: Item) -> list[Result] | None:
        missing = [cap for cap in item.case.requires if cap not in self.capabilities]
        if not missing:
            return None
        reason = ", ".join(missing)
        flags = " ".join(f"--capability {cap}" for cap in missing)
        finding = Finding(f"skipped: needs capability {reason} (declare it with {flags})")
        return results_for(item.case, item.chunking, [finding], outcome=Outcome.SKIP)

    def first_bounds(self, item: Item) -> Bounds:
        """The bounds of an item's first attempt, in the crowd."""
        return Bounds.scaled(self.timeout_scale, cpu_budget(item.case, self.cpu_budget))

    async def attempt(self, item: Item, bounds: Bounds) -> Attempt:
        """Run one item once under ``bounds`` and judge it."""
        await self.open()
        case = item.case
        slot = self.server.add_slot(case, item.chunking, bounds.variant)
        url = self.server.url(slot.path)
        invocation = invocation_for(case, url, self.capabilities)
        watch = CaseWatch(case, slot, invocation, bounds, reconnects="reconnect" in self.capabilities,
                          comes_back=self.follows_comeback(item))
        if bounds.idle is not None:
            asyncio.get_running_loop().call_soon(watch.check)  # idle from the start counts too
        try:
            observation = await self.target.observe(
                invocation,
                profile=case.profile,
                timeout=case_timeout(case, bounds.scale),
                watch=watch,
                fresh=needs_fresh_process(case),
            )
        finally:
            watch.close()
            self.server.release(slot)
        if watch.over_budget is not None and not observation.finished:
            observation.slow_cpu = watch.over_budget
        judgement = judge_run(case, item.chunking, observation, list(slot.requests), slot.total)
        on_time = rests_on_time(judgement, observation, case)
        return Attempt(judgement.results, observation, on_time)

    async def run_item(self, item: Item) -> list[Result]:
        """One item, confirmed alone when its verdict rests on time (for one-at-a-time faces)."""
        await self.open()  # an adapter announces its capabilities when it starts
        skipped = self._skipped(item)
        if skipped is not None:
            return skipped
        async with alone_gate().shared():
            first = await self.attempt(item, self.first_bounds(item))
        if self.confirm_alone and first.on_time:
            return await self.confirm(item, first.results)
        return first.results

    async def confirm(self, item: Item, first: list[Result]) -> list[Result]:
        """Run ``item`` again alone with longer bounds; its verdict replaces the first one."""
        async with alone_gate().exclusive():
            return await self._again_alone(item, first)

    async def _again_alone(self, item: Item, first: list[Result]) -> list[Result]:
        """:meth:`confirm`, for a caller that already has the machine alone."""
        # Alone, silence means idleness (a busy client is never stopped as silent), so the quiet
        # window only doubles; the deadline, which a slow client may need, grows ALONE_SCALE times.
        # A client that is idle (no CPU, no request, no report) for IDLE_ALONE while alone has
        # hung: nothing else could be holding it back.
        scale = self.timeout_scale
        # A client still using CPU at the deadline is given more time, as in the first attempt:
        # slowness is not a parsing failure.
        bounds = Bounds(
            scale * ALONE_SCALE,
            QUIET * 2 * scale,
            SETTLE,
            idle=IDLE_ALONE * scale,
            busy=BUSY_LIMIT * scale,
            cpu_budget=cpu_budget(item.case, self.cpu_budget),  # CPU time, not wall: load cannot move it
            variant="~alone",  # a client of the first run that is still going cannot take its turn
        )
        again = await self.attempt(item, bounds)
        results, observation = again.results, again.observation
        note = {
            "first": first[0].message if first else "",
            "seconds": round(observation.seconds, 3),
            "bound": round(case_timeout(item.case, bounds.scale), 1),
        }
        if observation.cpu_seconds is not None:
            note["cpu_seconds"] = round(observation.cpu_seconds, 3)
        for result in results:
            result.extra["alone"] = note
            if again.on_time and result.outcome is not Outcome.PASS:
                result.message += " (also when run again alone with a bound of {bound} s)".format(**note)
        return results

    async def run(self, items: Sequence[Item], progress: Progress | None = None) -> list[Result]:
        """Run every item (the server must be started); results in plan order."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.concurrency)
        semaphore = self._semaphore
        retry: list[int] = []

        async def one(index: int, item: Item) -> list[Result]:
            skipped = self._skipped(item)
            if skipped is not None:
                results = skipped
            else:
                async with semaphore, alone_gate().shared():
                    first = await self.attempt(item, self.first_bounds(item))
                results = first.results
                if self.confirm_alone and first.on_time:
                    retry.append(index)
                    return results  # reported once confirmed
            if progress is not None:
                progress(item, results)
            return results

        try:
            await self.open()
            # Long items first, so their waits overlap the many short ones instead of trailing
            # them; results stay in plan order.
            order = sorted(range(len(items)), key=lambda index: -self.expected_wait(items[index]))
            with alone_gate().first_pass():
                started = await asyncio.gather(*(one(index, items[index]) for index in order))
            grouped = [[] for _ in items]
            for index, results in zip(order, started, strict=True):
                grouped[index] = results
            if retry:
                # One turn alone for all of them: a turn starts once every attempt on the machine
                # has ended (a large case's can take a minute), so a turn per item cost that wait
                # again and again while the machine idled; and only once the other runs of this
                # loop are through their first passes, for the same reason.
                async with alone_gate().exclusive(after_first_passes=True):
                    for index in sorted(retry):
                        grouped[index] = await self._again_alone(items[index], grouped[index])
                        if progress is not None:
                            progress(items[index], grouped[index])
        finally:
            await self.aclose()
        return attribute_chunking_failures([r for results in grouped for r in results])


@dataclass(frozen=True)
class Attempt:
    """One run of one item: its verdicts, what was observed, and whether time decided them."""

    results: list[Result]
    observation: Observation
    on_time: bool


def rests_on_time(judgement: Judgement, observation: Observation, case: Case | None = None) -> bool:
    """Did a time bound decide this verdict? For a failure: only when every finding could be
    undone by more time (missing events, a hang) and the runner stopped the client on time
    (silent, or at its deadline); when an upper bound on a delay decided it (a late reconnect,
    which load alone can cause), with any other finding such a provisional one; when the case
    runs the client's own read timer (load decides whether the server's bytes beat it); or when
    the client's own error was a time-out (its reads were starved).

    Also a pass, where time could have made it one: a case with a least reconnection delay (a
    client reconnecting too early was slowed past the bound by the load: requests-sse's 100 ms
    reconnect passed RC-025's 300 ms on a busy machine), and a case whose stream ends mid-event
    when the client was stopped while silent before it showed it had processed the end (by
    returning or reconnecting), so the event it must not dispatch there may only have been late
    (sseclient-py dispatched it after that point on a busy machine); a failure there with a
    wrong event is a fact like anywhere else (the legacy sseclient's were all run again alone,
    12 s each, holding every other run on the machine)."""
    if observation.lost:
        return True  # another run may have crashed the adapter: alone, the crash is this run's
    if all(r.outcome in (Outcome.PASS, Outcome.SKIP) for r in judgement.results):
        if case is None:
            return False
        if case.expect.min_reconnect_delay_ms is not None:
            return True
        return ends_mid_event(case) and observation.ended_by in TIME_ENDINGS
    if case is not None and case.client.read_timeout_ms is not None:
        return True
    if judgement.provisional and observation.ended_by in TIME_ENDINGS:
        return True
    if judgement.late and (observation.ended_by in TIME_ENDINGS or judgement.late_only):
        return True
    raised = (observation.raised or "").lower()
    return "timeout" in raised or "timed out" in raised


class CaseWatch(Watch):
    """Decides when the runner has seen enough of a client that has not finished by itself.

    A client that reconnects forever or waits out a long ``retry`` must not cost the whole
    time bound when nothing it could still do changes the verdict:

    * a 204 was answered past the listed connections, and the case does not count requests;
    * every listed body was sent (a held-open one included), everything expected has been
      reported, and ``settle`` seconds passed (an extra event at EOF shows up at once);
    * every listed body was sent, something is still missing, and the client has been silent
      for ``quiet`` seconds *and idle*: a client still using CPU is working, not silent.

    When the case counts requests, or expects a failure, only the client itself ends the run, or,
    when ``idle`` is given (a run alone), ``idle`` seconds without CPU, request or report after
    every scripted response was sent.
    """

    def __init__(
        self,
        case: Case,
        slot: Slot,
        invocation: Invocation,
        bounds: Bounds,
        *,
        reconnects: bool = False,
        comes_back: bool = False,
    ) -> None:
        super().__init__()
        # A client that reconnects shows it has processed the end of a stream by coming back
        # (and getting 204): while it owes that request, its silence is a reconnection delay
        # (eventsource-client waits 2 s), and waiting for the request turns a stop on time
        # into a fact.
        # One that does not say it reconnects may still do it (fetch-event-source retries after
        # 1 s): alone, an idle client whose stream ended is given that long to come back.
        self.may_come_back = PER_RECONNECT * bounds.scale if _ends(case) else 0.0
        self.reconnect_wait = self.may_come_back if reconnects else 0.0
        self.idle = bounds.idle
        self.busy_left = bounds.busy
        self.cpu_budget = bounds.cpu_budget
        self.cpu_first: float | None = None  # the first CPU reading of this run
        self.over_budget: float | None = None  # CPU seconds used when the budget ran out
        self.created = time.monotonic()
        self.invocation = invocation
        self.case = case
        self.slot = slot
        self.settle = bounds.settle
        self.quiet = bounds.quiet
        self.last_report = 0.0
        self.last_progress = 0.0  # the last report that was not a retrying client's error
        self.observation: Observation | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._busy_mark: tuple[float, float] | None = None  # (when, cpu seconds) last looked at
        self._busy = False  # the answer of that look
        self._closed_client = False
        self.judges_ending = judges_ending(case)
        self.ends_mid_event = ends_mid_event(case)  # then an extra event may come after the last
        # A client that reconnects at once shows how it processed the end by coming back (204)
        # or by crashing on the way: wait for that, not a settle window the crash then raced
        # (requests-sse crashed 0.4 s after ID-011's event, sending its id back: error quiet,
        # pass busy).
        self.awaits_comeback = comes_back and _ends(case)
        # A report larger than a pipe's buffer can still be on its way when the client's next
        # request comes: eventsource v2 reconnected while its 10 MiB event was still being
        # written, the 204 ended the run and DA-017 failed on a busy machine only.
        self.reports_may_lag = sum(len(e.data) for e in case.expect.events) > PIPE_BYTES
        slot.listeners.append(self.check)

    def seen(self, observation: Observation) -> None:
        self.observation = observation
        self.last_report = time.monotonic()
        if not self._retrying():
            self.last_progress = self.last_report
        self.check()

    def close(self) -> None:
        if self.check in self.slot.listeners:
            self.slot.listeners.remove(self.check)
        for timer in (self._timer, self._idle_timer):
            if timer is not None:
                timer.cancel()

    def _still_working(self, now: float) -> bool:
        """Has the client used at least ``BUSY`` of a CPU since the last look? Looks closer
        together than ``BUSY_WINDOW`` repeat the last answer: CPU time moves in 10 ms ticks, so
        a window of a few ms would call any client idle."""
        cpu = self.cpu()
        if cpu is None or self._retrying():
            return False
        if self.cpu_first is None:
            self.cpu_first = cpu
        mark = self._busy_mark
        if mark is not None and now - mark[0] < BUSY_WINDOW:
            return self._busy
        self._busy_mark = (now, cpu)
        # the first look has nothing to compare with: "working" until the next look can tell
        self._busy = mark is None or cpu - mark[1] >= BUSY * (now - mark[0])
        return self._busy

    def _retrying(self) -> bool:
        """Has the client reported an error notification for every connection the server ended,
        and nothing but errors since the last one? Then it has processed every byte it was sent,
        and the CPU it spends is on reconnecting, not parsing: undici's EventSource retries every
        50 ms forever when its fetch rejects a Last-Event-ID header before sending (RC-008), and
        was granted busy slices for 10 minutes."""
        observation = self.observation
        if observation is None or not observation.notifications:
            return False
        kind, before = observation.notifications[-1]
        if kind != "error" or before != len(observation.events):
            return False
        return observation.errors >= sum(1 for r in self.slot.requests if r.ended is not None)

    def more_time(self) -> float:
        """A client still using CPU at its deadline gets another slice, up to ``busy``; not one
        that came back for more connections than the case has (it is past the parsing, and a
        client reconnecting forever is always busy)."""
        if self.slot.total > len(self.case.connections):
            return 0.0
        if self.busy_left <= 0 or not self._still_working(time.monotonic()):
            return 0.0
        used = (self.cpu() or 0.0) - (self.cpu_first or 0.0)
        if self.cpu_budget is not None and used >= self.cpu_budget:
            self.over_budget = used  # too slow to judge: P-10, not the case's parsing rules
            return 0.0
        grant = min(BUSY_SLICE, self.busy_left)
        self.busy_left -= grant
        return grant

    def _stop(self, reason: str) -> None:
        self.reason = reason
        self.stop.set()

    def check(self) -> None:
        if self.invocation.close_after_events == 0 and self.slot.requests and not self._closed_client:
            self._closed_client = True  # "close as soon as the connection is open"
            self.invocation.close_now.set()
            self.close_client()
        if self.stop.is_set():
            return
        if self.idle is not None:
            self._check_idle()
        if self.judges_ending or self.stop.is_set():
            return
        covered = (self.observation or Observation()).covers(self.case.expect)
        if self.slot.answered_204 and (covered or not self.reports_may_lag):
            self._stop("enough")
            return
        sent = self.slot.all_sent
        if sent is None:
            return
        # Everything expected came: wait ``settle`` for extras. Not yet: wait ``quiet`` after
        # the last sign of life, since a client that is still silent and idle by then stays so.
        # Where the stream ends mid-event, the extra event a wrong client dispatches comes only
        # once it has processed the end: wait for that (it returns, or reconnects and gets the
        # 204 above); a stop while it is silent rests on time (see ``rests_on_time``).
        done = covered and not self.ends_mid_event and not self.awaits_comeback
        wait = self.settle if done else max(self.quiet, self.reconnect_wait)
        now = time.monotonic()
        # a request is a sign of life too (a client back for more while its report is on its way)
        since = max(sent, self.last_progress, self.receiving(), *(r.received for r in self.slot.requests))
        # A client still using CPU is not done: it may still owe an event (a large one it is
        # parsing) or, where the stream ended mid-event, an extra one it dispatches at the end.
        cpu_aware = not covered or self.ends_mid_event
        if cpu_aware and self._busy_mark is None:
            self._still_working(now)  # a baseline, so the look at the end of the wait can tell
        remaining = since + wait - now
        if remaining <= 0 and cpu_aware and self._still_working(now):
            remaining = wait  # still working: look again later
        if remaining <= 0:
            self._stop("enough" if done else "quiet")
        else:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = asyncio.get_running_loop().call_later(remaining, self.check)

    def _idle_window(self) -> float:
        """How long an idle client may still be about to act: long while it owes a request
        (a reconnect timer of a few seconds); once every request the case wants came, a default
        reconnection delay while its stream has ended and no 204 was answered (coming back
        shows how it processed the end; cut at 1 s, fetch-event-source's retry at 1 s raced the
        cut and was called a time-out), else short."""
        assert self.idle is not None
        wanted = self.case.expect.requests or len(self.case.connections)
        owed = len(self.slot.requests) < wanted or (self.reconnect_wait > 0 and not self.slot.answered_204)
        if owed:
            return self.idle
        return min(self.idle, QUIET if self.slot.answered_204 else max(QUIET, self.may_come_back))

    def _check_idle(self) -> None:
        """Stop a client that has done nothing (no CPU, request, response or report) for the
        idle window: alone, nothing else can be holding it back."""
        now = time.monotonic()
        activity = [t for r in self.slot.requests for t in (r.received, r.sent, r.ended) if t is not None]
        # a client reading chunk after chunk of a long 1-byte stream is alive, though it uses
        # next to no CPU and reports nothing before its end (OA-010[1-byte] was cut as idle
        # after 1 s while 900 bytes were still being delivered, on a busy machine)
        since = max(self.created, self.last_progress, self.receiving(), self.slot.read_at, *activity)
        if self._busy_mark is None:
            self._still_working(now)  # a baseline, as above
        window = self._idle_window()
        remaining = since + window - now
        if remaining <= 0 and self._still_working(now):
            remaining = window
        if remaining <= 0:
            # reporting nothing but errors all the while: it retries without reaching the server
            self._stop("retrying" if self.last_report > since else "idle")
            return
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._idle_timer = asyncio.get_running_loop().call_later(remaining, self.check)


def _ends(case: Case) -> bool:
    """Does the last listed connection of ``case`` end (EOF or a reset), so a client that
    reconnects comes back for one more request?"""
    last = case.connections[-1] if case.connections else None
    return last is not None and not last.ends_held_open


def attribute_chunking_failures(results: list[Result]) -> list[Result]:
    """A case that passes whole but fails under a split also breaks the chunking rule.

    ``crlf`` splits blame C-10, ``utf8`` splits C-03, every other split C-37; the added Result
    names the case, the chunking and the original message, so the verdict explains itself.
    """
    passed_whole = {r.case for r in results if r.chunking == "whole" and r.outcome is Outcome.PASS}
    added: list[Result] = []
    seen: set[tuple[str | None, str | None]] = set()
    for result in results:
        if result.chunking in (None, "whole") or result.case not in passed_whole:
            continue
        if result.outcome not in (Outcome.FAIL, Outcome.WARN) or (result.case, result.chunking) in seen:
            continue
        seen.add((result.case, result.chunking))
        family = "random" if (result.chunking or "").startswith("random-") else result.chunking
        rule = CHUNKING_RULES.get(family or "", DEFAULT_CHUNKING_RULE)
        fix = CHUNKING_FIXES.get(family or "", result.fix)  # it passed whole: the split is the cause
        if any(r.rule == rule and r.case == result.case and r.chunking == result.chunking for r in results):
            continue
        added.append(
            Result(
                rule=rule,
                outcome=result.outcome,
                level=result.level,
                message=f"passes whole but fails split {result.chunking}: {result.message}",
                case=result.case,
                chunking=result.chunking,
                expected=result.expected,
                actual=result.actual,
                evidence=result.evidence,
                fix=fix,
                seconds=result.seconds,
                extra=dict(result.extra),
            )
        )
    return results + added


async def run_client_suite_async(
    target: Any,
    *,
    profile: str = "generic",
    capabilities: Iterable[str] = (),
    pattern: str | None = None,
    chunkings: Iterable[str] | None = None,
    timeout_scale: float = 1.0,
    progress: Progress | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Report:
    """The async form of :func:`run_client_suite` (for callers that already run a loop)."""
    run = ClientRun(target, capabilities=capabilities, timeout_scale=timeout_scale, concurrency=concurrency)
    items = plan_items(profile=profile, pattern=pattern, chunkings=chunkings)
    async with run.server:
        results = await run.run(items, progress)
    return Report(
        kind="client",
        target=run.name,
        results=results,
        meta={
            "profile": profile,
            "capabilities": sorted(run.capabilities),
            "pattern": pattern,
            "items": len(items),
            "timeout_scale": timeout_scale,
        },
    )


def run_client_suite(
    target: Any,
    *,
    profile: str = "generic",
    capabilities: Iterable[str] = (),
    pattern: str | None = None,
    chunkings: Iterable[str] | None = None,
    timeout_scale: float = 1.0,
    progress: Progress | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Report:
    """Run every client case against ``target``: a callable, ``"module:callable"`` or a
    :class:`~conformance.client.targets.CommandTarget`. Returns the Report (``.ok`` is the exit
    code truth); raises :class:`~conformance.client.targets.TargetError` for an unusable target.
    Safe to call from inside a running event loop (the run then happens in a worker thread)."""
    coro = run_client_suite_async(
        target,
        profile=profile,
        capabilities=capabilities,
        pattern=pattern,
        chunkings=chunkings,
        timeout_scale=timeout_scale,
        progress=progress,
        concurrency=concurrency,
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from inside a running loop (a notebook, an async test): run in a worker thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class BackgroundRun:
    """A ClientRun on its own event-loop thread, for synchronous callers (the pytest face).

    ``run_item(item)`` blocks until that item is judged; the case server lives as long as this
    object (call :meth:`close`).
    """

    def __init__(self, target: Any, **options: Any) -> None:
        self.run = ClientRun(target, **options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sse-case-server", daemon=True)
        self._thread.start()
        self._submit(self.run.server.start()).result()

    def _submit(self, coro: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def run_item(self, item: Item) -> list[Result]:
        return self._submit(self.run.run_item(item)).result()

    def close(self) -> None:
        if self._loop.is_running():
            self._submit(self.run.aclose()).result(timeout=10)
            self._submit(self.run.server.stop()).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
