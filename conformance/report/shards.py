"""``--shard K/N``: a deterministic split of the report into N parts of about equal cost.

The parts are the rows plus Chromium and the interop matrix. Each has a cost (a row's ``cost``
in its file; a measured guess in seconds of one run) and goes, most costly first, to the part
with the least cost so far, so every machine of a CI matrix computes the same split.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["BROWSER", "INTEROP", "assign", "parse"]

BROWSER = ("Chromium EventSource", 241.0)
INTEROP = ("interop", 110.0)


def parse(text: str) -> tuple[int, int]:
    """``"2/4"`` -> (2, 4); ValueError for anything but 1 <= K <= N."""
    k, sep, n = text.partition("/")
    if not sep or not k.isdigit() or not n.isdigit() or not 1 <= int(k) <= int(n):
        raise ValueError(f"--shard takes K/N with 1 <= K <= N, not {text!r}")
    return int(k), int(n)


def assign(units: Iterable[tuple[str, float]], count: int) -> list[set[str]]:
    """Names in ``count`` parts, greedily balanced by cost (ties broken by name)."""
    parts: list[tuple[float, set[str]]] = [(0.0, set()) for _ in range(count)]
    for name, cost in sorted(units, key=lambda u: (-u[1], u[0])):
        index = min(range(count), key=lambda i: (parts[i][0], i))
        total, names = parts[index]
        names.add(name)
        parts[index] = (total + cost, names)
    return [names for _, names in parts]
