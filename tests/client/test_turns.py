"""Turns at the cases of megabytes: the run that has met no deadline parsing them goes before the
one that has, every item still runs, and a split never runs beside its whole. Pure asyncio: the
targets are stand-ins that record when each run starts and ends."""

from __future__ import annotations

import asyncio

import pytest

from conformance.client import turns
from conformance.client.items import is_large, plan_items
from conformance.client.observation import Observation
from conformance.client.runner import ClientRun
from conformance.client.turns import Turns, next_turn


def test_the_next_turn_goes_to_the_fewest_deadlines_then_the_fewest_parsing_then_the_first() -> None:
    assert next_turn([((1, 0), 0), ((0, 1), 5), ((0, 0), 9)]) == 2
    assert next_turn([((1, 0), 0), ((0, 1), 5)]) == 1
    assert next_turn([((0, 0), 3), ((0, 0), 1)]) == 1


def test_a_turn_goes_by_the_rank_its_run_has_when_the_turn_frees() -> None:
    served: list[str] = []
    ranks = {"early but struck": (0,), "late": (0,)}

    async def main() -> None:
        limit = Turns(1)
        await limit.acquire()

        async def wait(name: str) -> None:
            await limit.acquire(lambda: ranks[name])
            served.append(name)
            limit.release()

        waiting = [asyncio.ensure_future(wait(name)) for name in ranks]
        await asyncio.sleep(0)  # both queued, the first one first
        ranks["early but struck"] = (1,)  # its run met a deadline meanwhile
        limit.release()
        await asyncio.gather(*waiting)
        assert limit.free == 1 and not limit.waiting

    asyncio.run(main())
    assert served == ["late", "early but struck"]


def test_a_waiter_cancelled_in_the_queue_loses_no_turn() -> None:
    async def main() -> None:
        limit = Turns(1)
        await limit.acquire()
        gone = asyncio.ensure_future(limit.acquire())
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.gather(gone, return_exceptions=True)
        limit.release()
        assert limit.free == 1 and not limit.waiting
        await limit.acquire()  # still one to take

    asyncio.run(main())


LARGE_IDS = {item.case.id for item in plan_items() if is_large(item.case)}
MIB = {item.case.id: item.case.body_length >> 20 for item in plan_items() if is_large(item.case)}


class ParsingTarget:
    """Every case of megabytes ends at its deadline still parsing (``slow``) or parsed, after a
    turn of the loop per MiB; records each run of megabytes as (run, event, case, chunking)."""

    capabilities = frozenset({"reconnect", "comments", "notifications", "retry", "last-event-id"})

    def __init__(self, name: str, slow: bool, log: list[tuple[str, str, str, str]]) -> None:
        self.name = name
        self.slow = slow
        self.log = log

    async def observe(self, invocation, *, profile, timeout, watch=None):
        case, chunking = invocation.url.rsplit("/", 2)[-2:]
        if case not in LARGE_IDS:
            return Observation(ended_by="returned")
        self.log.append((self.name, "starts", case, chunking))
        for _ in range(MIB[case]):  # other runs get turns of the loop meanwhile, more as it is larger
            await asyncio.sleep(0)
        self.log.append((self.name, "ends", case, chunking))
        if self.slow:
            return Observation(ended_by="deadline", busy_at_deadline=True)
        return Observation(ended_by="returned")


def _run_together(targets: list[ParsingTarget]) -> list[list]:
    items = [item for item in plan_items() if item.case.id.startswith(("DA-01", "CM-00"))]
    assert {item.case.id for item in items if is_large(item.case)} == LARGE_IDS

    async def main() -> list[list]:
        runs = [ClientRun(target, concurrency=8) for target in targets]
        for run in runs:
            await run.server.start()
        try:
            return await asyncio.gather(*(run.run(items) for run in runs))
        finally:
            for run in runs:
                await run.server.stop()

    results = asyncio.run(main())
    planned = {(item.case.id, item.chunking.name) for item in items}
    for found in results:  # every item judged: whole, and the split of every large case
        assert {(r.case, r.chunking) for r in found if r.case} == planned
    return results


@pytest.mark.parametrize("cpus", [1, 2])
def test_a_run_that_met_a_deadline_parsing_megabytes_waits_behind_one_that_did_not(
    monkeypatch: pytest.MonkeyPatch, cpus: int
) -> None:
    monkeypatch.setattr(turns.os, "cpu_count", lambda: cpus)
    log: list[tuple[str, str, str, str]] = []
    _run_together([ParsingTarget("slow", True, log), ParsingTarget("fast", False, log)])
    starts = [(name, case, chunking) for name, what, case, chunking in log if what == "starts"]
    assert len([s for s in starts if s[0] == "fast"]) == 2 * len(LARGE_IDS) - 1  # DA-014: whole only
    # the first turns go to the first to ask (the slow run: it starts first); once the slow run
    # met a deadline, every fast item goes before its next one (in arrival order, all of the
    # slow run's came first)
    first_deadline = log.index(next(entry for entry in log if entry[:2] == ("slow", "ends")))
    later_slow = [i for i, entry in enumerate(log) if entry[:2] == ("slow", "starts") and i > first_deadline]
    last_fast = max(i for i, entry in enumerate(log) if entry[:2] == ("fast", "starts"))
    assert later_slow and last_fast < min(later_slow)
    # its splits never run: each follows its whole's verdict, "still parsing", unrun
    assert {chunking for name, _, chunking in starts if name == "slow"} == {"whole"}


def test_a_split_of_megabytes_starts_only_after_its_whole_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(turns.os, "cpu_count", lambda: 4)
    log: list[tuple[str, str, str, str]] = []
    _run_together([ParsingTarget("fast", False, log)])
    for index, (_, what, case, chunking) in enumerate(log):
        if what == "starts" and chunking != "whole":
            assert (("fast", "ends", case, "whole")) in log[:index], f"{case}[{chunking}] beside its whole"
