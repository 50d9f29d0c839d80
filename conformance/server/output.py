"""Human output, h2spec style: one line per rule, then the evidence for what broke, then a summary."""

from __future__ import annotations

from collections.abc import Iterable

from ..causes import leader
from ..display import printable
from ..results import Outcome, Report, Result
from ..rules import RULES
from .checks.delivery import NO_RESPONSE_CAUSES
from .runner import SETTLED

SYMBOLS = {Outcome.PASS: "✔", Outcome.FAIL: "×", Outcome.WARN: "⚠", Outcome.INFO: "ℹ",
           Outcome.SKIP: "-", Outcome.ERROR: "‼", Outcome.XFAIL: "x"}
# Worst first: the verdict shown on a rule's line (xfail: a --baseline entry that still fails).
SEVERITY = (Outcome.ERROR, Outcome.FAIL, Outcome.WARN, Outcome.XFAIL, Outcome.PASS, Outcome.INFO,
            Outcome.SKIP)
DETAILED = (Outcome.ERROR, Outcome.FAIL, Outcome.WARN)


def by_rule(results: Iterable[Result]) -> dict[str, list[Result]]:
    grouped: dict[str, list[Result]] = {}
    for result in results:
        grouped.setdefault(result.rule, []).append(result)
    return grouped


def verdict(results: list[Result]) -> Outcome:
    return min((r.outcome for r in results), key=SEVERITY.index)


def header(report: Report) -> str:
    meta = report.meta
    line = (f"sse-conformance server {report.target} (profile {meta.get('profile')}, {meta.get('method')}, "
            f"{protocol(meta)})")
    if meta.get("end") == "no-response":
        return (f"{line}\n  no response: {meta.get('end_detail')}: likely {NO_RESPONSE_CAUSES}; "
                "raise --timeout to wait longer")
    if meta.get("status") is None:
        return f"{line}\n  no response: {meta.get('end_detail')}"
    moved = f"\n  redirected to {meta['redirected_to']}" if meta.get("redirected_to") else ""
    return (f"{line}{moved}\n  {meta['status']} {meta.get('http_version')}, {meta.get('body_bytes')} body "
            f"bytes in {meta.get('elapsed')} s, body end: {meta.get('end')}")


def protocol(meta: dict) -> str:
    """The HTTP version spoken, and what was asked when the server chose another."""
    asked, got = meta.get("http_asked") or "HTTP/1.1", meta.get("http_version")
    if not got or got == asked:
        return asked
    return f"{got}, asked for {asked}"


def rule_line(rule_id: str, results: list[Result]) -> str:
    outcome = verdict(results)
    rule = RULES.get(rule_id)
    level = results[0].level
    text = rule.title if rule else rule_id
    line = f"  {SYMBOLS[outcome]} {rule_id:<5} {level:<6} {outcome.value:<5} {text}"
    if outcome is Outcome.PASS:
        return line  # the title says it; the pass message is in the JSON report
    return f"{line}: {next(r for r in results if r.outcome is outcome).message}"


def details(result: Result) -> str:
    lines = [f"  {SYMBOLS[result.outcome]} {result.rule} ({result.level}) {result.message}"]
    for label, value in result.details():
        label = "seen" if label == "actual" else label
        lines.append(f"      {label + ':':<9} {value}")
    return "\n".join(lines)


def _also(results: list[Result]) -> str:
    """The verdicts one finding also breaks: a line under it, not a block each."""
    if not results:
        return ""
    named = " and ".join(f"{r.rule} ({r.level}) {r.outcome.value}" for r in results)
    return f"\n      {'also:':<9} {named} from this same finding"


def again_line(report: Report) -> list[str]:
    """The rules judged on a later observation, because the suite's reader was late during the
    reads the first verdict rested on: a pass line shows no message, so without this a verdict
    that load first made would pass unseen."""
    seen = report.meta.get("observations") or {}
    rules = seen.get("again") or []
    if not rules:
        return []
    held = {r.rule for r in report.results if r.rule in rules and r.outcome not in SETTLED}
    passed = [rule for rule in rules if rule not in held]
    late = ", ".join(f"{x:.2f}" for x in seen.get("reader_late") or [])
    return ["", f"  observed {seen.get('tries')} times (the suite's reader was late, in s: {late}): "
                f"{', '.join(rules)} judged again; passed: {', '.join(passed) or 'none'}"]


def render(report: Report) -> str:
    grouped = by_rule(report.results)
    parts = [header(report), "", *(rule_line(rule, results) for rule, results in grouped.items()),
             *again_line(report)]
    broken = [r for r in report.results if r.outcome in DETAILED]
    if broken:
        parts += ["", "Failures and warnings:", ""]
        seen_errors: dict[str, list[str]] = {}
        rules = {r.rule for r in broken if r.outcome is not Outcome.ERROR}  # errors group by message
        after: dict[str, list[Result]] = {}  # rule -> the verdicts that follow from its finding
        for result in broken:
            if (lead := leader(result, rules)) != result.rule:
                after.setdefault(lead, []).append(result)
        followers = {id(r) for found in after.values() for r in found}
        for result in broken:
            if result.outcome is Outcome.ERROR:
                seen_errors.setdefault(result.message, []).append(result.rule)
            elif id(result) not in followers:
                parts += [details(result) + _also(after.pop(result.rule, [])), ""]
        for message, rules in seen_errors.items():
            parts += [f"  {SYMBOLS[Outcome.ERROR]} {', '.join(rules)} (error) {message}", ""]
    parts.append(report.summary_line())
    return printable("\n".join(parts))  # a crashing app's or server's text is a peer's bytes
