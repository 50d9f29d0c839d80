"""Lanes (conformance/client/lanes.py): a run's many small items shared out to one process per
CPU, the case server and the client threads together; large items and anything a lane did not
judge run in workers, one run per process."""

from __future__ import annotations

import asyncio
import io
import os
import threading
from collections import Counter

import naive_clients as nc
import pytest

from conformance.client import lanes, runner
from conformance.client.items import is_large, plan_items
from conformance.client.processes import tracked
from conformance.client.runner import run_client_suite, run_client_suite_async
from conformance.results import Outcome

PATTERN = "LE-0[0-2]*"  # 201 items: enough for lanes


def verdicts(results):
    return {(r.rule, r.case, r.chunking): r.outcome for r in results}


def where(path, with_cpus: bool = False) -> Counter:
    """(pid, "lane" or "worker"[, the CPUs it may run on]) -> runs, from the clients' lines."""
    kinds = {"sse-client": "lane", "sse-run-": "worker"}
    lines = path.read_text().splitlines() if path.exists() else []
    return Counter(
        (int(pid), next(kind for prefix, kind in kinds.items() if name.startswith(prefix)))
        + ((cpus,) if with_cpus else ())
        for pid, cpus, name in (line.split(" ", 2) for line in lines)
    )


def test_a_run_of_many_small_items_runs_in_lanes_and_judges_as_workers_do(tmp_path, monkeypatch):
    monkeypatch.setenv(nc.WHERE, str(tmp_path / "lanes"))
    laned = run_client_suite(nc.where_client, pattern=PATTERN)
    monkeypatch.setenv(nc.WHERE, str(tmp_path / "workers"))
    monkeypatch.setattr(lanes, "MIN_ITEMS", 10**9)  # too few items for a lane: each in a worker
    alone = run_client_suite(nc.where_client, pattern=PATTERN)

    assert verdicts(laned.results) == verdicts(alone.results)
    assert laned.meta["elapsed"] > 0  # the run's seconds, in its report (a report row's time)
    assert {o for o in verdicts(alone.results).values()} >= {Outcome.PASS}
    in_lanes = where(tmp_path / "lanes")
    assert {kind for _, kind in in_lanes} == {"lane"}
    assert len({pid for pid, _ in in_lanes}) <= (os.cpu_count() or 1)
    assert os.getpid() not in {pid for pid, _ in in_lanes}
    assert {kind for _, kind in where(tmp_path / "workers")} == {"worker"}
    assert not tracked()


@pytest.mark.skipif(len(lanes.usable_cpus()) < 2 or not hasattr(os, "sched_setaffinity"),
                    reason="pinning needs Linux and two CPUs")
def test_each_lane_runs_its_clients_on_a_cpu_of_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv(nc.WHERE, str(tmp_path / "lanes"))
    run_client_suite(nc.where_client, pattern=PATTERN)
    seen = {(pid, cpus) for pid, _, cpus in where(tmp_path / "lanes", with_cpus=True)}
    usable = {str(cpu) for cpu in lanes.usable_cpus()}
    assert len(seen) == len(lanes.usable_cpus())  # one CPU per lane, every lane's threads on it
    assert {cpus for _, cpus in seen} == usable  # each lane a CPU of its own, all CPUs used
    assert os.sched_getaffinity(0) == set(map(int, usable))  # the suite's own process is not pinned


def lanes_of(ran: Counter) -> set[int]:
    return {pid for pid, kind in ran if kind == "lane"}


def in_kept_lanes(*clients):
    """Run each of ``clients`` at once in one kept_lanes block, as the selftest does."""
    async def runs():
        async with lanes.kept_lanes():
            return await asyncio.gather(*(run_client_suite_async(c, pattern=PATTERN) for c in clients))

    return asyncio.run(runs())


def test_runs_in_a_kept_lanes_block_take_turns_on_one_set_of_lanes_and_judge_as_alone(tmp_path, monkeypatch):
    monkeypatch.setenv(nc.WHERE, str(tmp_path / "alone"))
    alone = run_client_suite(nc.where_client, pattern=PATTERN)
    monkeypatch.setenv(nc.WHERE, str(tmp_path / "kept"))
    first, second = in_kept_lanes(nc.where_client, nc.good_client)

    assert verdicts(first.results) == verdicts(alone.results)
    assert verdicts(second.results) == verdicts(alone.results)
    kept = where(tmp_path / "kept")
    assert len(lanes_of(kept)) == len(lanes_of(where(tmp_path / "alone")))  # not a set per run
    assert not tracked()  # the block ended its lanes


def test_a_lane_that_died_is_not_kept_and_the_next_run_starts_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv(nc.WHERE, str(tmp_path / "alone"))
    alone = run_client_suite(nc.where_client, pattern=PATTERN)
    monkeypatch.setenv(nc.WHERE, str(tmp_path / "kept"))
    dying, good = in_kept_lanes(nc.dies_in_a_lane_client, nc.where_client)

    assert verdicts(dying.results) == verdicts(good.results) == verdicts(alone.results)
    ran = where(tmp_path / "kept")
    assert max(runs for (_, kind), runs in ran.items() if kind == "lane") > 10  # a lane of the second
    assert len(lanes_of(ran)) > len(lanes.usable_cpus())  # fresh lanes for it, not the dead ones
    assert not tracked()


def test_small_items_whose_script_sleeps_start_first():
    """A run's last items set when it ends: a sleeper started last would end it with the CPUs idle."""
    items = plan_items()
    order = sorted(items, key=runner._start_order)
    small = [item for item in order if not is_large(item.case)]
    assert all(is_large(item.case) for item in order[: len(items) - len(small)])  # megabytes first still
    first_sleeper = next(i for i, item in enumerate(small) if item.case.id == "HT-005")
    assert first_sleeper < len(small) // 10  # its 300 ms sleep starts among the first


def test_what_a_dead_lane_did_not_judge_runs_in_workers_and_is_judged(tmp_path, monkeypatch):
    monkeypatch.setenv(nc.WHERE, str(tmp_path / "good"))
    good = run_client_suite(nc.where_client, pattern=PATTERN)
    monkeypatch.setenv(nc.WHERE, str(tmp_path / "dies"))
    dying = run_client_suite(nc.dies_in_a_lane_client, pattern=PATTERN)

    assert verdicts(dying.results) == verdicts(good.results)  # nothing lost, nothing blamed
    ran = where(tmp_path / "dies")
    lane_runs = [runs for (_, kind), runs in ran.items() if kind == "lane"]
    assert lane_runs and max(lane_runs) == 10  # each lane ended at its tenth run ...
    assert sum(runs for (_, kind), runs in ran.items() if kind == "worker") > 0  # ... workers took the rest
    assert not tracked()


def test_a_lane_stuck_with_the_gil_held_is_stopped_and_its_items_run_in_workers(tmp_path, monkeypatch):
    monkeypatch.setattr(lanes, "STARVED_CAP", 0.3)  # silent for 0.3 of its longest deadline: stuck
    monkeypatch.setenv(nc.WHERE, str(tmp_path / "good"))
    good = run_client_suite(nc.where_client, pattern=PATTERN)
    monkeypatch.setenv(nc.WHERE, str(tmp_path / "stuck"))
    stuck = run_client_suite(nc.holds_the_gil_in_a_lane_client, pattern=PATTERN)

    assert verdicts(stuck.results) == verdicts(good.results)
    assert not (tmp_path / "stuck.after").exists()  # stopped before its minute with the GIL was up
    assert sum(runs for (_, kind), runs in where(tmp_path / "stuck").items() if kind == "worker") > 0
    assert not tracked()


def test_a_progress_that_fails_ends_the_run_instead_of_the_lanes(tmp_path, monkeypatch):
    """``selftest | head``: once the pipe closed, every dot raised BrokenPipeError; the lanes took
    it for their own failure and handed every item to a worker, whose dot failed again, and the
    suite ran on for minutes with nobody reading."""
    monkeypatch.setenv(nc.WHERE, str(tmp_path / "runs"))
    calls = []

    def closed_pipe(item, results):
        calls.append(item)
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(BrokenPipeError):
        run_client_suite(nc.where_client, pattern=PATTERN, progress=closed_pipe)
    assert len(calls) <= len(lanes.usable_cpus())  # the first dot ended the run (others came with it)
    assert sum(runs for (_, kind), runs in where(tmp_path / "runs").items() if kind == "worker") == 0
    assert not tracked()


def test_a_lane_retires_once_a_client_thread_outlives_its_run(monkeypatch):
    monkeypatch.setattr(lanes, "LINGER", 0.02)
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="sse-client http://127.0.0.1/x", daemon=True)
    thread.start()
    try:
        busy = lanes._Lane(run=None, out=io.BytesIO())
        busy.in_flight = 1  # the thread is its run's: not lingering
        with pytest.raises(asyncio.TimeoutError):
            asyncio.run(asyncio.wait_for(busy.watch(), 0.3))
        assert not busy.retiring

        done = lanes._Lane(run=None, out=io.BytesIO())  # no run in flight: the thread outlived it
        asyncio.run(asyncio.wait_for(done.watch(), 2))
        assert done.retiring
    finally:
        release.set()
        thread.join()


def test_a_retiring_lane_starts_no_more_items():
    class NeverRun:
        async def run_item(self, item):
            raise AssertionError("a retiring lane started an item")

    out = io.BytesIO()
    lane = lanes._Lane(run=NeverRun(), out=out)
    lane.retiring = True
    item = plan_items(pattern="LE-001")[0]
    asyncio.run(lane.one(0, item))
    assert out.getvalue() == b""  # not reported: the suite runs it in a worker


def test_cases_of_megabytes_and_short_runs_stay_in_workers():
    items = plan_items()
    laned = lanes.laned(items)
    assert laned and all(not is_large(items[i].case) for i in laned)
    assert any(is_large(item.case) for item in items)  # ... and there were large ones to leave out
    assert lanes.lane_count(items[: lanes.MIN_ITEMS - 1]) == 0
    assert lanes.lane_count(items[: lanes.MIN_ITEMS]) == max(1, os.cpu_count() or 1)


def test_a_memory_error_names_the_bound_of_the_process_it_happened_in(monkeypatch):
    from conformance.client import processes
    from conformance.client.observation import failure

    monkeypatch.setattr(processes, "_bound", None)  # the suite's own process: no bound of ours
    assert "memory bound" not in failure(MemoryError(), "generic")[1]
    monkeypatch.setattr(processes, "_bound", 512 << 20)  # a worker's or a lane's
    ending, why = failure(MemoryError(), "generic")
    assert ending == "raised" and "past the memory bound of 512 MiB" in why and "--max-memory" in why
