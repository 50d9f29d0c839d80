"""The CLI and pytest faces, exit codes, report files, and bounds against hostile servers."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree

import pytest
from ports import free_port

from conformance.cli import main
from conformance.results import Outcome
from conformance.server import UnusableTarget, run_server_suite
from conformance.server.capture import PIECE
from conformance.server.options import Options
from conformance.server.runner import planned


def test_exit_0_when_every_must_holds(faulty_url, capsys):
    assert main(["server", faulty_url + "/ok-lf"]) == 0
    out = capsys.readouterr().out
    assert "✔ S-09" in out and "CONFORMS" in out


def test_exit_1_with_evidence_spec_and_fix(faulty_url, capsys):
    assert main(["server", faulty_url + "/invalid-utf8"]) == 1
    out = capsys.readouterr().out
    assert "× S-02" in out
    assert "at byte 30:" in out and "\\xe9" in out  # escaped excerpt with the offset
    assert "#parsing-an-event-stream" in out and "fix:" in out
    assert out.rstrip().splitlines()[-1].endswith("1 failed, 13 skip, 3 info")  # every rule has a line


def test_warnings_alone_exit_0(faulty_url):
    assert main(["server", "-q", faulty_url + "/no-cache-control"]) == 0


@pytest.mark.parametrize("argv", [
    ["server", "ftp://example.com/x"],
    ["server", "not a url"],
    ["server", "http://127.0.0.1:99999/"],
    ["server", "http://[::1/"],
    ["server", "http://exa mple.com/"],
    ["server", "http://127.0.0.1:1/", "-H", "no colon here"],
    ["server", "http://127.0.0.1:1/", "-H", "X-Name: café"],
    ["server", "http://127.0.0.1:1/", "--profile", "nope"],
    ["server", "http://127.0.0.1:1/", "--timeout", "0"],
    ["server", "http://127.0.0.1:1/", "-d", "@/nonexistent/file"],
])
def test_usage_errors_exit_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err


def test_unusable_target_from_the_api():
    with pytest.raises(UnusableTarget):
        run_server_suite("file:///etc/passwd")


def test_unreachable_port_is_one_line_and_exit_2(capsys):
    url = f"http://127.0.0.1:{free_port()}/events"
    assert main(["server", url, "--timeout", "2"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert captured.out == "" and "\n" not in err and "Traceback" not in err
    assert err.startswith(f"error: cannot reach {url}: nothing listens there (connection refused)")


def test_never_answering_server_gets_one_diagnosis(faulty_url, capsys):
    assert main(["server", faulty_url + "/never-answers", "--timeout", "0.5"]) == 1
    out = capsys.readouterr().out
    assert "no response headers within 0.5 s: likely a proxy that holds the response back" in out
    assert "--timeout" in out and "‼" not in out  # no error lines: the diagnosis is P-06's
    report = run_server_suite(faulty_url + "/never-answers", timeout=0.5)
    # It waited its 0.5 s, not the default 10 s: the exchange's time less the time its reader
    # could not run (measured), which load does not stretch as it does the wall time.
    waited = report.meta["elapsed"] - report.meta["reader_late"]
    assert report.meta["end"] == "no-response" and waited < 5
    by_rule = {r.rule: r for r in report.results}
    assert by_rule["P-06"].outcome is Outcome.FAIL and "longer --timeout" in by_rule["P-06"].fix
    assert by_rule["S-01"].outcome is Outcome.SKIP and "within 0.5 s (see P-06)" in by_rule["S-01"].message


def test_endless_stream_stops_at_max_events(faulty_url):
    report = run_server_suite(faulty_url + "/endless", max_events=200)
    assert report.meta["end"] == "max-events"
    found = {r.rule: r.outcome for r in report.results}
    assert found["S-09"] is Outcome.PASS and found["S-23"] is Outcome.PASS
    assert report.ok


@pytest.mark.parametrize(("path", "limits", "end"), [
    ("/gzip-bomb", {"max_events": 100}, "max-events"),  # 45 MB in one read: the bounds hold inside it
    ("/gzip-bomb", {"max_events": 10**9, "max_bytes": 100_000}, "max-bytes"),
    ("/gzip-bomb", {"max_events": 10**9, "max_bytes": 10**9, "max_seconds": 0.3}, "max-seconds"),
    ("/endless", {"max_events": 10**9, "max_bytes": 20_000}, "max-bytes"),
    ("/endless", {"max_events": 10**9, "max_seconds": 0.3}, "max-seconds"),
    ("/flood-newlines", {"max_bytes": 512 * 1024}, "max-bytes"),
])
def test_hostile_streams_are_bounded(faulty_url, path, limits, end):
    report = run_server_suite(faulty_url + path, **limits)
    assert report.meta["end"] == end  # the reader stopped at the bound named, not the server's end
    # Past its time bound the reader took one piece at most and spent little of its own CPU on
    # it: what the bound limits. Not wall time, which a loaded machine stretches (a reader kept
    # off the CPU stops late without reading more); one that ignores the bound takes megabytes.
    past = report.meta["past_time_bound"]
    assert past["bytes"] <= PIECE and past["cpu_seconds"] < 0.5
    assert not any(r.outcome is Outcome.ERROR for r in report.results)
    if path == "/gzip-bomb":  # one 64 KiB piece past the bound at most, never the whole 45 MB
        assert report.meta["body_bytes"] <= limits.get("max_bytes", 8 << 20) + PIECE
        assert limits["max_events"] > 100 or report.meta["body_bytes"] <= PIECE
    if path == "/flood-newlines":  # half a million empty lines: analysis capped, no event, no crash
        assert report.meta["lines_truncated"] and report.meta["lines_judged"] == 50_000
        assert {r.rule: r.outcome for r in report.results}["S-23"] is Outcome.WARN


def test_json_and_junit_reports(faulty_url, tmp_path):
    json_path, xml_path = tmp_path / "r.json", tmp_path / "r.xml"
    code = main(["server", "-q", faulty_url + "/unterminated",
                 "--json-report", str(json_path), "--junit-xml", str(xml_path)])
    assert code == 1
    data = json.loads(json_path.read_text())
    assert data["kind"] == "server" and data["ok"] is False
    s09 = next(r for r in data["results"] if r["rule"] == "S-09")
    assert {"rule", "level", "outcome", "message", "spec"} <= s09.keys() and s09["outcome"] == "fail"
    suite = ElementTree.parse(xml_path).getroot()
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["S-09"]


def test_post_with_data_and_headers_reaches_the_server(faulty_url, capsys):
    code = main(["server", faulty_url + "/ok-openai", "--profile", "openai", "-d", '{"stream": true}',
                 "-H", "Content-Type: application/json", "-H", "Authorization: Bearer x"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "(profile openai, POST, HTTP/1.1)" in out and "- P-01" in out  # HEAD is only tried for GET


def test_pytest_face_collects_one_item_per_rule(faulty_url, tmp_path, monkeypatch, capsys):
    url = faulty_url + "/unterminated"
    monkeypatch.chdir(tmp_path)
    code = pytest.main(["-p", "no:xdist", "-p", "no:cacheprovider", "-rA", "--sse-server", url])
    out = capsys.readouterr().out
    assert code == 1, out
    judged = {line.split("::")[-1].split()[0] for line in out.splitlines()
              if line.startswith(("PASSED sse-conformance::server::", "FAILED sse-conformance::server::"))}
    skipped = sum(int(n) for n in re.findall(r"^SKIPPED \[(\d+)\]", out, re.MULTILINE))
    assert len(judged) + skipped == len(planned(Options(url))) and {"S-01", "S-09", "P-01"} <= judged
    assert "FAILED sse-conformance::server::serving::S-09" in out and "at byte 42:" in out


@pytest.mark.parametrize(("path", "rule", "outcome", "end"), [
    ("/headers-then-hang", "S-23", Outcome.WARN, "max-seconds"),
    ("/garbage", "S-01", Outcome.ERROR, "failed"),
    ("/reset-at-once", "S-01", Outcome.ERROR, "failed"),
    ("/huge-line", "S-09", Outcome.FAIL, "clean"),
    ("/brotli", "S-09", Outcome.ERROR, "undecodable"),
    ("/brotli", "S-04", Outcome.WARN, "undecodable"),
])
def test_hostile_servers_get_a_verdict_not_a_crash(faulty_url, path, rule, outcome, end):
    seconds = 0.5 if end == "max-seconds" else 10  # only the hanging server should hit the bound
    report = run_server_suite(faulty_url + path, timeout=2, max_seconds=seconds)
    assert report.meta["end"] == end
    # within its bounds: what it waited on the server, not the wall time load stretches
    assert report.meta["elapsed"] - report.meta["reader_late"] < seconds + 2
    assert {r.rule: r.outcome for r in report.results}[rule] is outcome
    assert not any("crashed" in r.message for r in report.results)


def test_redirects_are_followed_and_shown(faulty_url, capsys):
    assert main(["server", faulty_url + "/moved"]) == 0
    assert f"redirected to {faulty_url}/ok-lf" in capsys.readouterr().out


def test_a_stream_without_blank_lines_is_one_finding_in_every_output(faulty_url, capsys, tmp_path):
    # the headline server bug: no event because no blank line ends one. S-23 and P-06 fail with
    # it; each output shows them under S-09's finding, not as three blocks with one fix
    assert main(["server", faulty_url + "/no-blank-lines", "--json-report", str(tmp_path / "r.json")]) == 1
    out = capsys.readouterr().out.split("Failures and warnings:", 1)[1]
    assert "× S-09 (must)" in out and "S-23 (should) warn and P-06 (must) fail from this same finding" in out
    assert "⚠ S-23 (should)" not in out and "× P-06 (must)" not in out
    causes = json.loads((tmp_path / "r.json").read_text())["causes"]
    s09 = next(c for c in causes if c["rule"] == "S-09")
    assert s09["cases"] == ["S-09", "S-23", "P-06"] and not any(c["rule"] in ("S-23", "P-06") for c in causes)
    report = run_server_suite(faulty_url + "/no-blank-lines", timeout=5, max_seconds=5)
    assert "FAIL S-09 (must), S-23 (should), P-06 (must)" in report.explain()
    # events that do end, then one that does not: S-09 alone, nothing follows from it
    unterminated = run_server_suite(faulty_url + "/unterminated", timeout=5, max_seconds=5)
    assert not any("follows" in r.extra for r in unterminated.results)
    assert {r.rule for r in unterminated.results if r.outcome is Outcome.FAIL} == {"S-09"}


def test_a_verdict_that_follows_a_finding_is_shown_in_full_when_that_finding_is_an_error():
    from conformance.results import Report, Result
    from conformance.server.output import render

    follower = Result("S-23", Outcome.WARN, "no event received", level="should", extra={"follows": "S-09"})
    crashed = Result("S-09", Outcome.ERROR, "the check crashed: KeyError", level="must")
    out = render(Report(kind="server", target="t", results=[crashed, follower], meta={"status": 200}))
    assert "⚠ S-23 (should) no event received" in out and "from this same finding" not in out
