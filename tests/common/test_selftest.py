"""The main job: the server half of selftest against the real reference servers."""

import json
import time
from pathlib import Path

from conformance.cli import main


def test_selftest_servers_conform_and_end_in_one_verdict(tmp_path, capsys):
    path = tmp_path / "selftest.json"
    assert main(["selftest", "--servers-only", "--json-report", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("selftest: ALL CONFORM: 22 runs, ")
    reports = json.loads(path.read_text())
    assert len(reports) == 22 and all(r["ok"] and r["kind"] == "server" for r in reports)
    assert len({r["target"].split("/")[2] for r in reports}) == 2  # both servers


def test_selftest_reports_a_problem_instead_of_conforming(monkeypatch, capsys):
    """A failing run must flip the verdict and the exit code (the selftest cannot only pass)."""
    from conformance import selftest
    from conformance.results import Outcome, Report, Result

    def broken(url, endpoint):
        return Report("server", url, [Result("S-09", Outcome.FAIL, "unterminated final event")])

    monkeypatch.setattr(selftest, "_check_endpoint", broken)
    assert main(["selftest", "--servers-only"]) == 1
    out = capsys.readouterr().out
    assert "S-09 fail: unterminated final event" in out
    assert out.strip().splitlines()[-1].startswith("selftest: PROBLEMS FOUND: 22 runs, 0 passed, 22 failed")


def _few_cases(monkeypatch, pattern: str = "LE-00*") -> list[tuple[float, float]]:
    """The client half on a few cases (the whole generic set is the README's job, not a test's);
    returns the list that receives each client run's (start, end) times."""
    from conformance.client import runner

    real = runner.run_client_suite_async
    spans: list[tuple[float, float]] = []

    async def few(target, **options):
        started = time.monotonic()
        report = await real(target, pattern=pattern, **options)
        spans.append((started, time.monotonic()))
        return report

    monkeypatch.setattr(runner, "run_client_suite_async", few)
    plan = runner.plan_items
    monkeypatch.setattr(runner, "plan_items", lambda **o: plan(profile="generic", pattern=pattern))
    return spans


def test_the_reference_clients_take_turns_on_one_set_of_lanes_with_a_line_each(monkeypatch, tmp_path, capsys):
    from conformance.client import lanes

    _few_cases(monkeypatch, pattern="LE-0[01]*")  # enough items for lanes
    started = []
    real_start = lanes._start

    async def counted(env):
        started.append(env)
        return await real_start(env)

    monkeypatch.setattr(lanes, "_start", counted)
    path = tmp_path / "selftest.json"
    assert main(["selftest", "--clients-only", "--json-report", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    clients = [line for line in lines if line.startswith("client  ")]
    assert [line.split()[1] for line in clients] == ["httpx", "httpx-async", "aiohttp", "requests"]
    assert all(" ok   (" in line for line in clients), clients
    assert lines[-1].startswith("selftest: ALL CONFORM: 4 runs, ")
    reports = json.loads(path.read_text())
    assert [r["target"].split(":")[-1] for r in reports] == [  # the order of REFERENCE_CLIENTS
        "conformance_target", "async_conformance_target", "conformance_target", "conformance_target"]
    assert all(r["kind"] == "client" and r["ok"] and r["meta"]["items"] > 64 for r in reports)
    assert len(started) == len(lanes.usable_cpus())  # one set of lanes for the four, not one each


def test_the_client_suite_runs_while_the_server_suite_prints_first(monkeypatch, capsys):
    from conformance import selftest

    spans = _few_cases(monkeypatch)
    checked: list[float] = []
    real = selftest._check_endpoint

    def timed(url, endpoint):
        report = real(url, endpoint)
        checked.append(time.monotonic())
        return report

    monkeypatch.setattr(selftest, "_check_endpoint", timed)
    assert main(["selftest"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert spans[0][0] < checked[-1]  # the clients started before the server checks were done ...
    client_part = lines.index("== client suite against the reference clients")
    assert all(not line.startswith("client  ") for line in lines[:client_part])  # ... printed after
    assert sum(line.startswith("server  ") for line in lines[:client_part]) == 22
    assert lines[-1].startswith("selftest: ALL CONFORM: 26 runs, ")


def test_a_client_that_breaks_a_rule_fails_the_selftest(monkeypatch, capsys):
    from conformance import selftest

    _few_cases(monkeypatch)
    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "client"))
    broken = ("lf-only", "naive_clients:naive_lf_only")  # splits lines on LF alone
    monkeypatch.setattr(selftest, "REFERENCE_CLIENTS", (*selftest.REFERENCE_CLIENTS[:1], broken))
    assert main(["selftest", "--clients-only"]) == 1
    out = capsys.readouterr().out
    assert "client  lf-only" in out and "lf-only: LE-001[whole] fail: event #1 differs in data" in out
    assert out.strip().splitlines()[-1].startswith("selftest: PROBLEMS FOUND: 2 runs, ")
