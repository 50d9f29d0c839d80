"""The validation set's data: every entry well formed, on a real rule, run by a real row."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.report.implementations import builtin_rows
from conformance.rules import RULES
from conformance.validation.bugs import BugsError, load_bugs

BUGS = load_bugs()


def test_at_least_twenty_entries_with_unique_keys() -> None:
    assert len(BUGS) >= 20
    assert len({b.key for b in BUGS}) == len(BUGS)


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.key)
def test_entry_names_a_catalogue_rule_and_an_existing_row(bug) -> None:  # type: ignore[no-untyped-def]
    assert bug.rule in RULES
    row = next(r for r in builtin_rows() if r.name == bug.row)
    # a client rule on a client row, a server rule on a server row
    assert (row.role == "server") == bug.rule.startswith("S-")
    assert bug.source.startswith("https://")


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bugs.toml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD = """
[[bug]]
library = "x"
ecosystem = "npm"
row = "eventsource-parser (npm)"
buggy = "1.0.0"
fixed = "1.0.1"
rule = "C-09"
source = "https://example.org/issue/1"
description = "d"
"""


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("C-09", "C-99"), "not in the catalogue"),
        (('"npm"', '"cargo"'), "ecosystem must be one of"),
        (('fixed = "1.0.1"', 'fixed = "^1.0"'), "exact release"),
        (('fixed = "1.0.1"', 'fixed = "1.0.0"'), "same release"),
        (("https://example.org/issue/1", "example.org"), "https://"),
        (('description = "d"', 'description = "d"\npins = { "2.0.0" = "dep@1.0.0" }'), "pins"),
        (('description = "d"', 'description = "d"\ncolour = "red"'), "unknown field"),
        (('description = "d"', 'description = "d"\nskip = [""]'), "'skip' are lists"),
    ],
)
def test_a_malformed_entry_is_one_line_naming_the_problem(tmp_path: Path, change, problem) -> None:  # type: ignore[no-untyped-def]
    assert load_bugs(_write(tmp_path, GOOD))[0].rule == "C-09"
    with pytest.raises(BugsError, match=problem) as caught:
        load_bugs(_write(tmp_path, GOOD.replace(*change)))
    assert "\n" not in str(caught.value) and "entry 1" in str(caught.value)


def test_a_duplicate_entry_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BugsError, match="listed twice"):
        load_bugs(_write(tmp_path, GOOD + GOOD))


def test_skip_goes_to_the_suite_as_skip_flags_and_shows_in_the_cases_run(tmp_path: Path) -> None:
    from conformance.validation.replay import Replay, _select

    skipping = GOOD.replace('description = "d"', 'description = "d"\nskip = ["EN-010"]')
    (bug,) = load_bugs(_write(tmp_path, skipping))
    assert _select(bug) == ["--select", "C-09", "--skip", "EN-010"]
    assert Replay(bug, "not run", None, None).to_json()["select"] == ["C-09", "-EN-010"]
