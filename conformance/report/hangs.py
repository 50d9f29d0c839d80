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


LATE = ("timed out", "gave up after")  # the runner's words for a client stopped at a time bound


def _late(result: dict[str, Any]) -> bool:
    return any(word in str(result.get("message", "")) for word in LATE)


def timeouts(implementations: Iterable[dict[str, Any]]) -> OrderedDict[tuple[str, bool], list[str]]:
    """(implementation name, confirmed) -> the cases whose failure mentions a time-out, in order.

    ``confirmed`` is True when the verdict rested on the time bound and was confirmed by running
    the case again alone (``extra.alone``); False when the case fails on its events anyway and
    the time-out is only mentioned beside that."""
    found: OrderedDict[tuple[str, bool], list[str]] = OrderedDict()
    for impl in implementations:
        results = [r for rep in impl["reports"] for r in rep["results"]]
        late = [r for r in results if r["outcome"] in ("fail", "error", "warn") and _late(r)]
        for r in late:
            case = r.get("case") or r["rule"]
            confirmed = any(
                "alone" in (x.get("extra") or {}) for x in late if (x.get("case") or x["rule"]) == case
            )
            cases = found.setdefault((impl["name"], confirmed), [])
            if case not in cases:
                cases.append(case)
    return found


def explained(name: str, case: str) -> str | None:
    """Why this time-out is a real hang, from hangs.toml, or None."""
    for entry in _entries():
        if entry["implementation"] == name and any(fnmatch.fnmatch(case, p) for p in entry["cases"]):
            return str(entry["why"])
    return None
