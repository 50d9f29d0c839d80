"""How the report schedules its parts: the costliest client rows start first, the table's order
is kept in the results, and Chromium runs beside the client rows rather than after them.
Pure asyncio: the rows' runs are replaced by stand-ins that record when they ran."""

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

    async def fake_run_client(entry: Row, cache: Path, say) -> Implementation:
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

    async def fake_run_client(entry: Row, cache: Path, say) -> Implementation:
        row_started.set()
        await asyncio.sleep(0.05)
        return Implementation(entry.name, "client", "third-party", "Python")

    def fake_browser(cache: Path, say) -> Implementation:
        assert row_started.wait(5), "Chromium ran alone: no client row started beside it"
        return Implementation("Chromium EventSource", "client", "browser", "C++ (Blink)", version="1")

    monkeypatch.setattr(run, "run_client", fake_run_client)
    monkeypatch.setattr(browser, "run_browser", fake_browser)
    options = run.RunOptions(cache=Path("."), say=lambda text: None)
    done, chromium = asyncio.run(run._clients_and_browser([_row("a", 1)], options, with_browser=True))
    assert [impl.name for impl in done] == ["a"]
    assert chromium is not None and chromium.name == "Chromium EventSource"


def test_without_chromium_only_the_rows_run(started: list[str]) -> None:
    options = run.RunOptions(cache=Path("."), say=lambda text: None)
    done, chromium = asyncio.run(run._clients_and_browser([_row("a", 1)], options, with_browser=False))
    assert chromium is None and [impl.name for impl in done] == ["a"]


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
