"""Run every implementation of the table and collect one results document.

Each implementation is bounded by the suites' own time limits, started in its own process or
thread, and any failure to install, start or run it becomes its row's reason: the run never
stops for one implementation and never shows a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import platform
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..results import Outcome
from .document import FORMAT, Implementation, InteropCell
from .implementations import CLIENTS, SERVERS, Row
from .render import catalogue
from .schedule import RowSlots, when_small_judged
from .shards import BROWSER, INTEROP, assign
from .versions import command_version

__all__ = ["RunOptions", "collect", "environment"]

Say = Callable[[str], None]


@dataclass
class RunOptions:
    """What to run: ``only`` filters implementations by name (substring, case-insensitive)."""

    cache: Path
    only: tuple[str, ...] = ()
    rows: tuple[Row, ...] | None = None  # --implementation FILE: these rows instead of the built-in ones
    jobs: int = 4
    browser: bool = True
    interop: bool = True
    say: Say = field(default=print)
    shard: set[str] | None = None  # --shard K/N: the names of the parts this shard runs

    def wanted(self, name: str, role: str = "") -> bool:
        if self.shard is not None and f"{role} {name}".strip() not in self.shard:
            return False
        return not self.only or any(part.lower() in name.lower() for part in self.only)


def _reason(error: BaseException) -> str:
    text = str(error).strip().split("\n")[-1]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def environment() -> dict[str, Any]:
    """When and where the run happened (the header of REPORT.md)."""
    meta: dict[str, Any] = {
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "suite_version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
    for key, argv in (("node", ["node", "--version"]),):
        with contextlib.suppress(LookupError):
            meta[key] = command_version(argv)
    return meta


# -- servers -----------------------------------------------------------------------------------


def _implementation(row: Row) -> Implementation:
    return Implementation(row.name, row.role, row.origin, row.language, note=row.note)


def run_server(entry: Row, cache: Path, say: Say) -> Implementation:
    from ..server import run_server_suite

    impl = _implementation(entry)
    try:
        entry.prepare(cache)
        impl.version = entry.version(cache)
        probes = entry.probes()
        with entry.start(cache) as base:
            for probe in probes:
                report = run_server_suite(base + probe.path, **probe.suite_kwargs())
                impl.add(report, profile=probe.profile, endpoint=probe.name)
                say(f"  server {entry.name} {probe.name}: {report.summary_line()}")
    except Exception as error:  # an implementation that cannot start is a row, not a crash
        impl.status = "unavailable" if not impl.reports else "error"
        impl.reason = _reason(error)
        say(f"  server {entry.name}: {impl.status}: {impl.reason}")
    return impl


# -- clients -----------------------------------------------------------------------------------


def tenths(name: str, total: int, say: Say) -> Callable[[Any, list[Any]], None]:
    """A progress line at each tenth of a client's items: one row runs for minutes in a shard's
    log."""
    done = failing = 0
    step = max(1, total // 10)

    def tick(item: Any, results: list[Any]) -> None:
        nonlocal done, failing
        done += 1
        failing += any(r.outcome in (Outcome.FAIL, Outcome.ERROR) for r in results)
        if done % step == 0 and done < total:
            say(f"  {name}: {done}/{total} items, {failing} failing")

    return tick


def _both(*ticks: Callable[[Any, list[Any]], None]) -> Callable[[Any, list[Any]], None]:
    def tick(item: Any, results: list[Any]) -> None:
        for one in ticks:
            one(item, results)

    return tick


async def run_client(entry: Row, cache: Path, say: Say, small_judged: Callable[[], None] = lambda: None
                     ) -> Implementation:
    """One client row, every profile; ``small_judged`` is called once only its cases of megabytes
    are left (its row slot is then free: :mod:`.schedule`)."""
    from ..client.runner import plan_items, run_client_suite_async

    impl = _implementation(entry)
    if entry.unavailable:  # listed with its reason, never run
        impl.status, impl.reason = "unavailable", entry.unavailable
        return impl
    try:
        await asyncio.to_thread(entry.prepare, cache)
        impl.version = entry.version(cache)
        targets = entry.targets(cache)
    except Exception as error:
        impl.status, impl.reason = "unavailable", _reason(error)
        say(f"  client {entry.name}: unavailable: {impl.reason}")
        return impl
    for index, (profile, target) in enumerate(targets.items()):
        items = plan_items(profile=profile, chunkings=entry.chunkings)
        total = len(items)
        say(f"  client {entry.name} ({profile}): running {total} items")
        progress = tenths(f"client {entry.name} ({profile})", total, say)
        if index == len(targets) - 1:
            progress = _both(progress, when_small_judged(items, small_judged))
        try:
            report = await run_client_suite_async(
                target,
                profile=profile,
                capabilities=entry.capabilities,
                timeout_scale=entry.timeout_scale,
                concurrency=entry.concurrency,
                chunkings=entry.chunkings,
                progress=progress,
            )
        except Exception as error:
            impl.status, impl.reason = "error", _reason(error)
            say(f"  client {entry.name} ({profile}): error: {impl.reason}")
            continue
        impl.add(report, profile=profile)
        say(f"  client {entry.name} ({profile}): {report.summary_line()}")
    return impl


async def run_clients(entries: Iterable[Row], options: RunOptions, slots: RowSlots | None = None
                      ) -> list[Implementation]:
    """``options.jobs`` rows at once, the costliest first (so that no long row starts last and
    runs alone at the end); a row's slot is free once only its cases of megabytes are left
    (:mod:`.schedule`). The results keep the table's order."""
    rows = list(entries)
    slots = slots or RowSlots(options.jobs, len(rows))
    order = sorted(range(len(rows)), key=lambda index: -rows[index].cost)

    async def one(entry: Row) -> Implementation:
        give_back = await slots.take()  # taken in the order the tasks start: the costliest first
        try:
            return await run_client(entry, options.cache, options.say, give_back)
        finally:
            give_back()

    done = await asyncio.gather(*(one(rows[index]) for index in order))
    return [impl for _, impl in sorted(zip(order, done, strict=True), key=lambda pair: pair[0])]


# -- interop -----------------------------------------------------------------------------------


async def _interop_targets(clients: Iterable[Row], cache: Path, say: Say) -> list[tuple[str, Any]]:
    """Each client's generic target, opened once for the whole matrix (clients that cannot be
    prepared are left out here; their row already says why)."""
    found = []
    for row in clients:
        try:
            await asyncio.to_thread(row.prepare, cache)
            target = row.targets(cache).get("generic")
            if target is None:
                continue
            if hasattr(target, "open"):
                await target.open(1)
            found.append((row.name, target))
        except Exception as error:
            say(f"  interop: client {row.name} left out: {_reason(error)}")
    return found


async def run_interop(servers: list[Row], clients: list[Row], options: RunOptions) -> list[InteropCell]:
    """Every client x the main generic endpoint of every server (see :mod:`.interop`)."""
    from .interop import interop_matrix

    targets = await _interop_targets(clients, options.cache, options.say)
    try:
        return await interop_matrix(servers, targets, options.cache, options.say)
    finally:
        for _, target in targets:
            if hasattr(target, "aclose"):
                with contextlib.suppress(Exception):
                    await target.aclose()


# -- everything --------------------------------------------------------------------------------


def shard_names(k: int, n: int, rows: Iterable[Row] | None = None) -> set[str]:
    """The part names (rows, Chromium, interop) that shard ``k`` of ``n`` runs."""
    units = [
        (f"{row.role} {row.name}", row.cost) for row in (rows if rows is not None else SERVERS + CLIENTS)
    ]
    return assign([*units, (f"client {BROWSER[0]}", BROWSER[1]), INTEROP], n)[k - 1]


async def _nothing() -> None:
    return None


async def _interop_in_tail(tail: asyncio.Event, options: RunOptions) -> list[InteropCell]:
    """The interop matrix once the rows' tail begins (:mod:`.schedule`), beside what is left:
    its cells mostly wait on their servers' pace. In a thread with a loop of its own, as its
    servers start with blocking calls that must not hold up the rows' case servers."""
    await tail.wait()
    options.say("report: interop matrix, beside the client rows' tail")
    all_rows = SERVERS + CLIENTS
    servers = [r for r in all_rows if r.role == "server"]
    clients = [r for r in all_rows if r.role == "client"]
    try:
        return await asyncio.to_thread(asyncio.run, run_interop(servers, clients, options))
    except Exception as error:
        options.say(f"  interop: could not run: {_reason(error)}")
        return []


async def _clients_and_beside(
    clients: list[Row], options: RunOptions, with_browser: bool, with_interop: bool = False,
    servers: Sequence[Row] = (),
) -> tuple[list[Implementation], Implementation | None, list[InteropCell], list[Implementation]]:
    """The client rows; beside them the server rows, one after the other, and Chromium: both
    mostly wait (a server check on its stream's pace, the browser's held-open cases on their
    deadline), so they overlap the rows' CPU work instead of adding minutes before or after; and
    the interop matrix beside the rows' tail. A server check judges buffering only where its
    reader was on time (conformance/server), so the rows' load beside it changes no verdict."""
    from .browser import run_browser

    slots = RowSlots(options.jobs, len(clients))
    browser = asyncio.to_thread(run_browser, options.cache, options.say) if with_browser else _nothing()
    interop = _interop_in_tail(slots.tail, options) if with_interop else _nothing()
    checked = asyncio.to_thread(lambda: [run_server(entry, options.cache, options.say) for entry in servers])
    done, chromium, cells, server_rows = await asyncio.gather(
        run_clients(clients, options, slots), browser, interop, checked)
    return done, chromium, cells or [], server_rows


def _whole_lines(say: Say) -> Say:
    """``say`` for several threads: one line at a time, never two interleaved."""
    lock = threading.Lock()

    def locked(text: str) -> None:
        with lock:
            say(text)

    return locked


def collect(options: RunOptions) -> dict[str, Any]:
    """Run the table and return the results document (see :mod:`.document`)."""
    from ..cases import load_cases

    options = dataclasses.replace(options, say=_whole_lines(options.say))  # Chromium's thread says too
    say = options.say
    meta = environment()
    cases = load_cases()
    meta["case_groups"] = {case.id: case.area for case in cases}
    meta["divergences"] = {
        case.id: {name: d.reason for name, d in case.divergences.items()}
        for case in cases
        if case.divergences
    }
    meta["rules"] = catalogue({})  # the catalogue as this run judged by it
    rows = options.rows if options.rows is not None else SERVERS + CLIENTS
    servers = [entry for entry in rows if entry.role == "server" and options.wanted(entry.name, "server")]
    clients = [entry for entry in rows if entry.role == "client" and options.wanted(entry.name, "client")]
    with_browser = options.rows is None and options.browser and options.wanted(BROWSER[0], "client")
    with_interop = options.rows is None and options.interop and options.wanted(INTEROP[0])
    beside = " and Chromium (EventSource ground truth)" if with_browser else ""
    say(f"report: {len(clients)} clients, {options.jobs} at a time; {len(servers)} servers{beside} beside")
    done, browser, interop, implementations = asyncio.run(
        _clients_and_beside(clients, options, with_browser, with_interop, servers))
    implementations += done
    if browser is not None:
        implementations.append(browser)
        if browser.version:
            meta["chromium"] = browser.version
    return {
        "format": FORMAT,
        "meta": meta,
        "implementations": [impl.to_json() for impl in implementations],
        "interop": [cell.to_json() for cell in interop],
    }
