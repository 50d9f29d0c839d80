"""Output contracts: '-' for stdout, report paths checked before the run, exit codes 0/1/2,
structured data beside the rendered text, the shipped schema, `rules ID`, `-v` and grouping."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
import sse_apps

from conformance.cli import main
from conformance.schema import REPORT_SCHEMA_PATH, validate_report

HERE = Path(__file__).resolve().parent
FAILS = ["server", "--app", "sse_apps:merged_app", "/events"]


def test_json_report_to_stdout_keeps_stdout_pure_json(capsys):
    assert main([*FAILS, "--json-report", "-"]) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)  # nothing else on stdout
    validate_report(data)
    assert data["ok"] is False and "DOES NOT CONFORM" in captured.err


def test_junit_to_stdout_with_target_timestamp_times_and_families(capsys):
    assert main([*FAILS, "--junit-xml", "-"]) == 1
    suite = ElementTree.fromstring(capsys.readouterr().out)
    assert suite.get("timestamp") and float(suite.get("time")) >= 0
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["target"] == "sse_apps:merged_app /events" and props["ok"] == "false"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["S-09"].get("classname") == "sse-conformance.server.serving"
    assert cases["P-01"].get("classname") == "sse-conformance.server.pitfalls"
    assert all(c.get("time") is not None for c in cases.values())


@pytest.mark.parametrize("flag", ["--json-report", "--junit-xml", "--html"])
def test_an_unwritable_report_path_fails_before_the_run(flag, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sse_apps, "ASKED", [])
    argv = ["server", "--app", "sse_apps:counted_app", "/events", flag, str(tmp_path / "no" / "r")]
    assert main(argv) == 2
    assert sse_apps.ASKED == []  # the app was never asked (a fact; the run's wall time is not one)
    err = capsys.readouterr().err.strip()
    assert "no such directory" in err and "\n" not in err


def test_two_reports_cannot_share_stdout(capsys):
    assert main([*FAILS, "--json-report", "-", "--junit-xml", "-"]) == 2
    assert "only one report" in capsys.readouterr().err


def test_evidence_is_kept_as_raw_bytes_beside_the_rendered_text(tmp_path):
    path = tmp_path / "r.json"
    main([*FAILS, "--json-report", str(path)])
    s09 = next(r for r in json.loads(path.read_text())["results"] if r["rule"] == "S-09")
    raw = base64.b64decode(s09["data"]["evidence_base64"])
    assert s09["evidence"].startswith("at byte ") and raw == sse_apps.merged_app(
        {"REQUEST_METHOD": "GET"}, lambda *a: None)[0][s09["data"]["evidence_offset"]:]


def test_the_schema_is_shipped_and_rejects_a_bad_report():
    import jsonschema

    schema = json.loads(REPORT_SCHEMA_PATH.read_text())
    assert schema["$defs"]["result"]["properties"]["outcome"]["enum"][-1] == "xfail"
    with pytest.raises(jsonschema.ValidationError):
        validate_report({"kind": "server", "target": "x", "results": []})


def test_exit_codes_are_documented_in_help():
    done = subprocess.run([sys.executable, "-m", "conformance", "--help"], capture_output=True, text=True)
    assert "exit status:" in done.stdout and "  2  bad input" in done.stdout


def test_rules_id_explains_the_rule_and_unknown_ids_exit_2(capsys):
    assert main(["rules", "S-09"]) == 0
    out = capsys.readouterr().out
    assert "MUST" in out and "The spec says:" in out and "Lines must be separated by" in out
    assert "Common causes and the fix:" in out and "End every event with an empty line" in out
    assert main(["rules", "C-08"]) == 0
    out = capsys.readouterr().out
    assert "LE-001" in out and "bytes.splitlines" in out
    assert main(["rules", "X-99"]) == 2
    assert "unknown rule" in capsys.readouterr().err


def test_trace_shows_the_raw_reads_and_parsed_events(capsys):
    assert main(["server", "--app", "sse_apps:wsgi_app", "/slow", "--trace", "-q"]) == 0
    out = capsys.readouterr().out
    assert "Raw reads" in out and "id: 1␊data: tick 1␊␊" in out
    assert "Parsed events (3)" in out and "data=tick 3" in out


@pytest.mark.parametrize(("argv", "words"), [
    (["client", "--cmd", "no-such-program-here {url}", "-k", "LE-001"], "not found or not executable"),
    (["server", "http://127.0.0.1:1/", "--timeout", "nan"], "must be a positive number"),
    (["server", "http://127.0.0.1:1/", "--max-seconds", "inf"], "must be a positive number"),
    (["serve-cases", "--port", "99999"], "--port must be 0..65535"),
])
def test_user_mistakes_that_used_to_exit_3_exit_2_in_one_line(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err and "internal error" not in err
