"""The renderer on a results document produced by real runs (see conftest.real_document)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from conformance.report import document
from conformance.report.cli import render_file
from conformance.report.render import MAX_VALUE, render
from conformance.report.tables import escape, fenced
from conformance.rules import RULES


def test_render_is_deterministic_and_survives_a_json_round_trip(
    real_document: dict[str, Any], tmp_path: Path
):
    text = render(real_document)
    assert render(copy.deepcopy(real_document)) == text
    path = tmp_path / "results.json"
    document.dump(real_document, path)
    assert render_file(path, tmp_path / "REPORT.md") == render(
        json.loads(path.read_text()), json_name="results.json"
    )


def test_header_names_the_exact_results_it_came_from(real_document: dict[str, Any]):
    text = render(real_document)
    assert f"sha256 `{document.digest(real_document)}`" in text
    changed = copy.deepcopy(real_document)
    changed["implementations"][0]["version"] = "edited"
    assert document.digest(changed) != document.digest(real_document)


def test_server_table_has_every_server_rule_and_finds_the_bare_cr(real_document: dict[str, Any]):
    text = render(real_document)
    section = text.split("## Server rules", 1)[1].split("\n## ", 1)[0]
    header = next(line for line in section.split("\n") if line.startswith("| server"))
    for rule_id in (r for r in RULES if r.startswith("S-")):
        assert f"[{rule_id}]" in header
    row = next(line for line in section.split("\n") if line.startswith("| tiny"))
    s11 = next(i for i, h in enumerate(_cells(header)) if "[S-11]" in h)
    assert _cells(row)[s11] in ("❌", "⚠️")  # the suite calls a bare CR a SHOULD-level smell


def _cells(line: str) -> list[str]:
    """A table row's cells; escaped pipes inside a cell do not split it."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def test_client_tables_count_per_group_rule_and_chunking(real_document: dict[str, Any]):
    text = render(real_document)
    for title in ("## Clients by case group", "## Clients by rule", "## Clients by chunking"):
        assert title in text
    chunking_section = text.split("## Clients by chunking", 1)[1].split("\n## ", 1)[0]
    assert "`whole`" in chunking_section and "`1-byte`" in chunking_section
    assert "| line-endings |" in text.split("## Clients by case group", 1)[1].split("\n## ", 1)[0]


def test_failures_show_expected_and_actual_with_visible_whitespace(real_document: dict[str, Any]):
    details = render(real_document).split("### naive client", 1)[1].split("\n### ", 1)[0]
    assert "MUST " in details and "expected:" in details and "actual:" in details
    assert "␍" in details or "␊" in details
    assert "](https://html.spec.whatwg.org/multipage/server-sent-events.html#" in details  # rule links


def test_unavailable_implementations_are_listed_with_their_reason(real_document: dict[str, Any]):
    text = render(real_document)
    section = text.split("## Could not be installed or started", 1)[1]
    assert "ghost" in section and "No module named 'ghost'" in section
    assert "not run: ModuleNotFoundError" in text.split("## Summary", 1)[1]


def test_interop_matrix_shows_the_real_cell(real_document: dict[str, Any]):
    section = render(real_document).split("## Interop matrix", 1)[1]
    assert "reference httpx" in section and "tiny `events`" in section


def test_names_cannot_break_the_tables(real_document: dict[str, Any]):
    assert "tiny \\| naive" in render(real_document)
    assert escape("a|b<c>`*") == "a\\|b&lt;c&gt;\\`\\*"


def test_long_values_are_cut_and_fences_are_never_broken():
    block = fenced("x" * (MAX_VALUE + 50) + "```", MAX_VALUE)
    assert "(+53 more characters)" in block
    assert fenced("a ```` b", 100).startswith("`````\n")


def test_load_refuses_other_json(tmp_path: Path):
    path = tmp_path / "other.json"
    path.write_text('{"kind": "server"}')
    try:
        document.load(path)
    except ValueError as error:
        assert "not a sse-conformance-report/1" in str(error)
    else:
        raise AssertionError("load accepted a non-report JSON")


def test_results_keep_details_only_where_they_fail(real_document: dict[str, Any]):
    results = [
        r for impl in real_document["implementations"] for rep in impl["reports"] for r in rep["results"]
    ]
    assert all("seconds" not in r for r in results)
    assert all("expected" not in r for r in results if r["outcome"] == "pass")
    assert any("expected" in r for r in results if r["outcome"] == "fail")


def test_rules_stored_in_the_document_win_over_the_current_table(real_document: dict[str, Any]):
    doc = copy.deepcopy(real_document)
    doc["meta"]["rules"] = {
        "S-11": {"level": "must", "title": "Old title", "url": "https://old.example/#s11"}
    }
    assert "[S-11](https://old.example/#s11)" in render(doc)


def test_a_clients_root_causes_are_the_inferred_causes_the_cli_and_json_show(real_document: dict[str, Any]):
    from conformance.causes import causes_json, from_docs, infer

    text = render(real_document)
    section = text.split("## Root causes per implementation", 1)[1].split("\n## ", 1)[0]
    block = section.split("**naive client** (client)", 1)[1].split("\n\n**", 1)[0]
    impl = next(i for i in real_document["implementations"] if i["name"] == "naive client")
    causes = infer(from_docs(r for report in impl["reports"] for r in report["results"]))
    assert causes, "the naive client fails LE-00*: there is a cause"
    lines = [line for line in block.splitlines() if re.match(r"\d+\. ", line)]
    assert len(lines) == min(len(causes), 8)
    for line, cause in zip(lines, causes, strict=False):
        assert f"[{cause.rule}]" in line and f"{len(cause.cases)} case" in line
        assert cause.fix is None or escape(cause.fix) in line
    assert [c["rule"] for c in causes_json(causes)] == [c.rule for c in causes]
