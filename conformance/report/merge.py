"""Shards and merge: ``report --only X --json shard.json`` on many machines (a CI matrix), then
``report --merge shard*.json -o REPORT.md`` renders one document.

Implementations keep the order of the built-in rows (then any others in shard order), so shards
run in any order merge to the same document as one run; a name run by two shards is an error,
not a silent pick. Meta is the first shard's, with each shard's own header kept under ``shards``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import document

__all__ = ["merge"]

Doc = dict[str, Any]


def _order() -> dict[tuple[str, str], int]:
    """Where each built-in row goes: the order of rows/*.toml, Chromium last (as one run has it)."""
    from .implementations import ROWS

    known = [*((r.role, r.name) for r in ROWS), ("client", "Chromium EventSource")]
    return {key: i for i, key in enumerate(known)}


def merge(paths: list[str | Path]) -> Doc:
    """One results document from shard documents; ValueError names a clash or a bad shard."""
    shards = [document.load(p) for p in paths]
    if not shards:
        raise ValueError("nothing to merge")
    seen: dict[tuple[str, str], str] = {}
    impls: list[Doc] = []
    for path, shard in zip(paths, shards, strict=True):
        for impl in shard["implementations"]:
            key = (impl["role"], impl["name"])
            if key in seen:
                raise ValueError(f"{impl['role']} {impl['name']!r} is in both {seen[key]} and {path}")
            seen[key] = str(path)
            impls.append(impl)
    order = _order()
    impls.sort(key=lambda i: order.get((i["role"], i["name"]), len(order)))
    meta = dict(shards[0]["meta"])
    for shard in shards[1:]:
        for key, value in shard["meta"].items():
            meta.setdefault(key, value)
    meta["shards"] = [
        {k: s["meta"].get(k) for k in ("generated", "platform", "only") if s["meta"].get(k)} for s in shards
    ]
    interop = [cell for s in shards for cell in s.get("interop", [])]  # one shard runs it, in row order
    return {"format": document.FORMAT, "meta": meta, "implementations": impls, "interop": interop}
