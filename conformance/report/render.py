"""REPORT.md from a results document, and nothing else: a pure function, so it can be re-checked.

Sections: header, legend, summary, server rules, OpenAI-profile server rules, client groups,
client rules, chunkings, interop matrix, then the details of every implementation (pass rates
and grouped failures with expected and actual, whitespace visible) and what could not run.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from ..causes import from_docs, infer
from ..rules import RULES
from .document import digest
from .numbers import SEVERITY, Failure, chunking_order, effective, failures, row_numbers, verdict
from .tables import SYMBOL, cell, code, count_cell, escape, fenced, table

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
        _root_causes(document),
        _browser(document),
        _servers(document, "generic", "Server rules", "S-", "P-"),
        _servers(document, "openai", "OpenAI streaming profile (servers)", "O-"),
        _client_groups(document),
        _client_rules(document),
        _client_chunkings(document),
        _interop(document),
        _details(document),
        _unavailable(document),
        _notes(document),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


# -- helpers -----------------------------------------------------------------------------------


def _ran(document: Doc, role: str) -> list[Doc]:
    return [i for i in document["implementations"] if i["role"] == role and i["status"] == "ok"]


def _results(impl: Doc, profile: str | None = None) -> list[Doc]:
    """Every result of one implementation (of one profile), servers' tagged with their endpoint."""
    return [
        {**r, "endpoint": rep.get("meta", {}).get("endpoint") or ""} if impl["role"] == "server" else r
        for rep in impl["reports"]
        if profile in (None, _profile(rep))
        for r in rep["results"]
    ]


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
        f"{legend}; · no result. A MUST rule that is broken shows ❌ whatever the suite's reason "
        "(a failure, a warning about a MUST, or a crash or hang that stopped the judging). "
        "Client counts are distinct **cases**: every case runs under several chunkings (the same "
        "bytes split into network writes differently), and a case that fails under any of them "
        "counts once, with its chunkings listed. A case *fails on the bytes* when it fails "
        "unsplit (chunking `whole`); it fails *only when split* when it passes whole but not "
        "under some split (a buffering bug). Server counts are distinct **rules** over all the "
        "server's endpoints. Cells read *passed/judged* cases; a cell shows its worst outcome. "
        "Rule IDs link to the spec; `sse-conformance rules ID` explains one."
    )


VERDICTS = {
    "must": f"{SYMBOL['fail']} does not conform (a MUST is broken)",
    "should": f"{SYMBOL['warn']} every MUST holds; a SHOULD is broken",
    "conforms": f"{SYMBOL['pass']} conforms",
    "nothing": "nothing judged",
}


def _summary(document: Doc) -> str:
    rows = []
    for impl in document["implementations"]:
        if impl["status"] != "ok":
            rows.append(
                [_name(impl), impl["role"], escape(impl.get("version") or "?")]
                + ["–"] * 4
                + [f"not run: {escape(impl['reason'])}"]
            )
            continue
        n = row_numbers(impl)
        judged = f"{n.judged} {n.unit}s"
        split = f"{n.on_the_bytes} / {n.only_when_split}" if n.unit == "case" else "–"
        text = VERDICTS[verdict(impl)]
        if impl["origin"] == "browser":
            text = f"reference browser: {n.must_broken + n.should_broken} divergences (see below)"
        rows.append(
            [
                _name(impl),
                impl["role"],
                escape(impl.get("version") or "?"),
                judged,
                str(n.must_broken),
                str(n.should_broken),
                split,
                text,
            ]
        )
    header = [
        "implementation",
        "role",
        "version",
        "judged",
        "MUST broken",
        "SHOULD broken",
        "on the bytes / only when split",
        "verdict",
    ]
    return (
        "## Summary\n\n"
        "Per row, one denominator: *judged* is the distinct cases (clients) or distinct rules "
        "(servers, over all their endpoints) that got a verdict. *MUST broken* and *SHOULD "
        "broken* count distinct cases or rules with at least one broken result at that level "
        "(a case breaking both counts as MUST). For clients, the broken cases split into those "
        "that fail on the bytes and those that fail only when split.\n\n" + table(header, rows)
    )


def _name(impl: Doc) -> str:
    return f"{escape(impl['name'])} ({impl['origin']}, {escape(impl.get('language', ''))})"


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
    columns = [
        rid for rid in columns if any(r["rule"] == rid for _, rep in rows_data for r in rep["results"])
    ]
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
    chunkings = sorted({k for c in clients for k in per_client[id(c)]}, key=chunking_order)
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
        f"- {escape(c['client'])} × {escape(c['server'])} {code(c['endpoint'])}: {code(c['detail'])}"
        for c in cells
        if c["outcome"] != "pass" and c.get("detail")
    ]
    text = (
        "## Interop matrix\n\nEvery client against the main endpoint of every server, end to end: "
        "a cell passes when the client delivers the events the server meant to send (for the "
        "reference servers and proxies, what the suite's parser reads from the same endpoint). "
        "Below the table, what broke in each failing cell. Chromium is not in the matrix: its "
        "page comes from the case server, and these servers send no CORS headers, so every cell "
        "would fail on CORS, not on SSE.\n\n"
        + table(["server · endpoint"] + [escape(c) for c in clients], rows)
    )
    return text + ("\n\n" + "\n".join(failures) if failures else "")


# -- what a library author acts on -------------------------------------------------------------


def _causes(impl: Doc, rules: dict[str, dict[str, str]]) -> list[tuple[str, list[Failure]]]:
    """Broken rules of one implementation, each with its failing cases, most cases first."""
    by_rule: OrderedDict[str, list[Failure]] = OrderedDict()
    key = "case" if impl["role"] == "client" else "endpoint"
    for f in failures(_results(impl), key=key):
        by_rule.setdefault(f.rule, []).append(f)
    severity = ("error", "fail", "warn").index
    return sorted(
        by_rule.items(),
        key=lambda kv: (
            -len({f.case for f in kv[1]}),
            min(severity(f.outcome) for f in kv[1]),
            _rule_order(kv[0], rules),
        ),
    )


def _folded(names: list[str], shown: int = 8) -> str:
    """The first names, escaped, and how many more."""
    more = f", … (+{len(names) - shown})" if len(names) > shown else ""
    return ", ".join(escape(n) for n in names[:shown]) + more


def _cause_line(rule: str, found: list[Failure], rules: dict[str, dict[str, str]], role: str) -> str:
    title = escape(rules[rule]["title"]) if rule in rules else ""
    cases = sorted({f.case for f in found if f.case})
    split = sum(f.only_when_split for f in found)
    where = f"only when split in {split} of them" if split else "on the bytes"
    shown = _folded(cases)
    worst = SYMBOL[min((f.outcome for f in found), key=("error", "fail", "warn").index)]
    unit = "case" if role == "client" else "endpoint"
    count = f"{len(cases)} {unit}{'s' if len(cases) != 1 else ''}"
    where = f" ({where})" if role == "client" else ""
    return f"{worst} {_rule_link(rule, rules)} {title}: {count}{where}: {shown}"


def _root_causes(document: Doc) -> str:
    rules = catalogue(document)
    blocks = []
    for impl in document["implementations"]:
        if impl["status"] != "ok" or impl["origin"] in ("reference", "browser"):
            continue
        if impl["role"] == "client":
            lines = _client_cause_lines(impl, rules)
        else:
            causes = _causes(impl, rules)
            lines = [f"{i}. {_cause_line(rule, found, rules, impl['role'])}"
                     for i, (rule, found) in enumerate(causes[:8], 1)]
            if len(causes) > 8:
                lines.append(f"   … and {len(causes) - 8} more rules in the details.")
        if lines:
            blocks.append(f"**{escape(impl['name'])}** ({impl['role']})\n\n" + "\n".join(lines))
    if not blocks:
        return ""
    return (
        "## Root causes per implementation\n\n"
        "Clients: the fewest causes that explain the failures (docs/causes.md), most cases first, "
        "each with its fix; a failure no cause explains is listed on its own. Servers: each broken "
        "rule, ranked by how many endpoints it breaks. This is the list to act on.\n\n"
        + "\n\n".join(blocks)
    )


MAX_CAUSES = 8  # per implementation; the JSON has all of them


def _client_cause_lines(impl: Doc, rules: dict[str, dict[str, str]]) -> list[str]:
    """One line per cause (``conformance.causes.infer``, the same as the CLI and JSON show)."""
    causes = infer(from_docs(_results(impl)))
    lines = []
    for number, cause in enumerate(causes[:MAX_CAUSES], 1):
        title = escape(rules[cause.rule]["title"]) if cause.rule in rules else ""
        what = f": {'mishandles ' if cause.inferred else ''}{escape(cause.what)}" if cause.what else ""
        alone = "" if cause.inferred else " (on its own: no cause shared with another failure)"
        cases = cause.cases
        shown = _folded(cases)
        worst = SYMBOL[effective({"outcome": cause.outcome.value, "level": cause.level})]
        count = f"{len(cases)} case{'s' if len(cases) != 1 else ''}"
        fix = f" Fix: {escape(cause.fix)}" if cause.fix else ""
        lines.append(f"{number}. {worst} {_rule_link(cause.rule, rules)} {title}{what}{alone}: "
                     f"{count}: {shown}.{fix}")
    if len(causes) > MAX_CAUSES:
        lines.append(f"   … and {len(causes) - MAX_CAUSES} more causes in the results JSON.")
    return lines


def _browser(document: Doc) -> str:
    """Chromium is the reference browser: where it parts from the cases, and the known reasons."""
    documented = document.get("meta", {}).get("divergences", {})
    rules = catalogue(document)
    blocks = []
    for impl in document["implementations"]:
        if impl["origin"] != "browser" or impl["status"] != "ok":
            continue
        rows = []
        for f in failures(_results(impl)):
            reason = documented.get(f.case, {}).get(_browser_key(impl))
            why = (
                escape(reason)
                if reason
                else "not documented in the case: " + escape(str(f.results[0].get("message", ""))[:200])
            )
            chunks = escape(", ".join(f.chunkings)) if f.chunkings else "–"
            rows.append([escape(f.case), _rule_link(f.rule, rules), chunks, why])
        body = table(["case", "rule", "chunkings", "why Chromium differs"], rows) if rows else "None."
        blocks.append(f"### {_label(impl)}\n\n{body}")
    if not blocks:
        return ""
    return (
        "## The browser as reference\n\n"
        "Chromium's EventSource is what most SSE traffic meets, so it is the reference, not a "
        "row to grade: below is every case where it parts from the spec's expectations, with the "
        "reason recorded in the case (`divergences`), or the message when no reason is recorded.\n\n"
        + "\n\n".join(blocks)
    )


def _browser_key(impl: Doc) -> str:
    return impl["name"].split()[0].lower()


def _notes(document: Doc) -> str:
    from .hangs import explained, timeouts

    lines = [f"- {escape(n)}" for n in document.get("meta", {}).get("notes") or []]
    found = timeouts(i for i in document["implementations"] if i["status"] == "ok")
    if found:
        lines.append(
            "- Verdicts that met a case's deadline (the client was still going, with no fact to "
            "end its run), checked by hand (why each is a real hang):"
        )
    for name, cases in found.items():
        by_why: OrderedDict[str, list[str]] = OrderedDict()
        for case in cases:
            by_why.setdefault(explained(name, case) or "not explained yet (see hangs.toml)", []).append(case)
        for why, listed in by_why.items():
            lines.append(
                f"  - {escape(name)}, {len(listed)} case(s) ({escape(', '.join(listed))}): {escape(why)}"
            )
    return "## Notes\n\n" + "\n".join(lines) if lines else ""


# -- details -----------------------------------------------------------------------------------


def _details(document: Doc) -> str:
    rules = catalogue(document)
    blocks = [_detail(impl, rules) for impl in document["implementations"] if impl["status"] == "ok"]
    return "## Details\n\n" + "\n\n".join(blocks) if blocks else ""


def _detail(impl: Doc, rules: dict[str, dict[str, str]]) -> str:
    results = _results(impl)
    n = row_numbers(impl)
    lines = [
        f"### {escape(impl['name'])} ({impl['role']}, {impl['origin']})",
        "",
        f"Version {escape(impl.get('version') or '?')}; {escape(impl.get('language', ''))}. "
        f"{n.judged} {n.unit}s judged; MUST broken in {n.must_broken}, SHOULD broken in {n.should_broken}.",
    ]
    if impl.get("note"):
        lines += ["", escape(impl["note"])]
    groups = _failure_groups(results, rules)
    if not groups:
        lines += ["", "No failures."]
        return "\n".join(lines)
    lines += ["", f"{len(groups)} distinct failure(s):", ""]
    for entry in groups[:MAX_FAILURES]:
        lines.append(_failure(entry, rules))
    if len(groups) > MAX_FAILURES:
        lines.append(f"- … and {len(groups) - MAX_FAILURES} more in the results JSON.")
    return "\n".join(lines)


def _failure_groups(results: list[Doc], rules: dict[str, dict[str, str]]) -> list[Failure]:
    """The distinct failures the row counts (one per rule and case, the chunkings listed), worst
    first; a message that carries a time or a count differs by chunking, so it cannot split one."""
    found = failures(results)
    found.sort(key=lambda f: (SEVERITY[f.outcome], _rule_order(f.rule, rules), f.case))
    return found


def _failure(entry: Failure, rules: dict[str, dict[str, str]]) -> str:
    result = next(r for r in entry.results if effective(r) == entry.outcome)  # the worst shown
    where = escape(entry.case)
    if entry.chunkings:
        where += f" [{escape(', '.join(entry.chunkings))}]"
    message = escape(result.get("message", ""))
    others = len({r.get("message") for r in entry.results}) - 1
    if others:
        message += f" (and {others} other message(s) in the results JSON)"
    head = f"- {SYMBOL[entry.outcome]} {_rule_link(entry.rule, rules)}"
    head += f" {where}: {message}" if where else f": {message}"
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
