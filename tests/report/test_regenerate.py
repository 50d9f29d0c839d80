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
