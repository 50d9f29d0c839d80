"""REPORT.md is generated, never edited: re-rendering the committed REPORT.json must give it back.

A hand edit of REPORT.md (or of REPORT.json without re-rendering) fails here; the header's
digest names the exact results the report came from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cli import main
from conformance.report import document
from conformance.report.render import render

ROOT = Path(__file__).resolve().parents[2]
REPORT_MD = ROOT / "REPORT.md"
REPORT_JSON = ROOT / "REPORT.json"

committed = pytest.mark.skipif(
    not (REPORT_MD.exists() and REPORT_JSON.exists()),
    reason="no committed REPORT.md and REPORT.json yet (sse-conformance report writes both)",
)


@committed
def test_committed_report_is_exactly_the_rendering_of_its_results():
    expected = render(document.load(REPORT_JSON), json_name=REPORT_JSON.name)
    assert REPORT_MD.read_bytes() == expected.encode("utf-8"), (
        "REPORT.md differs from what REPORT.json renders to: regenerate it with "
        "`sse-conformance report --from-json REPORT.json -o REPORT.md`, never edit it by hand"
    )


def test_from_json_writes_what_render_returns(tmp_path: Path):
    """The CLI path a user runs gives the same bytes as the renderer the test above uses."""
    doc = {"format": document.FORMAT, "meta": {"generated": "x"}, "implementations": [], "interop": []}
    document.dump(doc, tmp_path / "REPORT.json")
    assert (
        main(["report", "--from-json", str(tmp_path / "REPORT.json"), "-o", str(tmp_path / "REPORT.md")]) == 0
    )
    assert (tmp_path / "REPORT.md").read_text(encoding="utf-8") == render(doc, json_name="REPORT.json")


@committed
def test_committed_report_names_the_digest_of_its_results():
    digest = document.digest(document.load(REPORT_JSON))
    assert f"sha256 `{digest}`" in REPORT_MD.read_text(encoding="utf-8")


def test_from_json_with_json_writes_the_same_verdicts_with_their_causes_inferred_again(tmp_path: Path):
    results = [{"rule": "C-08", "outcome": "fail", "message": "x", "case": "LE-001", "chunking": "whole",
                "level": "must"}]
    report = {"target": "t", "meta": {}, "results": results, "causes": [{"rule": "stale"}]}
    doc = {"format": document.FORMAT, "meta": {"generated": "x"}, "interop": [],
           "implementations": [{"name": "a", "role": "client", "status": "ok", "origin": "third-party",
                                "language": "Python", "version": "1", "note": "", "reason": "",
                                "reports": [report]}]}
    document.dump(doc, tmp_path / "old.json")
    args = ["report", "--from-json", str(tmp_path / "old.json"), "--json", str(tmp_path / "new.json"),
            "-o", str(tmp_path / "R.md")]
    assert main(args) == 0
    (new,) = document.load(tmp_path / "new.json")["implementations"][0]["reports"]
    assert new["results"] == results and [c["rule"] for c in new["causes"]] == ["C-08"]
    assert document.load(tmp_path / "old.json") == doc  # the input is left as it was


@committed
def test_committed_report_json_holds_the_causes_this_version_infers():
    # REPORT.md infers causes when it renders; the JSON keeps them: both must say the same
    stored = document.load(REPORT_JSON)
    assert document.recaused(document.load(REPORT_JSON)) == stored, (
        "REPORT.json's causes are stale: `sse-conformance report --from-json REPORT.json --json REPORT.json "
        "-o REPORT.md` infers them again from the same verdicts")
