"""``--html`` for a client run: one block per cause, as the terminal, JSON ``causes`` and JUnit
show them; its cases folded into a count that opens; what no cause explains listed after."""

from __future__ import annotations

import json
import re

from conformance.cli import main
from conformance.explain import folded
from conformance.html import html_report
from conformance.results import Outcome, Report, Result
from conformance.rules import RULES

# the line-end cases over which lf_only's one bug is one cause (test_causes_e2e), sent whole
LINE_ENDS = tuple(f"LE-{n:03d}" for n in (*range(1, 27), 35, 46))
NASTY = "\x1b[2J<script>alert(1)</script>"


def _sections(page: str, kind: str) -> list[str]:
    return re.findall(rf'<section class="{kind}"[^>]*>.*?</section>', page, re.S)


def test_a_client_with_one_bug_gets_one_cause_block_with_its_cases_folded(tmp_path, capsys):
    page, data = tmp_path / "r.html", tmp_path / "r.json"
    args = ["client", "planted_clients:lf_only", "--chunking", "whole", "-q",
            "--html", str(page), "--json-report", str(data)]
    for case in LINE_ENDS:
        args += ["--select", case]
    assert main(args) == 1, capsys.readouterr()
    text = page.read_text()
    (cause,) = json.loads(data.read_text())["causes"]
    (block,) = _sections(text, "cause")  # one block, where there was one per failing case
    assert _sections(text, "group") == []  # the cause explains every failure
    assert f'<a href="{RULES["C-08"].url}">C-08</a> (must)' in block
    pattern = r"<details><summary>(\d+) cases, (\d+) items: ([^<]*)</summary>(.*?)</details>"
    summary = re.search(pattern, block, re.S)
    assert summary and (int(summary[1]), int(summary[2])) == (len(cause["cases"]), cause["items"])
    assert summary[3] == folded(cause["cases"]) and summary[3] in capsys.readouterr().out  # as the terminal
    assert re.findall(r"<li><code>([^<]+)</code>", summary[4]) == cause["cases"]  # opened: every case
    assert f"<dt>fix</dt><dd><pre>{cause['fix']}</pre></dd>" in block
    assert "sse-conformance client planted_clients:lf_only -k LE-" in block
    assert not re.search(r"<(script|link|img|iframe)\b", text)


def _two_failures() -> Report:
    """ID-008 fails alone (its id-only block: a cause); LE-001 fails whole while the other
    line-end cases, which exercise all it does, pass whole (no cause explains it). Both messages
    carry a peer's bytes."""
    results = [
        Result("C-30", Outcome.FAIL, f"id lost: {NASTY}", case="ID-008", chunking="whole", actual=NASTY),
        Result("C-08", Outcome.FAIL, f"CR: {NASTY}", case="LE-001", chunking="whole", actual=NASTY),
        *(Result("C-08", Outcome.PASS, "ok", case=case, chunking="whole") for case in LINE_ENDS[1:]),
    ]
    return Report(kind="client", target="pkg.mod:fn", results=results)


def test_failures_no_cause_explains_come_after_the_causes():
    page = html_report(_two_failures())
    (block,) = _sections(page, "cause")
    (alone,) = _sections(page, "group")
    assert "C-30" in block and "ID-008" in block and "LE-001" not in block
    assert "LE-001" in alone and "sse-conformance client pkg.mod:fn -k LE-001 --chunking whole -v" in alone
    assert page.index("Causes (1)") < page.index("Failures no cause explains (1)") < page.index(alone)


def test_a_peers_bytes_are_escaped_in_cause_blocks_and_lone_failures():
    page = html_report(_two_failures())
    assert "\x1b" not in page and "<script>" not in page
    shown = r"\x1b[2J&lt;script&gt;alert(1)&lt;/script&gt;"
    (block,), (alone,) = _sections(page, "cause"), _sections(page, "group")
    assert block.count(shown) == 3 and alone.count(shown) == 2  # message, actual (and the folded case)
