"""REPORT.md from a results document, and nothing else: a pure function, so it can be re-checked.

Sections: header, legend, summary, server rules, OpenAI-profile server rules, client groups,
client rules, chunkings, interop matrix, then the details of every implementation (pass rates
and grouped failures with expected and actual, whitespace visible) and what could not run.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from ..rules import RULES
from .document import digest
from .tables import JUDGED, SYMBOL, cell, code, count_cell, escape, fenced, rate, table

__all__ = ["MAX_FAILURES", "MAX_VALUE", "render"]

MAX_FAILURES = 30  # failure groups shown per implementation (the JSON has all of them)
MAX_VALUE = 300  # characters of expected/actual shown per failure

Doc = dict[str, Any]


def render(document: Doc, *, json_name: str = "REPORT.json") -> str:
    """The whole REPORT.md text for ``document`` (deterministic: same JSON, same bytes)."""
    parts = [
        _header(document, json_name),
        _legend(),
        _summary(document),
        _servers(document, "generic", "Server rules", "S-", "P-"),
        _servers(document, "openai", "OpenAI streaming profile (servers)", "O-"),
        _client_groups(document),
        _client_rules(document),
        _client_chunkings(document),
        _interop(document),
        _details(document),
        _unavailable(document),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


# -- helpers -----------------------------------------------------------------------------------


def _ran(document: Doc, role: str) -> list[Doc]:
    return [i for i in document["implementations"] if i["role"] == role and i["status"] == "ok"]


def _results(impl: Doc, profile: str | None = None) -> list[Doc]:
    return [r for rep in impl["reports"] if profile in (None, _profile(rep)) for r in rep["results"]]


def _profile(report: Doc) -> str:
    return report.get("meta", {}).get("profile") or "generic"


def _by(results: Iterable[Doc], key: str) -> OrderedDict[str, list[Doc]]:
    grouped: OrderedDict[str, list[Doc]] = OrderedDict()
    for result in results:
        grouped.setdefault(str(result.get(key) or ""), []).append(result)
    return grouped


def catalogue(document: Doc) -> dict[str, dict[str, str]]:
    """The rules as the run saw them (stored in the document), so a later change of rules.py
    cannot change how old results render; documents without them use the current table."""
    stored = document.get("meta", {}).get("rules")
    if stored:
        return stored
    return {rid: {"level": r.level, "title": r.title, "url": r.url} for rid, r in RULES.items()}


def _rule_order(rule_id: str, rules: dict[str, dict[str, str]]) -> tuple[int, str]:
    ids = list(rules)
    return (ids.index(rule_id), rule_id) if rule_id in ids else (len(ids), rule_id)


def _label(impl: Doc) -> str:
    version = f" {impl['version']}" if impl.get("version") else ""
    return escape(f"{impl['name']}{version}")


# -- sections ----------------------------------------------------------------------------------


def _header(document: Doc, json_name: str) -> str:
    meta = document.get("meta", {})
    env = ", ".join(
        f"{name} {meta[key]}"
        for name, key in (
            ("Python", "python"),
            ("Node", "node"),
            ("Chromium", "chromium"),
            ("on", "platform"),
        )
        if meta.get(key)
    )
    return "\n".join(
        [
            "# SSE conformance report",
            "",
            f"Generated {meta.get('generated', '?')} by `sse-conformance report` "
            f"(suite {meta.get('suite_version', '?')}); {env}.",
            "",
            f"Rendered from `{json_name}` (sha256 `{digest(document)}`); do not edit by hand. "
            f"Re-render with `sse-conformance report --from-json {json_name} -o REPORT.md`, "
            "or re-run everything with `sse-conformance report`.",
        ]
    )


def _legend() -> str:
    words = {
        "pass": "pass",
        "fail": "a MUST rule is broken",
        "warn": "a SHOULD rule is broken",
        "info": "recorded, not judged",
        "skip": "not run (capability not declared, or not applicable)",
        "error": "the suite could not judge (crash, hang or timeout of the implementation)",
    }
    legend = "; ".join(f"{SYMBOL[k]} {v}" for k, v in words.items())
    return (
        "## Legend\n\n"
        f"{legend}; · no result. Counts read *passed/judged*; a cell shows its worst outcome. "
        "Rule IDs link to the spec; `sse-conformance rules ID` explains one."
    )


def _summary(document: Doc) -> str:
    rows = []
    for impl in document["implementations"]:
        results = _results(impl)
        if impl["status"] != "ok":
            verdict = f"not run: {escape(impl['reason'])}"
        elif any(r["outcome"] in ("fail", "error") for r in results):
            verdict = f"{SYMBOL['fail']} does not conform"
        elif not any(r["outcome"] in JUDGED for r in results):
            verdict = "nothing judged"
        else:
            verdict = f"{SYMBOL['pass']} conforms"
        rows.append(
            [
                escape(impl["name"]),
                impl["role"],
                impl["origin"],
                escape(impl.get("language", "")),
                escape(impl.get("version") or "?"),
                rate(results, "must"),
                rate(results, "should"),
                verdict,
            ]
        )
    header = ["implementation", "role", "origin", "language", "version", "MUST", "SHOULD", "verdict"]
    return "## Summary\n\n" + table(header, rows)


def _rule_link(rule_id: str, rules: dict[str, dict[str, str]]) -> str:
    rule = rules.get(rule_id)
    return f"[{rule_id}]({rule['url']})" if rule else rule_id


def _servers(document: Doc, profile: str, title: str, *prefixes: str) -> str:
    rows_data = [
        (impl, rep)
        for impl in _ran(document, "server")
        for rep in impl["reports"]
        if _profile(rep) == profile
    ]
    if not rows_data:
        return ""
    rules = catalogue(document)
    seen = {r["rule"] for _, rep in rows_data for r in rep["results"]}
    columns = sorted(
        {rid for rid in rules if rid.startswith(prefixes) and (rid.startswith("S-") or rid in seen)}
        | {rid for rid in seen if rid.startswith(prefixes)},
        key=lambda rid: _rule_order(rid, rules),
    )
    rows = []
    for impl, rep in rows_data:
        by_rule = _by(rep["results"], "rule")
        endpoint = rep.get("meta", {}).get("endpoint") or ""
        label = f"{_label(impl)} {code(endpoint)}" if endpoint else _label(impl)
        rows.append([label] + [cell(by_rule.get(rid, [])) for rid in columns])
    titles = " ".join(f"{rid} {rules[rid]['title']}." for rid in columns if rid in rules)
    return (
        f"## {title}\n\nEvery server implementation and endpoint against every rule. {escape(titles)}\n\n"
        + table(["server · endpoint"] + [_rule_link(rid, rules) for rid in columns], rows)
    )


def _group_of(document: Doc, result: Doc) -> str:
    groups = document.get("meta", {}).get("case_groups", {})
    case = result.get("case") or ""
    return groups.get(case) or (case.split("-")[0] if case else "other")


def _client_groups(document: Doc) -> str:
    clients = _ran(document, "client")
    if not clients:
        return ""
    per_client = {
        id(c): _by(({**r, "group": _group_of(document, r)} for r in _results(c)), "group") for c in clients
    }
    groups = list(OrderedDict.fromkeys(g for c in clients for g in per_client[id(c)]))
    rows = [[_label(c)] + [count_cell(per_client[id(c)].get(g, [])) for g in groups] for c in clients]
    return "## Clients by case group\n\n" + table(["client"] + [escape(g) for g in groups], rows)


def _client_rules(document: Doc) -> str:
    clients = _ran(document, "client")
    if not clients:
        return ""
    rules = catalogue(document)
    per_client = {id(c): _by(_results(c), "rule") for c in clients}
    seen = sorted(
        {rid for c in clients for rid in per_client[id(c)]}, key=lambda rid: _rule_order(rid, rules)
    )
    rows = [
        [f"{_rule_link(rid, rules)} {escape(rules[rid]['title']) if rid in rules else ''}"]
        + [count_cell(per_client[id(c)].get(rid, [])) for c in clients]
        for rid in seen
    ]
    return "## Clients by rule\n\n" + table(["rule"] + [_label(c) for c in clients], rows)


def _client_chunkings(document: Doc) -> str:
    clients = _ran(document, "client")
    per_client = {id(c): _by((r for r in _results(c) if r.get("chunking")), "chunking") for c in clients}
    chunkings = list(OrderedDict.fromkeys(k for c in clients for k in per_client[id(c)]))
    if not chunkings:
        return ""
    rows = [[_label(c)] + [count_cell(per_client[id(c)].get(k, [])) for k in chunkings] for c in clients]
    return (
        "## Clients by chunking\n\nThe same cases, with the body split into network writes differently.\n\n"
        + table(["client"] + [code(k) for k in chunkings], rows)
    )


def _interop(document: Doc) -> str:
    cells = document.get("interop") or []
    if not cells:
        return ""
    clients = list(OrderedDict.fromkeys(c["client"] for c in cells))
    by_row: OrderedDict[str, dict[str, Doc]] = OrderedDict()
    for c in cells:
        by_row.setdefault(f"{escape(c['server'])} {code(c['endpoint'])}", {})[c["client"]] = c
    rows = [
        [label] + [SYMBOL.get(row[c]["outcome"], "·") if c in row else "·" for c in clients]
        for label, row in by_row.items()
    ]
    failures = [
        f"- {escape(c['client'])} × {escape(c['server'])} {code(c['endpoint'])}: {escape(c['detail'])}"
        for c in cells
        if c["outcome"] != "pass" and c.get("detail")
    ]
    text = (
        "## Interop matrix\n\nEvery reference client against every reference server endpoint, end to end.\n\n"
        + table(["server · endpoint"] + [escape(c) for c in clients], rows)
    )
    return text + ("\n\n" + "\n".join(failures) if failures else "")


# -- details -----------------------------------------------------------------------------------


def _details(document: Doc) -> str:
    rules = catalogue(document)
    blocks = [_detail(impl, rules) for impl in document["implementations"] if impl["status"] == "ok"]
    return "## Details\n\n" + "\n\n".join(blocks) if blocks else ""


def _detail(impl: Doc, rules: dict[str, dict[str, str]]) -> str:
    results = _results(impl)
    lines = [
        f"### {escape(impl['name'])} ({impl['role']}, {impl['origin']})",
        "",
        f"Version {escape(impl.get('version') or '?')}; {escape(impl.get('language', ''))}. "
        f"MUST {rate(results, 'must')}, SHOULD {rate(results, 'should')}.",
    ]
    if impl.get("note"):
        lines += ["", escape(impl["note"])]
    groups = list(_failure_groups(results, rules))
    if not groups:
        lines += ["", "No failures."]
        return "\n".join(lines)
    lines += ["", f"{len(groups)} distinct failure(s):", ""]
    for entry in groups[:MAX_FAILURES]:
        lines.append(_failure(entry, rules))
    if len(groups) > MAX_FAILURES:
        lines.append(f"- … and {len(groups) - MAX_FAILURES} more in the results JSON.")
    return "\n".join(lines)


def _failure_groups(results: list[Doc], rules: dict[str, dict[str, str]]) -> Iterator[tuple[Doc, list[str]]]:
    """Failures that differ only by chunking collapse into one entry listing the chunkings."""
    grouped: OrderedDict[tuple[Any, ...], tuple[Doc, list[str]]] = OrderedDict()
    bad = [r for r in results if r["outcome"] in ("fail", "warn", "error")]
    order = {"error": 0, "fail": 1, "warn": 2}
    bad.sort(key=lambda r: (order[r["outcome"]], _rule_order(r["rule"], rules), r.get("case") or ""))
    for r in bad:
        key = (r["rule"], r.get("case"), r["outcome"], r.get("message"), r.get("expected"), r.get("actual"))
        entry = grouped.setdefault(key, (r, []))
        if r.get("chunking"):
            entry[1].append(r["chunking"])
    yield from grouped.values()


def _failure(entry: tuple[Doc, list[str]], rules: dict[str, dict[str, str]]) -> str:
    result, chunkings = entry
    where = escape(result.get("case") or "")
    if chunkings:
        where += f" [{escape(', '.join(chunkings))}]"
    head = f"- {SYMBOL[result['outcome']]} {_rule_link(result['rule'], rules)}"
    head += (
        f" {where}: {escape(result.get('message', ''))}"
        if where
        else f": {escape(result.get('message', ''))}"
    )
    parts = [head]
    for label in ("expected", "actual"):
        if result.get(label):
            block = fenced(str(result[label]), MAX_VALUE).replace("\n", "\n  ")
            parts.append(f"  {label}:\n  {block}")
    return "\n".join(parts)


def _unavailable(document: Doc) -> str:
    missing = [i for i in document["implementations"] if i["status"] != "ok"]
    if not missing:
        return ""
    rows = [
        [escape(i["name"]), i["role"], escape(i.get("version") or "?"), escape(i["reason"])] for i in missing
    ]
    return (
        "## Could not be installed or started\n\n"
        "Listed, not dropped: each with the reason it did not run.\n\n"
        + table(["implementation", "role", "version", "reason"], rows)
    )
