"""The page's table is rendered from the results JSON alone, misses listed with their reason."""

from __future__ import annotations

from conformance.validation.table import BEGIN, END, render, splice


def _entry(verdict: str, reason: str, basis: str = "causes") -> dict:  # type: ignore[type-arg]
    bug = {
        "library": "lib|x",
        "ecosystem": "npm",
        "buggy": "1.0.0",
        "fixed": "1.0.1",
        "rule": "C-09",
        "source": "https://example.org/1",
        "description": "mixed endings",
    }
    reading = {"first_rule": "C-08", "basis": basis, "rule_failed": False, "rule_ran": True}
    return {
        "bug": bug,
        "verdict": verdict,
        "reason": reason,
        "select": ["C-08", "C-09"],
        "buggy": reading,
        "fixed": reading,
    }


DOC = {
    "measured": "2026-12-04",
    "suite_version": "0.1.0",
    "python": "3.11",
    "node": "v20",
    "entries": [_entry("misfiled", "first cause C-08; C-09 itself passes", basis="results")],
}


def test_a_miss_is_in_the_table_and_listed_with_its_reason() -> None:
    page = render(DOC)
    assert page.startswith(BEGIN) and page.endswith(END)
    assert "| 1 | lib\\|x (npm) | 1.0.0 | 1.0.1 | C-09 | C-08 C-09 | C-08* |" in page
    assert "**0 caught**, **1 misfiled**" in page
    assert "- **lib\\|x 1.0.0 → 1.0.1 (C-09)**, misfiled: first cause C-08; C-09 itself passes." in page


def test_splicing_replaces_only_the_generated_block() -> None:
    page = splice("# Title\n\nprose\n", render(DOC))
    again = splice(page + "\nafter\n", render({**DOC, "entries": []}))
    assert again.startswith("# Title\n\nprose\n") and again.endswith("\nafter\n")
    assert again.count(BEGIN) == 1 and "misfiled:" not in again
