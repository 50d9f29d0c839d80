"""How the report schedules its parts: the costliest client rows start first, the table's order
is kept in the results, Chromium runs beside the client rows rather than after them, a row
gives its slot back once only its cases of megabytes are left, and the interop matrix runs
beside the rows' tail. Pure asyncio: the rows' runs are replaced by stand-ins that record when
they ran."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from conformance.report import browser, run
from conformance.report.document import Implementation
from conformance.report.implementations import Row


def _row(name: str, cost: float) -> Row:
    return Row(name, "client", "Python", "third-party", Path("r.toml"), cost=cost)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    order: list[str] = []

    async def fake_run_client(entry: Row, cache: Path, say, small_judged=None) -> Implementation:
        order.append(entry.name)
        await asyncio.sleep(0.01)
        return Implementation(entry.name, "client", "third-party", "Python")

    monkeypatch.setattr(run, "run_client", fake_run_client)
    return order


def test_costliest_rows_start_first_and_results_keep_the_table_order(started: list[str]) -> None:
    rows = [_row("cheap", 10), _row("dear", 400), _row("middle", 100), _row("also cheap", 10)]
    options = run.RunOptions(cache=Path("."), jobs=1, say=lambda text: None)
    done = asyncio.run(run.run_clients(rows, options))
    assert started == ["dear", "middle", "cheap", "also cheap"]  # ties keep the table's order
    assert [impl.name for impl in done] == ["cheap", "dear", "middle", "also cheap"]


def test_chromium_runs_beside_the_client_rows(monkeypatch: pytest.MonkeyPatch, started: list[str]) -> None:
    # Chromium's stand-in finishes only once a client row has started: run after the rows, it
    # would wait forever (the test's timeout says so); beside them, both finish.
    row_started = threading.Event()

    async def fake_run_client(entry: Row, cache: Path, say, small_judged=None) -> Implementation:
        row_started.set()
        await asyncio.sleep(0.05)
        return Implementation(entry.name, "client", "third-party", "Python")

    def fake_browser(cache: Path, say) -> Implementation:
        assert row_started.wait(5), "Chromium ran alone: no client row started beside it"
        return Implementation("Chromium EventSource", "client", "browser", "C++ (Blink)", version="1")

    monkeypatch.setattr(run, "run_client", fake_run_client)
    monkeypatch.setattr(browser, "run_browser", fake_browser)
    options = run.RunOptions(cache=Path("."), say=lambda text: None)
    done, chromium, _, _ = asyncio.run(run._clients_and_beside([_row("a", 1)], options, with_browser=True))
    assert [impl.name for impl in done] == ["a"]
    assert chromium is not None and chromium.name == "Chromium EventSource"


def test_without_chromium_only_the_rows_run(started: list[str]) -> None:
    options = run.RunOptions(cache=Path("."), say=lambda text: None)
    done, chromium, cells, servers = asyncio.run(run._clients_and_beside([_row("a", 1)], options, False))
    assert chromium is None and [impl.name for impl in done] == ["a"] and cells == [] and servers == []


def test_the_server_rows_run_beside_the_client_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    # the server checks mostly wait on their streams' pace: run before the client rows, they
    # left both CPUs idle for half a minute. The stand-in finishes only once a client row has
    # started; run first, it would wait in vain (and say so).
    row_started = threading.Event()

    async def fake_run_client(entry: Row, cache: Path, say, small_judged=None) -> Implementation:
        row_started.set()
        await asyncio.sleep(0.05)
        return Implementation(entry.name, "client", "third-party", "Python")

    def fake_run_server(entry: Row, cache: Path, say) -> Implementation:
        assert row_started.wait(5), "the server rows ran alone: no client row started beside them"
        return Implementation(entry.name, "server", "third-party", "Python")

    monkeypatch.setattr(run, "run_client", fake_run_client)
    monkeypatch.setattr(run, "run_server", fake_run_server)
    servers = [Row(name, "server", "Python", "third-party", Path("s.toml")) for name in ("s1", "s2")]
    options = run.RunOptions(cache=Path("."), say=lambda text: None)
    done, _, _, checked = asyncio.run(run._clients_and_beside([_row("a", 1)], options, False, False, servers))
    assert [impl.name for impl in done] == ["a"] and [impl.name for impl in checked] == ["s1", "s2"]


def test_a_rows_concurrency_reaches_its_client_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # undici waits its own 3 s before each reconnect: its row runs 48 at once, the others the default
    from conformance.client import runner
    from conformance.report.implementations import load_row

    seen: list[object] = []

    async def fake_suite(target, **options):
        seen.append(options.get("concurrency"))
        return runner.Report(kind="client", target=str(target))

    monkeypatch.setattr(runner, "run_client_suite_async", fake_suite)
    for name, extra in (("waits", "concurrency = 48\n"), ("plain", "")):
        path = tmp_path / f"{name}.toml"
        path.write_text(f'name = "{name}"\nrole = "client"\nlanguage = "Python"\n{extra}'
                        'client = { python = "reference_clients.httpx_client:conformance_target" }\n')
        asyncio.run(run.run_client(load_row(path), tmp_path, lambda text: None))
    assert seen == [48, None]
    assert load_row(Path(run.__file__).parent / "rows" / "93-undici.toml").concurrency == 48


def test_a_row_with_only_cases_of_megabytes_left_lets_the_next_row_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # one slot: the first row's last (large) items end only once the second row has started,
    # which it can only do if the first gave its slot back when its small items were judged
    second_started: asyncio.Event | None = None
    order: list[str] = []

    async def fake_run_client(entry: Row, cache: Path, say, small_judged) -> Implementation:
        order.append(f"{entry.name} starts")
        if entry.name == "quadratic":
            small_judged()
            await asyncio.wait_for(second_started.wait(), 10)  # a deadlock fails, never hangs
        else:
            second_started.set()
        order.append(f"{entry.name} ends")
        return Implementation(entry.name, "client", "third-party", "Python")

    async def main() -> list[Implementation]:
        nonlocal second_started
        second_started = asyncio.Event()
        options = run.RunOptions(cache=Path("."), jobs=1, say=lambda text: None)
        return await run.run_clients([_row("quadratic", 500), _row("next", 10)], options)

    monkeypatch.setattr(run, "run_client", fake_run_client)
    done = asyncio.run(main())
    assert order == ["quadratic starts", "next starts", "next ends", "quadratic ends"]
    assert [impl.name for impl in done] == ["quadratic", "next"]


def test_the_tail_begins_when_no_row_waits_and_at_most_one_holds_a_slot() -> None:
    from conformance.report.schedule import RowSlots

    async def main() -> list[bool]:
        slots = RowSlots(jobs=2, rows=3)
        seen = [slots.tail.is_set()]
        give_a, give_b = await slots.take(), await slots.take()
        third = asyncio.ensure_future(slots.take())
        await asyncio.sleep(0)
        seen.append(slots.tail.is_set())  # two hold, one waits
        give_a()
        give_c = await third
        seen.append(slots.tail.is_set())  # none waits, two hold
        give_b()
        give_b()  # giving back twice frees one slot, once
        seen.append(slots.tail.is_set())  # none waits, one holds
        give_c()
        assert slots.holding == 0 and slots.limit._value == 2
        return seen

    assert asyncio.run(main()) == [False, False, False, True]


def test_small_judged_is_called_once_the_last_item_under_a_megabyte_is_judged() -> None:
    from conformance.client.items import is_large, plan_items
    from conformance.report.schedule import when_small_judged

    items = [item for item in plan_items() if item.case.id.startswith(("DA-01", "CM-00"))]
    small = [item for item in items if not is_large(item.case)]
    large = [item for item in items if is_large(item.case)]
    calls: list[int] = []
    tick = when_small_judged(items, lambda: calls.append(len(judged)))
    judged: list = []
    for item in [large[0], *small, *large[1:]]:  # megabytes may be judged before, or after
        judged.append(item)
        tick(item, [])
    assert calls == [1 + len(small)]
    now: list[str] = []
    when_small_judged(large, lambda: now.append("at once"))
    assert now == ["at once"]


def test_a_rows_slot_is_given_back_when_its_client_run_has_judged_its_small_items(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.client import runner
    from conformance.client.items import is_large
    from conformance.report.implementations import load_row

    seen: list[str] = []

    async def fake_suite(target, *, profile, chunkings, progress, **options):
        items = runner.plan_items(profile=profile, chunkings=chunkings)
        for item in sorted(items, key=lambda item: is_large(item.case)):  # small, then large
            seen.append("large judged" if is_large(item.case) else "small judged")
            progress(item, [])
        return runner.Report(kind="client", target=str(target))

    monkeypatch.setattr(runner, "run_client_suite_async", fake_suite)
    path = tmp_path / "row.toml"
    path.write_text('name = "row"\nrole = "client"\nlanguage = "Python"\n'
                    'client = { python = "reference_clients.httpx_client:conformance_target" }\n')
    asyncio.run(run.run_client(load_row(path), tmp_path, lambda text: None, lambda: seen.append("slot free")))
    first_large = seen.index("large judged")
    assert seen.count("slot free") == 1 and seen[first_large - 1] == "slot free"


def test_interop_runs_beside_the_rows_tail(monkeypatch: pytest.MonkeyPatch) -> None:
    # two rows, one slot: the tail begins when the second takes it; the interop stand-in
    # returns only once it has seen the first row end, and the second row ends only once the
    # interop has started (after the rows, it would never start: the test's guard says so)
    from conformance.report.document import InteropCell

    first_ended = threading.Event()
    interop_started = threading.Event()

    async def fake_run_client(entry: Row, cache: Path, say, small_judged) -> Implementation:
        if entry.name == "second":
            assert await asyncio.to_thread(interop_started.wait, 10), "the interop waited for every row"
        else:
            first_ended.set()
        return Implementation(entry.name, "client", "third-party", "Python")

    async def fake_interop(servers, clients, options) -> list[InteropCell]:
        interop_started.set()
        assert first_ended.is_set(), "the interop started before the rows' tail"
        return [InteropCell(client="c", server="s", endpoint="events", outcome="pass")]

    monkeypatch.setattr(run, "run_client", fake_run_client)
    monkeypatch.setattr(run, "run_interop", fake_interop)
    options = run.RunOptions(cache=Path("."), jobs=1, say=lambda text: None)
    rows = [_row("first", 100), _row("second", 10)]
    done, chromium, cells, _ = asyncio.run(run._clients_and_beside(rows, options, False, with_interop=True))
    assert [impl.name for impl in done] == ["first", "second"] and chromium is None
    assert [cell.outcome for cell in cells] == ["pass"]
