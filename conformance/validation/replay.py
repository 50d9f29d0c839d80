"""Replay one bug: install both releases, run the suite on each, and judge the pair.

The suite runs as its users run it (``python -m conformance client|server ... --json-report``)
in a child process, with the release's private folder first on its path, so nothing of one
release leaks into the next. An install or run that fails becomes the entry's reason, never a
traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..report.implementations import APP_PROBES, Probe
from ..report.process import StartError, announced_url
from .bugs import Bug
from .release import Release, release
from .verdict import Reading, read

__all__ = ["VERDICTS", "Replay", "replay", "run_release"]

RUN_TIMEOUT = 900.0  # seconds one suite run may take before it counts as a failure to run

# what a pair of readings means, in the order the table lists them
VERDICTS = {
    "caught": "the buggy release's first cause is the rule; the fixed release passes it",
    "misfiled": "the buggy release fails, but its first cause is another rule",
    "missed": "the buggy release passes the rule: the suite does not see the bug",
    "unfixed": "the fixed release still fails the rule",
    "not run": "a release could not be installed or run here",
}


@dataclass(frozen=True)
class Replay:
    """One entry's outcome: a verdict, and what each release's run said."""

    bug: Bug
    verdict: str
    buggy: Reading | None
    fixed: Reading | None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.bug.key,
            "verdict": self.verdict,
            "reason": self.reason,
            "select": [*self.bug.selection, *(f"-{pattern}" for pattern in self.bug.skip)],
            "buggy": self.buggy.to_json() if self.buggy else None,
            "fixed": self.fixed.to_json() if self.fixed else None,
        }


def _probe_flags(probe: Probe) -> list[str]:
    """``sse-conformance server`` flags asking for one endpoint the way the report does."""
    flags = ["--profile", probe.profile, "-X", probe.method]
    if probe.resume:
        flags.append("--resume")
    if probe.body is not None:
        flags += ["-H", "Content-Type: application/json", "-d", probe.body.decode()]
    if probe.idle is not None:
        flags += ["--idle", f"{probe.idle:g}"]
    if probe.origin:
        flags += ["--origin", probe.origin]
    return flags


def _suite(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run the suite; its JSON report, or RuntimeError saying why there is none."""
    import os

    with tempfile.TemporaryDirectory(prefix="sse-validation-") as folder:
        path = Path(folder) / "report.json"
        try:
            done = subprocess.run(
                [*argv, "--json-report", str(path), "-q"],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"the suite did not finish within {RUN_TIMEOUT:g} s") from None
        if done.returncode not in (0, 1) or not path.exists():
            lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
            raise RuntimeError(f"the suite exited {done.returncode}: {lines[-1] if lines else ''}")
        return json.loads(path.read_text(encoding="utf-8"))


def _select(bug: Bug) -> list[str]:
    chosen = [flag for pattern in bug.selection for flag in ("--select", pattern)]
    return chosen + [flag for pattern in bug.skip for flag in ("--skip", pattern)]


def run_release(target: Release) -> dict[str, Any]:
    """Install ``target`` and run the suite on it; the JSON report."""
    target.install()
    env = target.env()
    if target.row.role == "client":
        return _suite([*target.client_argv(), *_select(target.bug)], env)
    probe = next(p for p in APP_PROBES if p.profile == "generic")
    command = target.row.expand(list(target.row.server["command"]), target.cache)
    with announced_url(command, env=env) as base:
        argv = [sys.executable, "-m", "conformance", "server", base.rstrip("/") + probe.path]
        return _suite([*argv, *_probe_flags(probe), *_select(target.bug)], env)


def _judge(bug: Bug, buggy: Reading, fixed: Reading) -> tuple[str, str]:
    if fixed.rule_failed:
        cases = ", ".join(fixed.failing_cases.get(bug.rule, [])) or "a cause on it"
        return "unfixed", f"{bug.fixed} still fails {bug.rule} ({cases})"
    if buggy.first_rule is None:
        ran = "" if buggy.rule_ran else f"; no case of {bug.rule} was judged"
        return "missed", f"{bug.buggy} passes every selected case{ran}"
    if buggy.first_rule != bug.rule:
        own = "fails too" if buggy.rule_failed else "passes"
        return "misfiled", f"first cause {buggy.first_rule}; {bug.rule} itself {own}"
    if not fixed.rule_ran:
        return "not run", f"no case of {bug.rule} was judged on {bug.fixed}"
    return "caught", ""


def replay(bug: Bug, cache: Path) -> Replay:
    """Both releases of ``bug``, run and judged."""
    readings: list[Reading] = []
    for version in (bug.buggy, bug.fixed):
        try:
            report = run_release(release(bug, version, cache))
        except (RuntimeError, ValueError, OSError, StartError) as error:
            first_line = (str(error).splitlines() or [type(error).__name__])[0]
            return Replay(bug, "not run", *([*readings, None, None])[:2], reason=f"{version}: {first_line}")
        readings.append(read(report, bug.rule))
    verdict, reason = _judge(bug, *readings)
    return Replay(bug, verdict, readings[0], readings[1], reason)
