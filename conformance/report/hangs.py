"""The time-outs left in a report, each with why it is a real hang (checked by hand).

Every failure resting on a time bound was already confirmed by running the case again alone
with longer bounds; ``hangs.toml`` says, per implementation and case, what the library does
there (for example: reconnects forever after a 204). A time-out without an entry is shown as
"not explained", so a new one cannot hide.
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


def timeouts(implementations: Iterable[dict[str, Any]]) -> OrderedDict[str, list[str]]:
    """Implementation name -> the cases that ended in a time-out (any chunking), in order."""
    found: OrderedDict[str, list[str]] = OrderedDict()
    for impl in implementations:
        for rep in impl["reports"]:
            for r in rep["results"]:
                if r["outcome"] in ("fail", "error", "warn") and "timed out" in str(r.get("message", "")):
                    cases = found.setdefault(impl["name"], [])
                    if (r.get("case") or r["rule"]) not in cases:
                        cases.append(r.get("case") or r["rule"])
    return found


def explained(name: str, case: str) -> str | None:
    """Why this time-out is a real hang, from hangs.toml, or None."""
    for entry in _entries():
        if entry["implementation"] == name and any(fnmatch.fnmatch(case, p) for p in entry["cases"]):
            return str(entry["why"])
    return None
