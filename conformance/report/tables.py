"""Markdown building blocks: verdict symbols, aggregation of outcomes, escaping, tables.

Pure functions of result dicts (``Result.to_json()`` shape), so the renderer stays a pure
function of the results document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from .numbers import effective

__all__ = [
    "JUDGED",
    "SYMBOL",
    "cell",
    "code",
    "count_cell",
    "escape",
    "fenced",
    "rate",
    "table",
    "worst",
]

# the order of severity: a cell shows the worst outcome among its results
_SEVERITY = ("error", "fail", "warn", "pass", "info", "skip")
SYMBOL = {
    "pass": "✅",
    "fail": "❌",
    "warn": "⚠️",
    "info": "ℹ️",
    "skip": "➖",
    "error": "💥",
}
NOT_RUN = "·"
JUDGED = frozenset({"pass", "fail", "warn", "error"})


def worst(outcomes: Iterable[str]) -> str | None:
    """The most severe outcome (error > fail > warn > pass > info > skip), or None if empty."""
    present = set(outcomes)
    return next((o for o in _SEVERITY if o in present), None)


def cell(results: Sequence[dict[str, Any]]) -> str:
    """One symbol for a group of results: its worst outcome, or · when nothing ran."""
    outcome = worst(effective(r) for r in results)
    return SYMBOL[outcome] if outcome else NOT_RUN


def count_cell(results: Sequence[dict[str, Any]]) -> str:
    """``✅ 12/12`` or ``❌ 9/12``: distinct cases with no broken result over distinct cases judged
    (a case failing under seven chunkings counts once), with the worst outcome's symbol."""
    judged = [r for r in results if r["outcome"] in JUDGED]
    if not judged:
        return cell(results)
    cases = {r.get("case") or r["rule"] for r in judged}
    broken = {r.get("case") or r["rule"] for r in judged if r["outcome"] != "pass"}
    return f"{SYMBOL[worst(effective(r) for r in judged) or 'pass']} {len(cases) - len(broken)}/{len(cases)}"


def rate(results: Iterable[dict[str, Any]], level: str) -> str:
    """Pass rate of one level among judged results, e.g. ``41/44 (93%)``, or ``–``."""
    judged = [r for r in results if r.get("level") == level and r["outcome"] in JUDGED]
    if not judged:
        return "–"
    passed = sum(r["outcome"] == "pass" for r in judged)
    return f"{passed}/{len(judged)} ({100 * passed // len(judged)}%)"


_MARKDOWN = re.compile(r"([\\`*_\[\]|#])")


def escape(text: str) -> str:
    """Text safe inside a Markdown table cell or bullet (no HTML, no emphasis, no pipes)."""
    text = _MARKDOWN.sub(r"\\\1", text.replace("\n", " "))
    return text.replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """An inline code span safe in a table (GFM needs the pipe escaped even inside code)."""
    return "`" + text.replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


def fenced(text: str, limit: int) -> str:
    """A code block holding ``text`` cut at ``limit`` characters, fenced so no content breaks it."""
    if len(text) > limit:
        text = f"{text[:limit]}… (+{len(text) - limit} more characters)"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table; the first column is left-aligned, the rest centred."""
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join([":---"] + [":---:"] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
