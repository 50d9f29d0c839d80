"""The client face's CI gates, case listing and failures grouped by root cause."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

from conformance import check_client
from conformance.cli import main
from conformance.client import output
from conformance.client.output import runs
from conformance.client.runner import plan_items
from conformance.results import Outcome, Result

HERE = Path(__file__).resolve().parent


def test_select_by_rule_runs_only_cases_covering_it(tmp_path, capsys):
    path = tmp_path / "r.json"
    code = main(["client", "naive_clients:good_client", "--chunking", "whole", "--select", "C-1[01]",
                 "--json-report", str(path)])
    assert code == 0, capsys.readouterr()
    results = json.loads(path.read_text())["results"]
    covering = {i.case.id for i in plan_items(chunkings=["whole"]) if {"C-10", "C-11"} & set(i.case.rules)}
    assert {r["case"] for r in results} == covering
    assert {r["rule"] for r in results} <= {"C-10", "C-11"}


def test_skip_and_baseline_by_case_and_item(tmp_path, capsys):
    args = ["client", "naive_clients:naive_lf_only", "-k", "LE-00[1-3]", "--chunking", "whole", "-q"]
    assert main(args) == 1
    assert main([*args, "--skip", "LE-001"]) == 0  # the CR-ended case is the only failure
    baseline = tmp_path / "known.txt"
    baseline.write_text("LE-001[whole]\nLE-003\n")
    capsys.readouterr()
    assert main([*args, "--baseline", str(baseline)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert "xfailed" in last and "1 stale baseline entry" in last  # LE-003 passes (LF endings)


def test_failures_fold_into_one_cause_and_all_lists_each_case_once(capsys):
    code = main(["client", "naive_clients:naive_lf_only", "-k", "LE-001", "-q"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.count("CAUSE ") == 1 and "1 case, 7 items: LE-001" in out  # not one block per chunking
    assert "re-run:   sse-conformance client naive_clients:naive_lf_only -k LE-001 --chunking whole -v" in out
    assert "FAIL LE-001 " not in out
    assert main(["client", "naive_clients:naive_lf_only", "-k", "LE-001", "-q", "--all"]) == 1
    out = capsys.readouterr().out
    assert out.count("FAIL LE-001 ") == 1 and "fails under every chunking" in out
    assert out.index("CAUSE 1") < out.index("Broken rules:") < out.index("FAIL LE-001 ")


def test_explain_says_when_only_a_split_breaks_a_case():
    report = check_client("naive_clients:naive_lf_only", pattern="LE-003", chunkings=["whole"])
    assert report.ok and report.explain() == ""
    from conformance.explain import Group, under

    group = Group("LE-9", [Result("C-10", Outcome.FAIL, "m", case="LE-9", chunking="crlf")],
                  chunkings=["crlf"], ran=["whole", "1-byte", "crlf"])
    assert under(group) == "fails only when split at CR/LF (crlf)"


def test_the_cases_command_lists_ids_rules_and_descriptions(capsys):
    assert main(["cases", "-k", "FL-*"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FL-001") and "C-12" in out and "cases" in out.splitlines()[-1]
    assert main(["cases", "-k", "FI-*"]) == 2
    assert main(["client", "naive_clients:good_client", "-k", "FI-*"]) == 2
    assert "case IDs start with" in capsys.readouterr().err


def test_the_client_face_takes_rule_ids_with_k(tmp_path):
    (tmp_path / "naive_clients.py").write_text((HERE / "naive_clients.py").read_text())
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "--collect-only", "-q",
         "--sse-client", "naive_clients:good_client", "--sse-chunking", "whole", "-k", "C-11",
         "--rootdir", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    ids = [line for line in done.stdout.splitlines() if line.startswith("sse-conformance::client::")]
    covering = {f"{i.case.id}[whole]" for i in plan_items(chunkings=["whole"]) if "C-11" in i.case.rules}
    assert covering and {line.split("::")[-1] for line in ids} == covering, done.stdout


def test_progress_percentages_follow_the_marks_written():
    dots = output.Dots(144, io.StringIO())
    dots.live = False
    item = plan_items(pattern="LE-001", chunkings=["whole"])[0]
    for _ in range(144):
        dots(item, [Result("C-08", Outcome.PASS, "ok")])
    dots.live = True
    dots._flush()
    dots.finish()
    lines = dots.stream.getvalue().splitlines()
    counts = [line[line.rindex("["):] for line in lines]
    assert counts == ["[ 64/144 items]", "[128/144 items]", "[144/144 items]"]
    assert all(len(line) <= output.WIDTH for line in lines)


def test_trace_shows_the_chunks_and_every_reported_event(capsys, tmp_path):
    args = ["client", "naive_clients:naive_lf_only", "-k", "LE-001", "-q", "--trace"]
    assert main([*args, "--chunking", "crlf", "--json-report", str(tmp_path / "r.json")]) == 1
    trace = json.loads((tmp_path / "r.json").read_text())["meta"]["trace"]
    assert [e["data"] for e in trace["events"]] == ["cr\r\rdata: lf", "crlf"]
    out = capsys.readouterr().out
    assert "Chunks served (11)" in out and "    1       8  ␍" in out
    assert "Events the client reported (2)" in out and "data=cr␍␍data: lf" in out
    assert "fails when split at CR/LF (crlf)" in out  # one chunking ran: no "only"
    assert main(args) == 1  # seven chunkings match: -v lists every case instead of one trace
    out = capsys.readouterr().out
    assert "Every failing case (-v/--all):" in out and "FAIL LE-001 " in out


def test_trace_shows_the_notifications_among_the_events(capsys):
    args = ["client", "naive_clients:silent_reconnect_client", "-k", "NT-007", "-q", "--trace"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "Notifications among the events: open, event, error" in out  # the EOF's error is missing
    assert "reported 2 of 3 notifications; first missing is error after event #1" in out


def test_trace_folds_repeated_notifications_and_says_how_the_run_ended(capsys):
    # a client retrying forever reports an error per try: thousands on one line before
    args = ["client", "naive_clients:retries_unreachably_client", "-k", "RC-001", "--chunking", "whole",
            "-q", "--trace", "--capability", "reconnect", "--capability", "notifications",
            "--timeout-scale", "0.2"]
    assert main(args) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("Notifications among the events"))
    assert re.fullmatch(r"Notifications among the events: event, error x[\d,]+", line), line
    assert "then it was stopped at its deadline after" in out


def test_runs_of_one_kind_are_folded_with_their_count():
    folded = runs(["open", "event", "error", "error", "open", "event"])
    assert folded == ["open", "event", "error x2", "open", "event"]
    assert runs(["error"] * 1234) == ["error x1,234"]
    assert runs([]) == []


def test_a_finding_outside_select_on_an_item_that_ran_is_noted_not_hidden():
    from conformance.gates import Gate
    from conformance.results import Report

    def results():
        return [Result("C-38", Outcome.SKIP, "not judged: still working (see P-10)", case="DA-017",
                       chunking="whole"),
                Result("P-10", Outcome.WARN, "too slow: still working after 30 s of CPU", case="DA-017",
                       chunking="whole"),
                Result("P-10", Outcome.WARN, "too slow", case="DA-013", chunking="whole")]

    report = Gate(select=("C-38",)).apply(Report("client", "t", results()))
    assert [(r.rule, r.case, r.outcome) for r in report.results] == [
        ("C-38", "DA-017", Outcome.SKIP), ("P-10", "DA-017", Outcome.INFO)]  # DA-013 did not run C-38
    assert report.results[1].extra["outside_select"] == "warn"
    assert report.ok and "1 info" in report.summary_line()
    text = report.explain()
    assert "Noted outside --select" in text and "WARN P-10 DA-017[whole]: too slow" in text
    skipped = Gate(select=("C-38",), skip=("P-10",)).apply(Report("client", "t", results()))
    assert [r.rule for r in skipped.results] == ["C-38"]  # what --skip names stays out


def test_the_re_run_command_names_the_client_as_the_command_line_did():
    from conformance.client.options import make_target
    from conformance.client.targets import command_line_form

    command = make_target(None, "node my client.mjs {url}", ["reconnect"])
    wanted = "--cmd 'node my client.mjs {url}' --profile openai --capability reconnect"
    assert command_line_form(command, "openai", ()) == wanted
    harness = make_target(None, None, [], harness="node adapter.mjs --fast")
    wanted = "--harness 'node adapter.mjs --fast' --capability retry"
    assert command_line_form(harness, "generic", ["retry"]) == wanted
    # a callable's own capabilities (reconnect, retry, close) come with it: only "post" is named
    python = make_target("naive_clients:reconnecting_client", None, ["post", "retry"])
    assert command_line_form(python, "generic", ()) == "naive_clients:reconnecting_client --capability post"
    assert command_line_form(make_target("naive_clients:good_client", None, []), "generic", ()) == \
        "naive_clients:good_client"
    assert command_line_form(lambda url: iter(()), "generic", ()) is None  # not a target the CLI can name
