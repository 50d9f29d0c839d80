"""Items of over a megabyte run at most one per CPU at once in a process, whatever run they
belong to, and never hold a run's slot while they wait their turn."""

from __future__ import annotations

import asyncio
import os
import time

from conformance.client.items import ONE_SPLIT_BYTES, plan_items
from conformance.client.observation import Observation
from conformance.client.runner import ClientRun


class CountingTarget:
    """A target that only counts how many runs of each size are under way at once."""

    name = "counting"
    capabilities = frozenset({"reconnect", "comments", "notifications", "retry", "last-event-id"})

    def __init__(self, shared: dict[str, int]) -> None:
        self.shared = shared

    async def observe(self, invocation, *, profile, timeout, watch=None):
        large = any(f"/{case_id}/" in invocation.url for case_id in self.shared["large_ids"])
        key = "large" if large else "small"
        self.shared["timeline"].append((f"{key} starts", time.monotonic()))
        self.shared[key] += 1
        self.shared[f"max_{key}"] = max(self.shared[f"max_{key}"], self.shared[key])
        await asyncio.sleep(0.05 if large else 0.005)
        self.shared[key] -= 1
        self.shared["timeline"].append((f"{key} ends", time.monotonic()))
        return Observation(ended_by="returned")


def test_large_items_of_two_runs_share_one_bound_of_one_per_cpu() -> None:
    items = [item for item in plan_items() if item.case.id.startswith(("DA-01", "CM-"))]
    large_ids = {item.case.id for item in items if item.case.body_length > ONE_SPLIT_BYTES}
    assert len([i for i in items if i.case.id in large_ids]) > 2 * (os.cpu_count() or 1)
    shared: dict = {"large": 0, "small": 0, "max_large": 0, "max_small": 0, "timeline": [],
                    "large_ids": large_ids}
    per_run = len([i for i in items if i.case.id in large_ids])

    async def main() -> None:
        # as many places as large items: a large item holding its place while it waits its
        # turn would leave no room for a small one until the first large one ended
        runs = [ClientRun(CountingTarget(shared), concurrency=per_run) for _ in range(2)]
        for run in runs:
            await run.server.start()
        try:
            await asyncio.gather(*(run.run(items) for run in runs))
        finally:
            for run in runs:
                await run.server.stop()

    asyncio.run(main())
    assert 1 <= shared["max_large"] <= (os.cpu_count() or 1)
    first = {
        what: min(t for w, t in shared["timeline"] if w == what) for what in ("small starts", "large ends")
    }
    assert first["small starts"] < first["large ends"]


class SlowParserTarget(CountingTarget):
    """Still parsing every case of megabytes at its deadline (a quadratic parser)."""

    async def observe(self, invocation, *, profile, timeout, watch=None):
        large = any(f"/{case_id}/" in invocation.url for case_id in self.shared["large_ids"])
        self.shared["runs"].append(invocation.url.rsplit("/", 2)[-2:])
        await asyncio.sleep(0)
        if large:
            return Observation(ended_by="deadline", busy_at_deadline=True)
        return Observation(ended_by="returned")


def test_a_case_still_parsed_at_its_deadline_is_not_run_again_under_its_other_split() -> None:
    items = [item for item in plan_items() if item.case.id.startswith("DA-01")]
    large_ids = {item.case.id for item in items if item.case.body_length > ONE_SPLIT_BYTES}
    shared: dict = {"large_ids": large_ids, "runs": []}
    run = ClientRun(SlowParserTarget(shared), concurrency=8)

    async def main() -> list:
        async with run.server:
            return await run.run(items)

    results = asyncio.run(main())
    large_runs = [case for case, _ in shared["runs"] if case in large_ids]
    assert sorted(large_runs) == sorted(large_ids)  # each large case ran once: whole
    assert {chunking for case, chunking in shared["runs"] if case in large_ids} == {"whole"}
    split = [r for r in results if r.case in large_ids and r.chunking != "whole"]
    assert split and all(r.outcome.value == "skip" for r in split)
    assert all("still parsing this case at its deadline (whole)" in r.message for r in split)
    whole = [r for r in results if r.case in large_ids and r.chunking == "whole"]
    assert whole and all(r.message.startswith("not judged: still parsing at its deadline") for r in whole)
