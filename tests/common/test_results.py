"""The shared verdict model: JSON round trip, JUnit shape, exit-code truth, visible bytes."""

import json
import subprocess
import sys
from xml.etree import ElementTree

import pytest

from conformance.display import excerpt, visible
from conformance.results import Outcome, Report, Result, outcome_for_level
from conformance.rules import RULES


def _report() -> Report:
    return Report(
        kind="server",
        target="http://127.0.0.1:1/x",
        results=[
            Result("S-01", Outcome.PASS, "200 text/event-stream"),
            Result("S-03", Outcome.WARN, "no Cache-Control", fix="send Cache-Control: no-store"),
            Result("S-09", Outcome.FAIL, "unterminated final event", evidence="at byte 7: data: x"),
            Result("C-10", Outcome.SKIP, "needs reconnect", case="LE-001", chunking="1-byte"),
        ],
    )


def test_levels_come_from_the_rule_table():
    report = _report()
    assert [r.level for r in report.results] == ["must", "should", "must", "must"]
    assert outcome_for_level("must") is Outcome.FAIL
    assert outcome_for_level("should") is Outcome.WARN
    assert outcome_for_level("info") is Outcome.INFO


def test_ok_is_false_on_a_must_failure_and_true_on_warnings_only():
    report = _report()
    assert not report.ok
    report.results = [r for r in report.results if r.outcome is not Outcome.FAIL]
    assert report.ok
    assert "CONFORMS" in report.summary_line()


def test_json_round_trip_keeps_every_verdict(tmp_path):
    path = tmp_path / "r.json"
    _report().write_json(path)
    data = json.loads(path.read_text())
    assert data["summary"] == {"pass": 1, "fail": 1, "warn": 1, "info": 0, "skip": 1, "error": 0, "xfail": 0}
    assert data["results"][2]["spec"] == RULES["S-09"].url
    again = Report.from_json(data)
    assert [(r.rule, r.outcome, r.name) for r in again.results] == [
        (r.rule, r.outcome, r.name) for r in _report().results
    ]


def test_a_client_result_names_the_command_that_reruns_it_as_the_face_named_the_client():
    from conformance.schema import validate_report

    results = [Result("C-08", Outcome.FAIL, "x", case="LE-001", chunking="crlf"),
               Result("C-08", Outcome.PASS, "y", case="LE-003")]
    named = {"rerun_target": "--cmd 'node c.js {url}'"}
    data = Report(kind="client", target="node c.js {url}", results=results, meta=named).to_json()
    validate_report(data)
    assert [r["rerun"] for r in data["results"]] == [
        "sse-conformance client --cmd 'node c.js {url}' -k LE-001 --chunking crlf -v",
        "sse-conformance client --cmd 'node c.js {url}' -k LE-003 -v"]
    server = _report().to_json()  # a server check is no client item: nothing to re-run by case
    validate_report(server)
    assert not any("rerun" in r for r in server["results"])


def test_p10_s_result_names_a_command_that_runs_its_probes_again():
    """P-10 is no item's ("P10-probe" is no case: ``-k P10-probe`` was an error); its probes run
    beside a case of megabytes, so its re-run selects the smallest one, whole, without ``-v``
    (which traces that one item and runs no probe)."""
    from conformance.client.items import is_large, plan_items

    results = [Result("P-10", Outcome.WARN, "quadratic", case="P10-probe")]
    data = Report(kind="client", target="m:f", results=results).to_json()
    rerun = data["results"][0]["rerun"]
    assert rerun == "sse-conformance client m:f -k DA-013 --chunking whole"
    selected = plan_items(pattern="DA-013", chunkings=["whole"])
    assert selected and all(is_large(item.case) for item in selected)


def test_junit_marks_failures_and_skips(tmp_path):
    path = tmp_path / "r.xml"
    _report().write_junit(path)
    suite = ElementTree.parse(path).getroot()
    assert suite.get("failures") == "1" and suite.get("skipped") == "1"
    names = {case.get("name"): [child.tag for child in case] for case in suite}
    assert names["S-09"] == ["failure"]
    assert names["LE-001[1-byte] C-10"] == ["skipped"]
    assert names["S-01"] == []


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"data: a\r\n\r\n", "data: a␍␊␍␊"),
        (b"\xef\xbb\xbfdata:\x00", "⇔data:␀"),
        (b"\xff", "\\xff"),
        ("a\u2028b", "a\\u2028b"),
    ],
)
def test_visible_shows_invisible_bytes(raw, shown):
    assert visible(raw) == shown


def test_visible_cuts_long_values_and_excerpt_names_the_offset():
    assert visible("x" * 10, limit=4) == "xxxx… (+6 more)"
    assert excerpt(b"data: ok\n\ndata: \xff\n\n", 16).startswith("at byte 16: ")


def test_cli_usage_errors_are_one_line_and_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "no-such-command"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_rules_command_lists_every_rule():
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "rules", "--json"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert {row["id"] for row in json.loads(proc.stdout)} == set(RULES)
