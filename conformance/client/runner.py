"""The runner: every case x chunking against one target on one case server, concurrently, each
ended on a fact (:mod:`.ending`). A case needing a capability the target did not declare is
skipped with the reason; a client that hangs, crashes or prints garbage gets that case's verdict
and the run goes on. The Python API (CLI, pytest face and report use it)::

    report = run_client_suite("mypkg.adapter:connect", capabilities=["reconnect"])
    report = run_client_suite(CommandTarget("node client.js {url}"), pattern="LE-*")
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from typing import Any

from ..aio import run_sync
from ..cases.chunkings import Chunking, chunking
from ..cases.model import Case
from ..results import Outcome, Report, Result
from .caseserver import CaseServer, Slot
from .ending import CaseWatch
from .findings import Finding
from .fixes import CHUNKING_FIXES, CHUNKING_RULES, DEFAULT_CHUNKING_RULE
from .items import CAPABILITIES, Item, case_sleeps, case_timeout, invocation_for, is_large, plan_items
from .judge import judge_run, results_for, still_parsing
from .lanes import Fallback, Progress, lane_count, laned, run_lanes
from .observation import Observation
from .speed import (
    PAST_DEADLINE,
    PROBES,
    Growth,
    judge_growth,
    longest_line,
    needs_larger,
    probe_case,
    projected_seconds,
)
from .targets import CommandTarget, HarnessTarget, PythonTarget, Target, command_line_form, load_target
from .timer_race import RACE_ATTEMPTS, delay_raced, timer_raced
from .turns import large_items_limit

__all__ = ["CAPABILITIES", "BackgroundRun", "ClientRun", "Item", "plan_items", "run_client_suite",
           "run_client_suite_async", "run_items", "run_items_async"]

# runs at once: most of a run is waiting on sockets, so several per CPU
DEFAULT_CONCURRENCY = max(4, min(64, 8 * (os.cpu_count() or 1)))

class ClientRun:
    """One target against one case server; ``await run(items)`` returns every Result."""

    def __init__(self, target: Any, *, capabilities: Iterable[str] = (), timeout_scale: float = 1.0,
                 concurrency: int | None = None, server: CaseServer | None = None) -> None:
        self.target: Target = load_target(target)
        self.extra_capabilities = frozenset(capabilities)
        self.timeout_scale = timeout_scale
        self.concurrency = concurrency or DEFAULT_CONCURRENCY
        self.lane_concurrency = concurrency  # None: each lane's own default (lanes.py)
        self.server = server or CaseServer()
        self._opened = False
        self._opening = asyncio.Lock()
        self._unfinished: dict[str, str] = {}  # case ID -> chunking still parsed at its deadline
        self._large_running = 0  # items of megabytes of this run parsing now

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def capabilities(self) -> frozenset[str]:
        return self.extra_capabilities | self.target.capabilities

    async def open(self) -> None:
        """Start the target's processes once, before the first item; callers meanwhile wait (an
        adapter announces its capabilities as it starts; P-10's probes start beside the items)."""
        async with self._opening:
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

    async def observe(self, case: Case, chunking: Chunking, fresh: bool = False,
                      attempt: int = 0) -> tuple[Observation, Slot]:
        """Run ``case`` under ``chunking`` once, until a fact ends it (or its deadline);
        ``fresh``: on an adapter process started for this run (as a run lost with a shared one
        runs again: whose crash was it?); ``attempt``: a run again, at a URL of its own (a late
        request of the one before must not count in it)."""
        await self.open()
        slot = self.server.add_slot(case, chunking, attempt)
        invocation = invocation_for(case, self.server.url(slot.path), self.capabilities)
        timeout = case_timeout(case, self.timeout_scale)
        watch = CaseWatch(case, slot, invocation, time.monotonic() + timeout)
        watch.inbound = lambda: self.server.inbound_pending(slot.client, slot.path)
        watch.in_flight = lambda tree: self.server.inbound_in_flight(tree, slot.path)
        try:
            observe = functools.partial(self.target.observe, fresh=True) if fresh else self.target.observe
            observation = await observe(invocation, profile=case.profile, timeout=timeout, watch=watch)
        finally:
            watch.close()
            self.server.release(slot)
        if observation.lost and not fresh and getattr(self.target, "pool", None) is not None:
            return await self.observe(case, chunking, fresh=True, attempt=attempt)
        return observation, slot

    async def attempt(self, item: Item) -> list[Result]:
        """Run one item and judge it. A run lost with a shared adapter process runs again on one of
        its own (whose crash?); a failing run where load may have raced the client's timers runs
        again, not judged if every run did (:mod:`.timer_race`)."""
        for number in range(RACE_ATTEMPTS):
            observation, slot = await self.observe(item.case, item.chunking, attempt=number)
            if still_parsing(item.case, observation):
                self._unfinished.setdefault(item.case.id, item.chunking.name)
            requests = list(slot.requests)
            results = judge_run(item.case, item.chunking, observation, requests, slot.total)
            raced = timer_raced(item.case, requests) or _delay_raced(item, observation, requests, slot.total)
            if raced is None or all(r.outcome is Outcome.PASS for r in results):
                return results
        why = f"not judged: load may have decided it in all {RACE_ATTEMPTS} runs ({raced})"
        return results_for(item.case, item.chunking, [Finding(why)], outcome=Outcome.SKIP)

    def _unjudgeable(self, item: Item, growth: Growth | None) -> list[Result] | None:
        """Not judged, without a run: a case of megabytes still parsing at its deadline under
        another chunking (the same bytes would spend the same deadline to say the same), or one
        its P-10 probes put well past its deadline (:func:`~.speed.projected_seconds`)."""
        if (under := self._unfinished.get(item.case.id)) is not None:
            why = f"still parsing this case at its deadline ({under}), so not run again"
        else:
            line = longest_line(item.case)
            projected = None if growth is None else projected_seconds(growth, line)
            deadline = case_timeout(item.case, self.timeout_scale)
            if projected is None or projected < PAST_DEADLINE * deadline:
                return None
            why = (f"its P-10 probes put a {line / (1 << 20):.1f} MiB line at {projected:.0f} s of the "
                   f"client's CPU, past this case's {deadline:.0f} s deadline, so not run")
        why = f"not judged: {why} (see P-10)"
        return results_for(item.case, item.chunking, [Finding(why)], outcome=Outcome.SKIP)

    async def run_item(self, item: Item) -> list[Result]:
        """One item (for one-at-a-time faces)."""
        await self.open()  # an adapter announces its capabilities when it starts
        skipped = self._skipped(item)
        return skipped if skipped is not None else await self.attempt(item)

    async def growth(self) -> Growth:
        """P-10's probes one after the other (:mod:`.speed`): the client's CPU seconds on each, a
        larger one while in doubt, the first twice (the cheaper counts). Each takes a large
        case's turn (:mod:`.turns`) so it does not starve the parsers of megabytes."""
        growth, limit = Growth(()), large_items_limit()
        for index, size in enumerate(PROBES):
            runs: list[float | None] = []
            for _ in range(2 if index == 0 else 1):
                await limit.acquire(self._turn_rank)  # megabytes parsed: a turn, as a large case
                try:
                    observation, _ = await self.observe(probe_case(size), chunking("whole"))
                finally:
                    limit.release()
                if observation.timed_out and observation.busy_at_deadline:
                    return Growth((*growth.seconds, None), unfinished=True)
                runs.append(observation.cpu_seconds)  # ended on a fact, or at its deadline idle with all read
            growth = Growth((*growth.seconds, None if None in runs else min(runs)))  # type: ignore[type-var]
            if index and not needs_larger(growth):
                break
        return growth

    async def run(self, items: Sequence[Item], progress: Progress | None = None) -> list[Result]:
        """Run every item (the server must be started); results in plan order, then P-10 when
        the plan holds a case of more than 1 MiB (the question that probe answers)."""
        semaphore = asyncio.Semaphore(self.concurrency)

        # a case of megabytes run whole and split: the whole's turn goes on to the split, unless
        # the whole was still parsing at its deadline (then the split is not run: _unjudgeable)
        split = {item.case.id for item in items if is_large(item.case) and item.chunking.name != "whole"}
        handoffs: dict[str, asyncio.Future[bool]] = {
            item.case.id: asyncio.get_running_loop().create_future()
            for item in items if item.chunking.name == "whole" and item.case.id in split}

        async def one(item: Item) -> list[Result]:
            results = self._skipped(item)
            if results is None:
                results = await large(item) if is_large(item.case) else await small(item)
            if progress is not None:
                progress(item, results)
            return results

        async def small(item: Item) -> list[Result]:
            async with semaphore:
                return await self.attempt(item)

        async def large(item: Item) -> list[Result]:
            """After its whole (never beside it), on the turn its whole hands on; a turn only if
            it is to be run, and no slot while it waits for one."""
            limit, case, whole = large_items_limit(), item.case.id, item.chunking.name == "whole"
            held = await handoffs[case] if not whole and case in handoffs else False
            passed_on = False
            try:
                results = self._unjudgeable(item, await probes if probes is not None else None)
                if results is None:
                    if not held:
                        await limit.acquire(self._turn_rank)
                        held = True
                    async with semaphore:
                        self._large_running += 1
                        try:
                            results = await self.attempt(item)
                        finally:
                            self._large_running -= 1
                    passed_on = whole and case in handoffs and case not in self._unfinished
                return results
            finally:
                if whole and case in handoffs:
                    handoffs[case].set_result(passed_on)
                if held and not passed_on:
                    limit.release()

        async def isolated(indices: list[int]) -> dict[int, list[Result]]:
            await self.open()
            return dict(zip(indices, await asyncio.gather(*(one(items[i]) for i in indices)), strict=True))

        # only a client in processes of its own has a CPU time to measure (not a browser); its
        # probes run first, so a case of megabytes they put far past its deadline is not run
        shows_cpu = isinstance(self.target, (PythonTarget, CommandTarget, HarnessTarget))
        wants_speed = shows_cpu and any(is_large(item.case) for item in items)
        probes = asyncio.ensure_future(self.growth()) if wants_speed else None
        try:
            order = sorted(range(len(items)), key=lambda index: _start_order(items[index]))
            in_lanes = set(self._laned(items))
            done, laned = await asyncio.gather(
                isolated([i for i in order if i not in in_lanes]),
                self._run_lanes(items, [i for i in order if i in in_lanes], one, progress),
            )
            done.update(laned)
            speed = [judge_growth(await probes)] if probes is not None else []
        finally:
            if probes is not None:
                probes.cancel()
            await self.aclose()
        return attribute_chunking_failures([r for index in range(len(items)) for r in done[index]]) + speed

    def _turn_rank(self) -> tuple[int, int]:
        """This run's place in the queue for a turn at megabytes (see :mod:`.turns`): the
        deadlines its large items met, then how many of them parse now."""
        return len(self._unfinished), self._large_running

    def _laned(self, items: Sequence[Item]) -> list[int]:
        """The items this run gives to lanes: a Python callable's importable by name, in a run of many."""
        if not isinstance(self.target, PythonTarget) or self.target.spec is None:
            return []
        indices = laned(items)
        return indices if lane_count(indices) else []

    async def _run_lanes(self, items: Sequence[Item], indices: list[int], fallback: Fallback,
                         progress: Progress | None) -> dict[int, list[Result]]:
        """``indices`` (from :meth:`_laned`) in lanes, in the environment the callable's workers get."""
        if not indices:
            return {}
        assert isinstance(self.target, PythonTarget) and self.target.spec is not None
        command = self.target.pool_command()
        assert command is not None  # importable by name: it has a worker's command line
        options = {"capabilities": sorted(self.extra_capabilities), "timeout_scale": self.timeout_scale}
        return await run_lanes(
            self.target.spec, items, indices, lanes=lane_count(indices), concurrency=self.lane_concurrency,
            options=options, env=command[1], fallback=fallback, progress=progress)


def _delay_raced(item: Item, observation: Observation, requests: list[Any], total: int) -> str | None:
    """:func:`~.timer_race.delay_raced`, if the run passes judged without the run-queue wait."""
    why = delay_raced(item.case, requests)
    if why is None:
        return None
    unloaded = [dataclasses.replace(r, starved_at_received=None, starved_at_ended=None) for r in requests]
    results = judge_run(item.case, item.chunking, observation, unloaded, total)
    return why if all(r.outcome is Outcome.PASS for r in results) else None


def _start_order(item: Item) -> tuple[int, bool, float, int]:
    """The large first, largest first, so their parsing overlaps the small items (a fast parser has
    time to spare on 14 MB, a quadratic one little on 5 MiB); each whole before its split. Then
    the ones whose script sleeps, longest first: their sleeps overlap work, not end the run."""
    size = item.case.body_length
    if is_large(item.case):
        return (0, item.chunking.name != "whole", 0.0, -size)
    return (1, False, -case_sleeps(item.case), -size)


def attribute_chunking_failures(results: list[Result]) -> list[Result]:
    """A case that passes whole but fails split also breaks the chunking rule (``CHUNKING_RULES``):
    an added Result names the case, the chunking and the original message."""
    passed_whole = {r.case for r in results if r.chunking == "whole" and r.outcome is Outcome.PASS}
    added: list[Result] = []
    seen: set[tuple[str | None, str | None]] = set()
    for result in results:
        if (result.outcome not in (Outcome.FAIL, Outcome.WARN) or result.case not in passed_whole
                or result.chunking in (None, "whole") or (result.case, result.chunking) in seen):
            continue
        seen.add((result.case, result.chunking))
        family = Chunking(result.chunking).family
        rule = CHUNKING_RULES.get(family, DEFAULT_CHUNKING_RULE)
        fix = CHUNKING_FIXES.get(family, result.fix)  # it passed whole: the split is the cause
        if any(r.rule == rule and r.case == result.case and r.chunking == result.chunking for r in results):
            continue
        message = f"passes whole but fails split {result.chunking}: {result.message}"
        added.append(dataclasses.replace(result, rule=rule, message=message, fix=fix, extra={**result.extra}))
    return results + added


async def run_items_async(target: Any, items: Sequence[Item], *, profile: str = "generic",
                          capabilities: Iterable[str] = (), timeout_scale: float = 1.0,
                          concurrency: int | None = None, progress: Progress | None = None,
                          pattern: str | None = None) -> Report:
    """Every one of ``items`` (the faces plan and filter) against ``target`` on one case server."""
    run = ClientRun(target, capabilities=capabilities, timeout_scale=timeout_scale, concurrency=concurrency)
    started = time.monotonic()  # the run's seconds: which row of a report took them (meta)
    async with run.server:
        results = await run.run(items, progress)
    return Report(kind="client", target=run.name, results=results, meta={
        "rerun_target": command_line_form(run.target, profile, run.extra_capabilities),
        "profile": profile, "capabilities": sorted(run.capabilities), "pattern": pattern,
        "items": len(items), "timeout_scale": timeout_scale, "elapsed": round(time.monotonic() - started, 3)})


def run_items(target: Any, items: Sequence[Item], **options: Any) -> Report:
    """:func:`run_items_async` for synchronous callers; safe inside a running event loop (the
    run then happens in a worker thread: a notebook, an async test)."""
    return run_sync(run_items_async(target, items, **options))


async def run_client_suite_async(
    target: Any, *, profile: str = "generic", pattern: str | None = None,
    chunkings: Iterable[str] | None = None, **options: Any,
) -> Report:
    """The async form of :func:`run_client_suite` (for callers that already run a loop)."""
    items = plan_items(profile=profile, pattern=pattern, chunkings=chunkings)
    return await run_items_async(target, items, profile=profile, pattern=pattern, **options)


def run_client_suite(target: Any, *, profile: str = "generic", capabilities: Iterable[str] = (),
                     pattern: str | None = None, chunkings: Iterable[str] | None = None,
                     timeout_scale: float = 1.0, progress: Progress | None = None,
                     concurrency: int | None = None) -> Report:
    """Run every client case against ``target``: a callable, ``"module:callable"`` or a
    :class:`~conformance.client.targets.CommandTarget`. Returns the Report (``.ok`` is the exit
    code truth); raises :class:`~conformance.client.targets.TargetError` for an unusable target.
    Safe to call from inside a running event loop (the run then happens in a worker thread)."""
    items = plan_items(profile=profile, pattern=pattern, chunkings=chunkings)
    return run_items(target, items, profile=profile, pattern=pattern, capabilities=capabilities,
                     timeout_scale=timeout_scale, progress=progress, concurrency=concurrency)


class BackgroundRun:
    """A ClientRun on its own event-loop thread for synchronous callers (the pytest face):
    ``run_item(item)`` blocks until it is judged; the case server lives until :meth:`close`."""

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
