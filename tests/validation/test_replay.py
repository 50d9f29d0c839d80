"""End to end on two quick entries: both releases installed from the registry, the suite run
on each through the report row's adapter, the pair judged.

They skip with a reason when the registry cannot be reached (an offline machine); CI has one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conformance.validation.bugs import Bug, load_bugs
from conformance.validation.replay import replay

BUGS = {b.key: b for b in load_bugs()}


def _registry_answers(bug: Bug, tmp_path: Path) -> str:
    """'' when the release can be fetched from its registry, else why not."""
    if bug.ecosystem == "npm":
        argv = ["npm", "view", f"{bug.dist}@{bug.fixed}", "version"]
    else:
        argv = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            f"{bug.dist}=={bug.fixed}",
            "-d",
            str(tmp_path),
        ]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{argv[0]}: {error}"
    if done.returncode == 0:
        return ""
    return f"{bug.ecosystem} registry unreachable: {done.stderr.strip()[-200:]}"


@pytest.fixture
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "validation-cache"


# the entries marked quick: small downloads and a run of seconds on their own selection
QUICK = [key for key, bug in BUGS.items() if bug.quick]


def test_some_entries_are_quick() -> None:
    assert 1 <= len(QUICK) <= 3


@pytest.mark.parametrize("key", QUICK)
def test_the_buggy_release_fails_the_rule_and_the_fixed_release_passes_it(
    key: str, cache: Path, tmp_path: Path
) -> None:
    bug = BUGS[key]
    reason = _registry_answers(bug, tmp_path)
    if reason:
        pytest.skip(reason)
    outcome = replay(bug, cache)
    assert outcome.buggy is not None and outcome.fixed is not None, outcome.reason
    assert outcome.buggy.rule_failed, outcome.buggy
    assert outcome.fixed.rule_ran and not outcome.fixed.rule_failed, outcome.fixed
    if outcome.buggy.basis == "causes":  # a suite with cause inference names the rule first
        assert outcome.verdict == "caught", outcome.reason
