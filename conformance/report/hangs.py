"""The time-outs left in a report, each with why it is a real hang (checked by hand).

A run that meets its case's deadline was still going without having shown a fact (see
``conformance.client.ending``): an error, "timed out". ``hangs.toml`` says, per implementation
and case, what the library does there (for example: reconnects forever after a 204). A time-out
without an entry is shown as "not explained", so a new one cannot hide.
"""

from __future__ import annotations

import fnmatch
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tomllib

__all__ = ["explained", "timeouts"]

HANGS = Path(__file__).with_name("hangs.toml")


def _entries() -> list[dict[str, Any]]:
    return list(tomllib.loads(HANGS.read_text(encoding="utf-8")).get("hang", []))


LATE = "timed out"  # the runner's words for a client stopped at its deadline


def _late(result: dict[str, Any]) -> bool:
    return LATE in str(result.get("message", ""))


def timeouts(implementations: Iterable[dict[str, Any]]) -> OrderedDict[str, list[str]]:
    """Implementation name -> the cases whose verdict mentions a time-out, in order."""
    found: OrderedDict[str, list[str]] = OrderedDict()
    for impl in implementations:
        results = [r for rep in impl["reports"] for r in rep["results"]]
        for r in results:
            if r["outcome"] in ("fail", "error", "warn") and _late(r):
                cases = found.setdefault(impl["name"], [])
                case = r.get("case") or r["rule"]
                if case not in cases:
                    cases.append(case)
    return found


def explained(name: str, case: str) -> str | None:
    """Why this time-out is a real hang, from hangs.toml, or None."""
    for entry in _entries():
        if entry["implementation"] == name and any(fnmatch.fnmatch(case, p) for p in entry["cases"]):
            return str(entry["why"])
    return None
