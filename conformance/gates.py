"""CI gates over a finished run: select/skip by rule or case ID, a baseline of known failures, strict.

Why after the run and not inside it: every face (CLI, pytest, Python API) produces the same list
of Results, so one filter over that list (and over the planned items, to avoid running what
would be thrown away) keeps the faces in step. A baseline entry is a rule ID, a case ID or an
item name (``CASE-ID[chunking]``), globs allowed; a JSON report works as a baseline too.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError
from .results import BROKEN, Outcome, Report, Result

__all__ = ["Gate", "GateError", "add_gate_options", "gate_from_args", "read_baseline"]


class GateError(UsageError, ValueError):
    """A selection or baseline that cannot be used: a usage error (exit 2, one line)."""


def _match(pattern: str, name: str) -> bool:
    """Exact (``LE-001[whole]`` names an item, its brackets are not a glob class) or a glob."""
    pattern, name = pattern.upper(), name.upper()
    return pattern == name or fnmatch.fnmatchcase(name, pattern)


def _matches(patterns: Iterable[str], *ids: str | None) -> bool:
    return any(_match(p, i) for p in patterns for i in ids if i)


def _keys(result: Result) -> tuple[str | None, ...]:
    """What a pattern may name: the rule, the case, or the item (case under one chunking)."""
    return result.rule, result.case, result.name


def _entry(result: dict[str, Any]) -> str:
    if result.get("case"):
        return f"{result['case']}[{result['chunking']}]" if result.get("chunking") else result["case"]
    return result["rule"]


def read_baseline(path: str | Path) -> list[str]:
    """Entries of a baseline file: one per line (``#`` starts a comment), or a JSON report's
    broken results (so ``--json-report`` of today is tomorrow's baseline)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise GateError(f"cannot read --baseline {path}: {error.strerror}") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
            broken = {o.value for o in BROKEN} | {Outcome.XFAIL.value}
            return sorted({_entry(r) for r in data["results"] if r["outcome"] in broken})
        except (ValueError, KeyError, TypeError) as error:
            raise GateError(f"--baseline {path} is JSON but not a report: {error}") from None
    entries = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [e.split()[0] for e in entries if e]


@dataclass
class Gate:
    """What a CI run holds a target to; the default gate changes nothing."""

    select: Sequence[str] = ()
    skip: Sequence[str] = ()
    baseline: Sequence[str] | None = None
    baseline_path: str | None = None
    strict: bool = False

    def wants(self, case: str | None, name: str | None, rules: Sequence[str]) -> bool:
        """Plan-time filter: run an item only if some result of it could survive :meth:`keep`."""
        if self.select and not _matches(self.select, case, name, *rules):
            return False
        every_rule_skipped = bool(rules) and all(_matches(self.skip, r) for r in rules)
        return not (self.skip and (_matches(self.skip, case, name) or every_rule_skipped))

    def keep(self, result: Result) -> bool:
        if self.select and not _matches(self.select, *_keys(result)):
            return False
        return not (self.skip and _matches(self.skip, *_keys(result)))

    def apply(self, report: Report) -> Report:
        """Filter, mark baselined failures xfail, record stale entries and strictness; in place.
        A finding outside --select on an item that ran is kept as info, noted, not dropped."""
        ran = {(r.case, r.chunking) for r in report.results if r.case and self.keep(r)}
        report.results = [r for r in report.results if self.keep(r) or self._noted(r, ran)]
        report.strict = report.strict or self.strict
        if self.select or self.skip:
            report.meta["select"], report.meta["skip"] = list(self.select), list(self.skip)
        if self.baseline is None:
            return report
        for result in report.results:
            self.mark(result)
        report.meta["baseline"] = self.status(report.results)
        return report

    def _noted(self, result: Result, ran: set[tuple[str | None, str | None]]) -> bool:
        """Is this a finding outside --select on an item the selection ran (``--select C-38``
        and a client too slow for that case: P-10)? Then it is kept as info, not hidden: the
        selection decides what gates the run, not what the run saw."""
        if not (self.select and result.case and result.outcome in BROKEN):
            return False
        if self.skip and _matches(self.skip, *_keys(result)):
            return False
        if (result.case, result.chunking) not in ran:
            return False
        result.extra["outside_select"] = result.outcome.value
        result.outcome = Outcome.INFO
        return True

    def mark(self, result: Result) -> Result:
        """A broken result the baseline lists becomes xfail (its old outcome kept in extra)."""
        if self.baseline and result.outcome in BROKEN and _matches(self.baseline, *_keys(result)):
            result.extra["baselined"] = result.outcome.value
            result.outcome = Outcome.XFAIL
        return result

    def status(self, results: Iterable[Result]) -> dict[str, Any]:
        """Which entries are stale (ran, and nothing they list fails any more) or never ran."""
        seen: dict[str, bool] = {}  # entry -> any listed result still broken
        for result in results:
            for entry in (e for e in self.baseline or () if _matches([e], *_keys(result))):
                seen[entry] = seen.get(entry, False) or result.outcome is Outcome.XFAIL
        return {
            "path": self.baseline_path, "entries": len(self.baseline or ()),
            "stale": [e for e in self.baseline or () if seen.get(e) is False],
            "not_run": [e for e in self.baseline or () if e not in seen],
        }

    def check_selection(self, known: Iterable[str],
                        elsewhere: Mapping[str, Iterable[str]] | None = None) -> None:
        """A --select or --skip that names nothing is a typo: say so before running anything.
        ``elsewhere`` holds the IDs another command checks (``{"client": [...]}``): a pattern that
        names only those is the wrong command, and running with it would run nothing and pass."""
        ids = list(known)
        others = {side: list(names) for side, names in (elsewhere or {}).items()}
        for flag, patterns in (("--select", self.select), ("--skip", self.skip)):
            for p in patterns:
                if any(_match(p, i) for i in ids):
                    continue
                side = next((side for side, names in others.items()
                             if any(_match(p, i) for i in names)), None)
                if side is not None:
                    raise GateError(f"{flag} {p!r} names only {side} rules or cases, which this command "
                                    f"does not check: run them with sse-conformance {side}")
                raise GateError(f"{flag} {p!r} matches no rule or case "
                                "(list them with: sse-conformance rules / sse-conformance cases)")


def add_gate_options(add: Any, prefix: str = "") -> None:
    """--strict, --select, --skip, --baseline (``add`` is add_argument-like; pytest gets a prefix)."""
    add(f"--{prefix}strict", action="store_true",
        help="SHOULD-level findings and stale baseline entries fail the run too")
    add(f"--{prefix}select", action="append", default=[], metavar="ID",
        help="only these rules or cases (glob, repeatable): S-09, 'C-0*', 'LE-*'")
    add(f"--{prefix}skip", action="append", default=[], metavar="ID",
        help="leave out these rules or cases (glob, repeatable)")
    add(f"--{prefix}baseline", metavar="FILE",
        help="known failures (one rule, case or CASE[chunking] per line, or a JSON report): "
        "they do not fail the run; listed ones that now pass are reported as stale")


def gate_from_args(strict: bool, select: Sequence[str], skip: Sequence[str], baseline: str | None) -> Gate:
    entries = read_baseline(baseline) if baseline else None
    return Gate(tuple(select or ()), tuple(skip or ()), entries, baseline, bool(strict))
