"""Verdicts and reports: one Result per (rule, case, chunking), one JSON shape for every face.

The CLI, the pytest plugin and REPORT.md all read these; nothing re-derives a verdict.
"""

from __future__ import annotations

import enum
import json
import platform
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .rules import RULES

__all__ = ["BROKEN", "FAMILIES", "SEVERITY", "NonConformance", "Outcome", "Report", "Result",
           "outcome_for_level", "timed", "worst"]


class Outcome(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"  # a MUST rule is broken
    WARN = "warn"  # a SHOULD rule is broken
    INFO = "info"  # recorded only
    SKIP = "skip"  # not run, with a reason
    ERROR = "error"  # the suite could not judge (crash, timeout of the harness itself)
    XFAIL = "xfail"  # broken, but listed in the --baseline of known failures


# What a rule ID's letter means: JUnit classnames and summaries group by it.
FAMILIES = {"C": "parsing", "N": "connection", "S": "serving", "O": "openai", "P": "pitfalls"}
BROKEN = frozenset({Outcome.FAIL, Outcome.ERROR, Outcome.WARN})
# A client result's ``expected`` when the adapter kept the case from being judged (output the
# suite cannot read; a client that raised before its first request): it says nothing of the
# client's parsing, so no behaviour is inferred from it (causes.py)
ADAPTER_FAULT = "a run the suite can judge"
# Worst first: what a group of results shows (a server rule's line ranks pass above info instead).
SEVERITY = (Outcome.ERROR, Outcome.FAIL, Outcome.WARN, Outcome.XFAIL, Outcome.INFO, Outcome.PASS,
            Outcome.SKIP)


class NonConformance(AssertionError):
    """Raised by :meth:`Report.raise_for_failures`; its text is :meth:`Report.explain`."""


def outcome_for_level(level: str) -> Outcome:
    """What breaking a rule of this level costs: fail for must, warn for should, else info."""
    return {"must": Outcome.FAIL, "should": Outcome.WARN}.get(level, Outcome.INFO)


def worst(results: Iterable[Result]) -> Outcome:
    """The worst outcome among ``results`` (SEVERITY), pass for none."""
    outcomes = {r.outcome for r in results}
    return next((o for o in SEVERITY if o in outcomes), Outcome.PASS)


@dataclass
class Result:
    """One verdict. ``expected``/``actual`` hold visible-whitespace text for humans; ``data``
    the same as JSON values for machines."""

    rule: str
    outcome: Outcome
    message: str
    level: str = ""
    case: str | None = None
    chunking: str | None = None
    expected: str | None = None
    actual: str | None = None
    evidence: str | None = None
    fix: str | None = None
    seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # structured expected/actual/evidence (structured.py)

    def __post_init__(self) -> None:
        self.outcome = Outcome(self.outcome)
        if not self.level:
            self.level = RULES[self.rule].level if self.rule in RULES else "info"

    @property
    def spec(self) -> str:
        return RULES[self.rule].url if self.rule in RULES else ""

    @property
    def name(self) -> str:
        """The test-item style name: CASE[chunking], or the rule ID for server checks."""
        base = self.case or self.rule
        return f"{base}[{self.chunking}]" if self.chunking else base

    def details(self) -> list[tuple[str, str]]:
        """The explanation a person reads under the message: (label, text) pairs that are set."""
        pairs = (
            ("expected", self.expected),
            ("actual", self.actual),
            ("evidence", self.evidence),
            ("fix", self.fix),
            ("spec", self.spec),
        )
        return [(label, value) for label, value in pairs if value]

    def to_json(self) -> dict[str, Any]:
        """The fields that are set (a JSON value each: ``extra`` and ``data`` are shared, not
        copied, since every caller serialises at once)."""
        values = ((name, getattr(self, name)) for name in _RESULT_FIELDS)
        data = {name: value for name, value in values if value not in (None, {}, "")}
        data["outcome"] = self.outcome.value
        data["spec"] = self.spec
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


_RESULT_FIELDS = tuple(Result.__dataclass_fields__)


@dataclass(repr=False)
class Report:
    """All results of one run against one target."""

    kind: str  # "server" or "client"
    target: str
    results: list[Result] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    strict: bool = False  # SHOULD findings (warn) and stale baseline entries fail the run too

    def __repr__(self) -> str:  # short: pytest prints it under a failed `assert report.ok`
        return f"<Report {self.summary_line()}>"

    def summary(self) -> dict[str, int]:
        counts = Counter(r.outcome.value for r in self.results)
        return {o.value: counts.get(o.value, 0) for o in Outcome}

    @property
    def stale(self) -> list[str]:
        """Baseline entries that no longer fail (listed in ``meta["baseline"]`` by the gate)."""
        return list(self.meta.get("baseline", {}).get("stale", []))

    @property
    def ok(self) -> bool:
        """Exit-code truth: no MUST failure and no error; under ``strict`` no warning and no
        stale baseline entry either."""
        failing = {Outcome.FAIL, Outcome.ERROR} | ({Outcome.WARN} if self.strict else set())
        if any(r.outcome in failing for r in self.results):
            return False
        return not (self.strict and self.stale)

    def explain(self) -> str:
        """The failures as a person reads them (grouped by root cause); "" when there are none."""
        from .explain import explain

        return explain(self)

    def raise_for_failures(self) -> None:
        """Raise :class:`NonConformance` with :meth:`explain` unless :attr:`ok` (cf. httpx's
        ``raise_for_status``)."""
        if not self.ok:
            raise NonConformance(f"{self.summary_line()}\n\n{self.explain()}")

    def summary_line(self) -> str:
        """One line a person can read at a glance, pytest style."""
        counts = self.summary()
        parts = [f"{counts[o]} {o}ed" if o in ("pass", "fail", "xfail") else f"{counts[o]} {o}"
                 for o in ("pass", "fail", "warn", "error", "xfail", "skip", "info") if counts[o]]
        if self.stale:
            parts.append(f"{len(self.stale)} stale baseline {'entry' if len(self.stale) == 1 else 'entries'}")
        if self.strict:
            parts.append("strict")
        text = ", ".join(parts) or "nothing ran"
        verdict = "CONFORMS" if self.ok else "DOES NOT CONFORM"
        strict = " (--strict: warnings fail)" if self.strict and counts["warn"] else ""
        return f"{self.kind} {self.target}: {verdict}{strict}: {text}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "summary": self.summary(),
            "ok": self.ok,
            "strict": self.strict,
            "meta": {
                "strict": self.strict,
                "suite_version": _suite_version(),
                "python": platform.python_version(),
                "started": self.started,
                **self.meta,
            },
            "results": self.results_json(),
            "causes": self.causes_json(),
        }

    def results_json(self) -> list[dict[str, Any]]:
        """Each result's JSON; a client item's carries ``rerun``, the command that runs just that
        item again (the one the terminal prints), so a tool can hand a failure back to a person."""
        from .causes import rerun_for

        rerun = rerun_for(self.target, self.meta) if self.kind == "client" else None
        out = []
        for result in self.results:
            data = result.to_json()
            if rerun is not None and result.case:
                data["rerun"] = rerun(result.case, result.chunking)
            out.append(data)
        return out

    def causes_json(self) -> list[dict[str, Any]]:
        """The fewest causes explaining the failures (``conformance.causes``), most cases first."""
        from .causes import causes_json, infer, rerun_for

        return causes_json(infer(self.results), rerun=rerun_for(self.target, self.meta))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        return cls(
            kind=data["kind"],
            target=data["target"],
            results=[Result.from_json(r) for r in data["results"]],
            meta=dict(data.get("meta", {})),
            strict=bool(data.get("strict", data.get("meta", {}).get("strict", False))),
        )

    def write_json(self, path: str | Path) -> None:
        """The JSON report (``schemas/report.schema.json``); ``-`` writes to stdout."""
        _write(path, json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")

    def write_junit(self, path: str | Path) -> None:
        """JUnit XML: one testcase per result; fail/error map to failure/error, skip to skipped,
        xfail to skipped with the reason. ``-`` writes to stdout."""
        from .junit import junit_xml

        _write(path, junit_xml(self))

    def write_html(self, path: str | Path) -> None:
        """The self-contained HTML report; ``-`` writes to stdout."""
        from .html import html_report

        _write(path, html_report(self))


def _write(path: str | Path, text: str) -> None:
    if str(path) == "-":
        import sys

        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        Path(path).write_text(text, encoding="utf-8")


def _suite_version() -> str:
    from . import __version__

    return __version__


def timed(report: Report, started: float) -> None:
    """Record when the run began and how long it took (``meta.seconds``, JUnit's suite time): a
    Report is made once the run is over, so its own clock says only when it ended."""
    report.started = started
    report.meta["seconds"] = round(time.time() - started, 3)
