"""The results document: everything REPORT.md shows, as JSON, and the only input of the renderer.

Shape (``FORMAT`` versioned)::

    {"format": FORMAT, "meta": {generated, suite_version, python, platform, node, chromium,
                                case_groups: {case id: group}},
     "implementations": [{name, role, origin, language, version, status, reason, note,
                          reports: [Report.to_json(), ...]}],
     "interop": [{client, server, endpoint, outcome, detail}]}

``digest`` is over a canonical dump, so REPORT.md can name exactly the results it came from.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..results import Report

__all__ = ["FORMAT", "Implementation", "InteropCell", "digest", "dump", "load", "recaused", "slim"]

FORMAT = "sse-conformance-report/1"


@dataclass
class Implementation:
    """One row of the report: a server or client, its version, and its reports (one per profile).

    ``status`` is ``ok`` (it ran), ``unavailable`` (could not be installed or started) or
    ``error`` (it started but the suite could not run it); ``reason`` says why.
    """

    name: str
    role: str  # "server" or "client"
    origin: str  # "reference", "third-party" or "browser"
    language: str
    version: str = ""
    status: str = "ok"
    reason: str = ""
    note: str = ""
    reports: list[dict[str, Any]] = field(default_factory=list)

    def add(self, report: Report, **meta: Any) -> None:
        data = report.to_json()
        data["meta"].update(meta)
        data["results"] = [slim(result) for result in data["results"]]
        self.reports.append(data)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class InteropCell:
    """One reference client against one reference server endpoint, end to end."""

    client: str
    server: str
    endpoint: str
    outcome: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# what a passing or skipped result keeps: enough to count it; failures keep everything
_PASS_KEYS = ("rule", "case", "chunking", "level", "outcome", "message")


def slim(result: dict[str, Any]) -> dict[str, Any]:
    """Drop timings, and details of results that passed: REPORT.json stays a reviewable size."""
    result = {k: v for k, v in result.items() if k not in ("seconds", "spec")}
    if result["outcome"] in ("pass", "skip", "info"):
        result = {k: result[k] for k in _PASS_KEYS if k in result}
    return result


def canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest(document: dict[str, Any]) -> str:
    """sha256 of the canonical dump: the same results give the same digest, however indented."""
    return hashlib.sha256(canonical(document).encode("utf-8")).hexdigest()


def dump(document: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(
        json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )


def load(path: str | Path) -> dict[str, Any]:
    """Read a results document; a wrong format is a ValueError with one line of explanation."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} results document")
    return document


def recaused(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every report's ``causes`` inferred again from its results by this
    version's code: the verdicts as they were run, their causes as REPORT.md renders them."""
    from ..causes import causes_json, from_docs, infer, rerun_for

    for implementation in document.get("implementations", []):
        for report in implementation.get("reports") or []:
            if "causes" in report:
                rerun = rerun_for(str(report.get("target", "")), report.get("meta") or {})
                report["causes"] = causes_json(infer(from_docs(report.get("results") or [])), rerun)
    return document
