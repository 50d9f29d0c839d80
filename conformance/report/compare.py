"""Two results documents, verdict by verdict: what flipped between two regenerations.

The check behind "regenerating on a busy machine changes no verdict": every result is keyed by
implementation, profile, endpoint, rule, case and chunking, and compared by its outcome.
Results only one side has are counted apart (a row that ran on one side only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["Key", "flips", "verdicts"]

Key = tuple[str, str, str, str, str, str, str]
Doc = dict[str, Any]


def verdicts(document: Doc) -> dict[Key, str]:
    """Every result's outcome by its key (an interop cell is keyed by client, server, endpoint)."""
    found: dict[Key, str] = {}
    for impl in document["implementations"]:
        for rep in impl["reports"]:
            meta = rep.get("meta", {})
            for r in rep["results"]:
                key = (
                    impl["role"],
                    impl["name"],
                    meta.get("profile") or "generic",
                    meta.get("endpoint") or "",
                    r["rule"],
                    r.get("case") or "",
                    r.get("chunking") or "",
                )
                found[key] = r["outcome"]
    for cell in document.get("interop", []):
        found[("interop", cell["client"], cell["server"], cell["endpoint"], "", "", "")] = cell["outcome"]
    return found


def flips(a: Doc, b: Doc) -> Iterator[tuple[Key, str | None, str | None]]:
    """(key, outcome in a, outcome in b) for every key whose outcome differs or is one-sided."""
    left, right = verdicts(a), verdicts(b)
    for key in sorted(set(left) | set(right)):
        if left.get(key) != right.get(key):
            yield key, left.get(key), right.get(key)
