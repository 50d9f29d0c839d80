"""End to end: a real HTTP client with one planted bug, run by the suite against the case server,
yields exactly one cause, on the bug's rule, in the CLI's output, the JSON and JUnit alike."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from xml.etree import ElementTree

import planted_clients
import pytest

from conformance.causes import infer
from conformance.cli import main

LINE_ENDS = tuple(f"LE-{n:03d}" for n in (*range(1, 27), 35, 46))
DISPATCH = ("ID-001", "ID-002", "ID-003", "ID-008", "ID-010", "ID-015", "ID-016", "DI-001", "DI-002",
            "DI-003", "DI-004", "ET-001", "ET-007", "RT-023", "DA-006", "DA-007")
BLANKS = ("DA-001", "DA-003", "DA-006", "DA-007", "DA-011", "DA-019", "LE-003", "LE-005", "LE-006",
          "LE-008", "FL-009", "FL-022", "ET-001")


@pytest.mark.parametrize(("client", "cases", "chunkings", "rule", "behaviour"), [
    (planted_clients.lf_only, LINE_ENDS, ("whole", "crlf"), "C-08", "cr"),
    (planted_clients.drops_id_only_blocks, DISPATCH, ("whole",), "C-30", "id-only-block"),
    (planted_clients.misses_split_blank_line, BLANKS, ("whole", "2-byte", "crlf"), "C-37", "split-blank"),
    (planted_clients.mixed_read, LINE_ENDS, ("whole",), "C-09", "mixed-read"),
    # data:x read as no field: empty data (DA-006), several data lines (DA-002) and a bare id
    # (ID-003) fail too, and were read as C-21, C-20 and C-28 before a behaviour named it
    (planted_clients.needs_space, ("DA-001", "DA-002", "DA-006", "ID-003", "FL-009", "RT-004"), ("whole",),
     "C-15", "no-space"),
    # each wrong type stood alone: the accepted variants (charset, case, a space) contradict N-03
    (planted_clients.ignores_content_type, tuple(f"HT-0{n}" for n in (*range(10, 16), *range(20, 27))),
     ("whole",), "N-03", "wrong-type"),
    # 201, 206, 210 and 299 read as streams stood alone too: the 4xx and 5xx refused contradict N-04
    (planted_clients.any_success_will_do, tuple(f"HT-0{n}" for n in range(30, 42)), ("whole",),
     "N-04", "other-2xx"),
])
def test_a_client_with_one_planted_bug_has_exactly_one_cause_on_its_rule(
        run, client, cases, chunkings, rule, behaviour):
    report = run(client, only=cases, rules=("none",), chunkings=chunkings)
    assert not report.ok
    causes = infer(report.results)
    assert [(c.rule, c.behaviour, c.inferred) for c in causes] == [(rule, behaviour, True)]
    failing = {r.case for r in report.results if r.outcome.value == "fail"}
    assert set(causes[0].cases) == failing


def test_a_space_alone_in_a_read_tells_a_reader_judging_each_read_from_a_split_crlf_bug(run):
    # DA-020 sends "data:" | " " | "x\n\n": a reader that takes whitespace starting a read for a
    # blank line (sseclient-py 1.6) fails it; one that counts a split CRLF twice passes it
    strip = run(planted_clients.judges_each_read_alone, only=("DA-020", "LE-029"), rules=("none",))
    assert {r.case for r in strip.results if r.outcome.value == "fail"} == {"DA-020", "LE-029"}
    assert [(c.rule, c.behaviour) for c in infer(strip.results)] == [("C-37", "split-whitespace")]
    crlf = run(planted_clients.splits_crlf_twice, only=("DA-020", "LE-029"), rules=("none",))
    assert {r.case for r in crlf.results if r.outcome.value == "fail"} == {"LE-029"}


def test_an_event_ended_by_lf_then_crlf_must_come_while_the_stream_stays_open(run):
    # openai 3.3.1 ends events only on \r\r, \n\n or \r\n\r\n and flushes at the end of the
    # body: LE-023 (the same bytes, then the end) passes, LE-047 (held open) cannot
    mixed = ("LE-021", "LE-022", "LE-023", "LE-024", "LE-025", "LE-047")
    report = run(planted_clients.ends_events_on_double_terminators, only=mixed, rules=("none",))
    assert {r.case for r in report.results if r.outcome.value == "fail"} == {"LE-047"}
    assert [c.rule for c in infer(report.results)] == ["C-09"]
    assert run(planted_clients.correct, only=mixed, rules=("none",)).ok


def test_the_cli_prints_one_cause_block_in_under_80_lines_and_the_same_cause_everywhere(tmp_path, capsys):
    args = ["client", "planted_clients:lf_only", "--chunking", "whole", "--chunking", "crlf",
            "--json-report", str(tmp_path / "r.json"), "--junit-xml", str(tmp_path / "r.xml")]
    for case in LINE_ENDS:
        args += ["--select", case]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert len(out.splitlines()) <= 80, out
    assert out.count("CAUSE ") == 1 and "CAUSE 1  FAIL C-08 (must)" in out
    assert "re-run:   sse-conformance client planted_clients:lf_only -k LE-" in out
    assert "--chunking " in out.split("re-run:", 1)[1].splitlines()[0]
    counts = r"\n56 items \(a case under one chunking\): \d+ fail, \d+ pass; \d+ rule verdicts:\n"
    assert re.search(counts, out)
    (cause,) = json.loads((tmp_path / "r.json").read_text())["causes"]
    assert (cause["rule"], cause["inferred"]) == ("C-08", True)
    suite = ElementTree.parse(tmp_path / "r.xml").getroot()
    classes = {c.get("classname") for c in suite.iter("testcase") if c.find("failure") is not None}
    assert classes == {"sse-conformance.client.cause-01-C-08"}
    failure = next(c.find("failure") for c in suite.iter("testcase") if c.find("failure") is not None)
    assert "re-run: sse-conformance client planted_clients:lf_only -k " in failure.text


def test_the_same_client_without_the_bug_has_no_cause(run):
    report = run(planted_clients.correct, only=LINE_ENDS + DISPATCH + BLANKS, rules=("none",),
                 chunkings=("whole", "2-byte", "crlf"))
    assert report.ok and infer(report.results) == []


def test_a_command_printing_the_raw_body_is_one_adapter_cause_with_no_rule_to_fix(tmp_path, capsys):
    # `--cmd 'curl -sN {url}'` prints the stream, not JSON: every item is output the suite cannot
    # read, whatever its bytes. The line-end cases all share behaviours (a lone LF...): a cause
    # inferred from them would send the author to fix a parser that was never judged.
    script = shlex.quote(str(Path(__file__).with_name("cmd_client.py")))
    args = ["client", "--cmd", f"{shlex.quote(sys.executable)} {script} {{url}} raw", "--chunking", "whole",
            "--json-report", str(tmp_path / "r.json")]
    for case in LINE_ENDS[:8]:
        args += ["--select", case]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert out.count("CAUSE ") == 1, out
    block = out.split("CAUSE 1", 1)[1].split("\n\n", 1)[0]
    assert block.startswith("  ERROR the adapter's output cannot be judged: these items say nothing"), block
    assert "fix:      fix the adapter" in block and "spec:" not in block, block
    assert "not JSON" in block
    (cause,) = json.loads((tmp_path / "r.json").read_text())["causes"]
    assert (cause["behaviour"], cause["inferred"], len(cause["cases"])) == ("adapter", False, 8)


def test_a_callable_that_cannot_take_the_url_is_the_adapters_fault_not_a_line_end_bug(capsys):
    # os:getcwd raises TypeError at the call: one item of LE-001 was read as "a lone CR"
    assert main(["client", "os:getcwd", "-k", "LE-001", "--chunking", "whole"]) == 1
    out = capsys.readouterr().out
    assert "CAUSE 1  ERROR the client raised before its first request: these items say nothing" in out, out
    assert "C-08" not in out and "lone CR" not in out and "target(url, **inputs)" in out


def test_every_failing_case_names_its_cause_not_its_own_rules_fix(capsys):
    # DA-002 is a C-20 case ("two empty data lines"): to a client needing "data: " its failure
    # is the missing space, and a C-20 fix beside it would send the reader the wrong way
    args = ["client", "planted_clients:needs_space", "--chunking", "whole", "--all"]
    for case in ("DA-001", "DA-002", "DA-006", "ID-003", "FL-009", "RT-004"):
        args += ["--select", case]
    assert main(args) == 1
    every = capsys.readouterr().out.split("Every failing case (-v/--all):", 1)[1]
    da002 = every.split("FAIL DA-002", 1)[1].split("\n\n", 1)[0]
    assert "cause:    CAUSE 1: C-15, a field with no space after its colon" in da002, da002
    assert "fix:" not in da002 and "join data lines" not in da002
