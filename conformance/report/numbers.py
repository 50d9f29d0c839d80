"""The report's numbers, as pure functions of result dicts, so a test can recompute every one.

A client row counts distinct *cases* (a case failing under seven chunkings is one failure, with
its chunkings listed); a server row counts distinct *rules* over its endpoints. A case "fails on
the bytes" when it fails unsplit (the ``whole`` chunking, or under every chunking it ran), and
"only when split" when it passes whole but fails under some split. The verdict follows the legend
strictly: any MUST broken (failed, warned or not judgeable) is ❌.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Failure", "RowNumbers", "chunking_order", "effective", "failures", "row_numbers", "verdict"]

Doc = dict[str, Any]
BROKEN = ("fail", "warn", "error")
_FIXED = ("whole", "1-byte", "2-byte", "crlf", "utf8")


def chunking_order(name: str) -> tuple[int, int, str]:
    """whole, 1-byte, 2-byte, crlf, utf8, then random-N by N (not by text: random-10 last)."""
    if name in _FIXED:
        return (_FIXED.index(name), 0, name)
    match = re.fullmatch(r"random-(\d+)", name)
    return (len(_FIXED), int(match.group(1)) if match else 0, name)


def effective(result: Doc) -> str:
    """The outcome the legend shows: a broken MUST is a fail whatever the suite called it."""
    outcome = str(result["outcome"])
    if outcome in ("fail", "warn"):
        return "fail" if result.get("level") == "must" else "warn"
    return outcome


@dataclass
class Failure:
    """One distinct failure: a rule broken by a case (clients) or on an endpoint (servers)."""

    rule: str
    case: str
    outcome: str  # the worst effective outcome over its chunkings
    chunkings: list[str] = field(default_factory=list)
    passed_whole: bool = False
    results: list[Doc] = field(default_factory=list)

    @property
    def only_when_split(self) -> bool:
        return self.passed_whole and bool(self.chunkings)


SEVERITY = {"error": 0, "fail": 1, "warn": 2}


def failures(results: Iterable[Doc], key: str = "case") -> list[Failure]:
    """Distinct (rule, case) failures with the chunkings they fail under, in canonical order."""
    results = list(results)
    # a case passes whole when it has whole results and none of them is broken (any rule: the
    # runner adds a chunking rule, C-37/C-10/C-03, to a case that fails only under a split)
    whole = [r for r in results if r.get("chunking") == "whole" and r["outcome"] in ("pass", *BROKEN)]
    broken_whole = {str(r.get(key) or "") for r in whole if r["outcome"] != "pass"}
    whole_ok = {str(r.get(key) or "") for r in whole} - broken_whole
    found: OrderedDict[tuple[str, str], Failure] = OrderedDict()
    for r in results:
        outcome = effective(r)
        if outcome not in BROKEN:
            continue
        ident = (r["rule"], str(r.get(key) or ""))
        entry = found.setdefault(
            ident, Failure(ident[0], ident[1], outcome, passed_whole=ident[1] in whole_ok)
        )
        if SEVERITY[outcome] < SEVERITY[entry.outcome]:
            entry.outcome = outcome
        if r.get("chunking") and r["chunking"] not in entry.chunkings:
            entry.chunkings.append(r["chunking"])
        entry.results.append(r)
    for entry in found.values():
        entry.chunkings.sort(key=chunking_order)
    return list(found.values())


@dataclass
class RowNumbers:
    """What one summary row says; ``unit`` names what ``judged`` counts (cases or rules)."""

    unit: str
    judged: int
    must_broken: int
    should_broken: int
    not_judgeable: int
    on_the_bytes: int
    only_when_split: int


def row_numbers(impl: Doc) -> RowNumbers:
    """Distinct cases (clients) or distinct rules (servers) judged and broken, by level."""
    results = [r for rep in impl["reports"] for r in rep["results"]]
    unit = "case" if impl["role"] == "client" else "rule"
    key = "case" if unit == "case" else "rule"
    judged = {str(r.get(key) or "") for r in results if r["outcome"] in ("pass", *BROKEN)}
    broken = failures(results, key="case" if unit == "case" else "rule")
    by_unit: dict[str, str] = {}
    split_only: dict[str, bool] = {}
    for f in broken:
        name = f.case if unit == "case" else f.rule
        worst = min(by_unit.get(name, "warn"), f.outcome, key=SEVERITY.__getitem__)
        by_unit[name] = worst
        split_only[name] = split_only.get(name, True) and f.only_when_split
    must = {n for n, o in by_unit.items() if o in ("fail", "error") and _level_of(results, key, n) == "must"}
    errors = {f.case if unit == "case" else f.rule for f in broken if f.outcome == "error"}
    should = {n for n in by_unit if n not in must}
    split = {n for n in must | should if split_only[n]} if unit == "case" else set()
    return RowNumbers(
        unit=unit,
        judged=len(judged),
        must_broken=len(must),
        should_broken=len(should),
        not_judgeable=len(errors),
        on_the_bytes=len((must | should) - split) if unit == "case" else 0,
        only_when_split=len(split),
    )


def _level_of(results: list[Doc], key: str, name: str) -> str:
    """``must`` when any broken result of this case/rule is at MUST level."""
    levels = {r.get("level") for r in results if str(r.get(key) or "") == name and effective(r) in BROKEN}
    return "must" if "must" in levels else "should"


def verdict(impl: Doc) -> str:
    """The summary's verdict key: conforms, should, must, or nothing (strictly by the legend)."""
    numbers = row_numbers(impl)
    if numbers.must_broken:
        return "must"
    if numbers.should_broken:
        return "should"
    return "conforms" if numbers.judged else "nothing"
