"""Lanes: a run's small items in one process per CPU, each with its own case server and the
clients in its threads. A worker per run (:mod:`.worker`) costs a pipe, a protocol and a process
start; no verdict depends on one (a client waits only when its own thread sleeps). Large cases,
P-10's probes and whatever a dead, stuck or retired lane did not judge still run in workers
(docs/timing.md, "Clients in threads: lanes").

    python -m conformance.client.lanes  < per run: a plan (its module:callable), items as asked, None
                                        > {"index": i, "results": [...]} lines, then {"free": true}
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import pickle
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextvars import ContextVar
from typing import IO, Any

from ..results import Result
from .collect import STARVED_CAP, Tail
from .items import Item, case_timeout, is_large
from .processes import kill_group, release, spawn

__all__ = ["MIN_ITEMS", "kept_lanes", "lane_count", "laned", "run_lanes"]

PER_LANE = 16  # runs at once in a lane unless told (a run is a thread there, not a process)
MIN_ITEMS = 64  # fewer small items run in workers: a lane's start costs what a few runs do
LINGER = 1.0  # seconds a client thread may outlive its run before its lane retires
_LINE_LIMIT = 1 << 24  # one item's results, as one JSON line
_END = pickle.dumps(None)  # after the last item a lane is given
_CLIENT_THREAD = "sse-client "  # the name prefix of an in-process client's thread (targets.py)

Fallback = Callable[[Item], Awaitable[list[Result]]]
Progress = Callable[[Item, list[Result]], None]


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (a container's cpuset may allow fewer than it has)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux: no pinning, one lane per CPU counted
        return list(range(os.cpu_count() or 1))


def lane_count(items: Sequence[Item]) -> int:
    """How many lanes: one per usable CPU, none for a run of few small items."""
    return 0 if len(items) < MIN_ITEMS else max(1, len(usable_cpus()))


def pin(cpu: int | None) -> None:
    """Keep this process (and every thread it starts later) on one CPU: a lane is one GIL anyway,
    and pinned, its threads hand the GIL and wake-ups to each other instead of waking another CPU."""
    if cpu is not None:
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setaffinity(0, {cpu})


def laned(items: Sequence[Item]) -> list[int]:
    """The indices of ``items`` a lane can run: the small ones (large ones run in workers)."""
    return [i for i, item in enumerate(items) if not is_large(item.case)]


async def run_lanes(
    spec: str, items: Sequence[Item], indices: Sequence[int], *, lanes: int, concurrency: int | None,
    options: dict[str, Any], env: dict[str, str] | None, fallback: Fallback, progress: Progress | None,
) -> dict[int, list[Result]]:
    """Run ``items[i]`` for every ``i`` of ``indices`` in ``lanes`` processes, ``concurrency`` at
    once in all (None: PER_LANE each); an item a lane did not judge goes to ``fallback``. Items
    go out as lanes return results, not dealt at the start, so a slowed lane takes fewer."""
    each = PER_LANE if concurrency is None else max(1, concurrency // lanes)
    plan = {**options, "spec": spec, "concurrency": each}
    cpus = usable_cpus()
    pinned = len(cpus) >= lanes  # as many CPUs as lanes: one each
    scale = float(options.get("timeout_scale", 1.0))
    # silent this long (as many deadlines as a starved run may be given), a lane is stuck, not slow
    silence = STARVED_CAP * max(case_timeout(items[i].case, scale) for i in indices)
    waiting: deque[tuple[int, bytes]] = deque()  # items no lane has taken yet, pickled
    unpicklable: list[int] = []  # a chunking of the caller's own making, say: workers run it
    for i in indices:
        try:
            waiting.append((i, pickle.dumps((i, items[i]))))
        except (pickle.PicklingError, TypeError, AttributeError):
            unpicklable.append(i)
    done: dict[int, list[Result]] = {}

    async def lane(k: int) -> list[int]:
        cpu = cpus[k] if pinned else None
        key = (k, cpu, frozenset((env or {}).items()))  # a kept lane serves this lane of the next run
        ahead = 2 * plan["concurrency"]
        return await _lane(key, {**plan, "cpu": cpu}, env, waiting, ahead, items, done, progress, silence)

    given = await asyncio.gather(*(lane(k) for k in range(lanes if waiting else 0)))
    taken = [i for g in given for i in g]
    left = [i for i in [*unpicklable, *(i for i, _ in waiting), *taken] if i not in done]
    done.update(zip(left, await asyncio.gather(*(fallback(items[i]) for i in left)), strict=True))
    return done


async def _lane(key: Hashable, plan: dict[str, Any], env: dict[str, str] | None,
                waiting: deque[tuple[int, bytes]], ahead: int, items: Sequence[Item],
                done: dict[int, list[Result]], progress: Progress | None, silence: float) -> list[int]:
    """One lane: sent its plan and ``ahead`` items, then one more per result; returns the indices
    it was given. Silent for ``silence`` seconds (a client holding the GIL in C code stops its
    loop and deadlines) it is stopped like one that died. In a :func:`kept_lanes` block it is the
    lane ``key`` of the run before, once that run is done with it."""
    given: list[int] = []
    kept = _KEPT.get()
    lane = await kept[key].get() if kept is not None and key in kept else None
    if kept is not None:
        kept.setdefault(key, asyncio.Queue())
    lane = lane or await _start(env)
    free = ended = False

    async def send(count: int, *before: bytes) -> None:
        """Up to ``count`` more items, and the end once none is left (the lane's runs then end,
        and it says it is free: no item comes back to the queue)."""
        nonlocal ended
        if ended or proc.stdin.is_closing():
            return
        taken = [waiting.popleft() for _ in range(min(count, len(waiting)))]
        given.extend(i for i, _ in taken)
        ended = not waiting
        proc.stdin.write(b"".join([*before, *(data for _, data in taken), *([_END] if ended else [])]))
        with contextlib.suppress(ConnectionError):
            await proc.stdin.drain()

    try:
        if lane is None or not waiting:  # none could start, or the other lanes took every item
            free = lane is not None
            return given
        proc = lane[0]
        await send(ahead, pickle.dumps(plan))
        while True:
            try:
                line = await asyncio.wait_for(proc.stdout.readline(), silence)
                message = json.loads(line) if line else None
                if message is None or message.get("free"):
                    free = message is not None
                    break
                index = message["index"]
                done[index] = [Result.from_json(r) for r in message["results"]]
            except (ValueError, KeyError, TypeError, ConnectionError, asyncio.TimeoutError):
                break  # a broken line, or silence: what was judged stands, the rest goes to workers
            if progress is not None:  # outside: a progress that fails (stdout closed) is no lane's failure
                progress(items[index], done[index])
            await send(1)
    finally:
        if kept is not None:
            kept[key].put_nowait(lane if free else None)  # the next run's, now
        if lane is not None and not (free and kept is not None):
            await _end(lane)
    return given


_Proc = tuple[Any, "asyncio.Future[None]"]  # a lane's process, and the task reading its stderr


async def _start(env: dict[str, str] | None) -> _Proc | None:
    try:
        proc = await spawn([sys.executable, "-m", "conformance.client.lanes"], env=env, stdin=True,
                           limit=_LINE_LIMIT)
    except OSError:
        return None  # its items go to the other lanes, or to workers
    # what the clients print goes to the lane's stderr: read (a full pipe would stop the lane)
    return proc, asyncio.ensure_future(Tail().read(proc.stderr))


async def _end(lane: _Proc) -> None:
    proc, drain = lane
    kill_group(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        await proc.wait()
    drain.cancel()
    release(proc)


# in a kept_lanes() block, by key (lane number, CPU, environment): the lane of the run before,
# once that run is done with it (None: it was not kept, start one); no key yet: start one
_Kept = dict[Hashable, "asyncio.Queue[_Proc | None]"]
_KEPT: ContextVar[_Kept | None] = ContextVar("sse_conformance_kept_lanes", default=None)


@contextlib.asynccontextmanager
async def kept_lanes() -> AsyncIterator[None]:
    """The runs in this block share their lanes, one run at a time in each: a lane that ends its
    run cleanly serves the next, so its imports are paid once. For targets the caller vouches
    for (the selftest's own): a lane keeps whatever a client's imports changed in it."""
    kept: _Kept = {}
    token = _KEPT.set(kept)
    try:
        yield
    finally:
        _KEPT.reset(token)
        for queue in kept.values():
            while not queue.empty():
                if (lane := queue.get_nowait()) is not None:
                    await _end(lane)


# -- in the lane's process -------------------------------------------------------------------


class _Lane:
    """Runs the items it is sent, ``concurrency`` at once, writing each one's results as a line;
    retires (starts no more items) once a client thread outlives its run by LINGER."""

    def __init__(self, run: Any, out: IO[bytes]) -> None:
        self.run = run
        self.out = out
        self.in_flight = 0
        self.retiring = False
        self.items: asyncio.Queue[tuple[int, Item] | None] = asyncio.Queue()

    async def one(self, index: int, item: Item) -> None:
        if self.retiring:
            return
        self.in_flight += 1
        try:
            results = await self.run.run_item(item)
        finally:
            self.in_flight -= 1
        line = json.dumps({"index": index, "results": [r.to_json() for r in results]}, ensure_ascii=True)
        self.out.write(line.encode() + b"\n")
        self.out.flush()

    async def runs(self) -> None:
        """One run after another until the end (passed on to the next of these)."""
        while not self.retiring and (message := await self.items.get()) is not None:
            await self.one(*message)
        self.items.put_nowait(None)

    async def watch(self) -> None:
        """Two looks LINGER apart, each with more client threads alive than runs in flight."""
        over = 0
        while not self.retiring:
            await asyncio.sleep(LINGER)
            alive = sum(t.name.startswith(_CLIENT_THREAD) for t in threading.enumerate())
            over = over + 1 if alive > self.in_flight else 0
            self.retiring = over >= 2
        self.items.put_nowait(None)  # wakes the runs waiting for an item: they end

    def receive(self, source: IO[bytes]) -> None:
        """Items from ``source`` (pickles, until None or its end) into the queue, from a thread
        of their own: the suite sends one for each result the lane returns."""
        loop = asyncio.get_running_loop()

        def read() -> None:
            with contextlib.suppress(Exception):  # its end, or a broken pipe: no more items
                while (message := pickle.load(source)) is not None:
                    loop.call_soon_threadsafe(self.items.put_nowait, message)
            loop.call_soon_threadsafe(self.items.put_nowait, None)

        threading.Thread(target=read, name="lane-items", daemon=True).start()

    async def serve(self, source: IO[bytes], concurrency: int) -> None:
        self.receive(source)
        watcher = asyncio.ensure_future(self.watch())
        try:
            async with self.run.server:
                await asyncio.gather(*(self.runs() for _ in range(concurrency)))
        finally:
            watcher.cancel()


def _collect_rarely() -> None:
    """Fewer garbage collections, none over what was imported: a lane allocates many small objects."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


def _clients_ended(within: float) -> bool:
    """Have the client threads ended (each given until ``within`` seconds from now)?"""
    ends = time.monotonic() + within
    clients = [thread for thread in threading.enumerate() if thread.name.startswith(_CLIENT_THREAD)]
    for thread in clients:
        thread.join(max(0.0, ends - time.monotonic()))
    return not any(thread.is_alive() for thread in clients)


def main(argv: list[str]) -> int:
    from ..imports import import_spec
    from .runner import ClientRun
    from .targets import PythonTarget
    from .worker import client_process, leave

    out = client_process()
    try:  # a plan per run, from the suite that started this process; its items follow
        while (plan := pickle.load(sys.stdin.buffer)) is not None:
            pin(plan.get("cpu"))
            target = PythonTarget(import_spec(plan["spec"]), name=plan["spec"], isolate=False)
            run = ClientRun(target, capabilities=plan["capabilities"], timeout_scale=plan["timeout_scale"],
                            concurrency=plan["concurrency"])
            _collect_rarely()  # once the client's modules are imported
            lane = _Lane(run, out)
            asyncio.run(lane.serve(sys.stdin.buffer, plan["concurrency"]))
            if lane.retiring or not _clients_ended(LINGER):
                break  # a client thread outlived its run: no next run here
            out.write(b'{"free": true}\n')
            out.flush()
    except EOFError:  # the suite is done with this lane
        pass
    except BaseException as error:  # the parent runs the rest in workers
        sys.stderr.write(f"lane: {type(error).__name__}: {error}\n")
    leave()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
