"""CI gates on the server face: --strict, --select/--skip globs, --baseline with stale entries."""

from __future__ import annotations

import json

import pytest

from conformance import check_server
from conformance.cli import main
from conformance.gates import Gate, GateError, read_baseline
from conformance.results import Outcome, Report, Result

WARNS = ["server", "--app", "sse_apps:no_cache_header_app", "/events", "-q"]
FAILS = ["server", "--app", "sse_apps:merged_app", "/events", "-q"]


def test_strict_makes_a_should_finding_fail(capsys):
    assert main(WARNS) == 0
    assert main([*WARNS, "--strict"]) == 1
    assert capsys.readouterr().out.splitlines()[-1].endswith("strict")


def test_select_and_skip_take_globs_by_rule_id(tmp_path):
    path = tmp_path / "r.json"
    assert main([*FAILS, "--skip", "S-09"]) == 0  # the only failure left out
    assert main([*FAILS, "--select", "S-0*", "--skip", "S-05", "--json-report", str(path)]) == 1
    rules = {r["rule"] for r in json.loads(path.read_text())["results"]}
    assert rules == {f"S-0{i}" for i in range(1, 10)} - {"S-05"}


def test_a_selection_that_names_nothing_is_a_usage_error(capsys):
    assert main([*FAILS, "--select", "FI-*"]) == 2
    assert "matches no rule or case" in capsys.readouterr().err


def test_a_baseline_lists_known_failures_and_reports_stale_ones(tmp_path, capsys):
    baseline = tmp_path / "known.txt"
    baseline.write_text("# known failures\nS-09   # blank lines missing, ticket 12\nS-21\n")
    assert main([*FAILS, "--baseline", str(baseline)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert "1 xfailed" in last and "1 stale baseline entry" in last  # S-21 passes now
    assert main([*FAILS, "--baseline", str(baseline), "--strict"]) == 1  # stale entries fail strict runs


def test_yesterdays_json_report_is_todays_baseline(tmp_path):
    report = tmp_path / "r.json"
    assert main([*FAILS, "--json-report", str(report)]) == 1
    assert read_baseline(report) == ["S-09"]
    assert main([*FAILS, "--baseline", str(report)]) == 0


def test_an_unreadable_baseline_is_exit_2(tmp_path, capsys):
    assert main([*FAILS, "--baseline", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read --baseline" in capsys.readouterr().err


def test_the_python_api_has_the_same_gates():
    report = check_server("/events", app="sse_apps:no_cache_header_app", strict=True)
    assert not report.ok and report.strict
    assert check_server("/events", app="sse_apps:merged_app", baseline=["S-09"]).ok
    with pytest.raises(GateError):
        read_baseline("/nonexistent/baseline")


def test_gate_units_match_rule_case_and_item_names():
    report = Report("client", "x", [
        Result("C-08", Outcome.FAIL, "m", case="LE-001", chunking="whole"),
        Result("C-08", Outcome.FAIL, "m", case="LE-001", chunking="crlf"),
        Result("C-10", Outcome.PASS, "m", case="LE-002", chunking="crlf"),
    ])
    Gate(baseline=["LE-001[whole]", "le-002"], baseline_path="b").apply(report)
    assert [r.outcome for r in report.results] == [Outcome.XFAIL, Outcome.FAIL, Outcome.PASS]
    assert report.stale == ["le-002"] and not report.ok
    gate = Gate(select=["C-1*"], skip=["LE-00[3-9]"])
    assert gate.wants("LE-002", "LE-002[whole]", ["C-10"]) and not gate.wants("LE-004", "x", ["C-10"])
    assert not gate.wants("LE-001", "LE-001[whole]", ["C-08"])
