"""``--html PATH``: one self-contained page for one run (no scripts, fonts or links to fetch).

Why: CI keeps artefacts; a person opens the page and sees the verdict and what to fix, whitespace
made visible (the rendered text already shows CR as ␍ and LF as ␊). A client page shows the same
causes as the terminal, JSON ``causes`` and JUnit (``conformance.causes``): one block per cause,
its cases folded into a count that opens (``<details>``, no script), then the failures no cause
explains, then the per-rule table. A server page shows one entry per broken rule.
"""

from __future__ import annotations

import html

from .causes import Cause, Item, Rerun, infer, rerun_for
from .display import printable
from .explain import (
    Group,
    cause_count,
    cause_head,
    folded,
    groups,
    outside_select,
    rule_summary,
    split_causes,
    under,
    unexplained_groups,
)
from .results import Outcome, Report
from .rules import RULES

__all__ = ["html_report", "marked"]

# The control pictures the escaped text uses, which no font on a stock Debian has (Chromium
# drew a missing-glyph box): shown as a small boxed label instead, named in full on hover.
MARKS = {"␀": ("NUL", "U+0000 NUL"), "␊": ("LF", "U+000A line feed"), "␍": ("CR", "U+000D carriage return")}
MARK_STYLE = ".cc{font:.72em system-ui,sans-serif;border:1px solid #999;border-radius:2px;padding:0 .12em;" \
             "margin:0 .05em;text-decoration:none;color:#555}"

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#1b1b1b}
h1{font-size:1.4em} .verdict{font-weight:bold;padding:.2em .5em;border-radius:4px}
.ok{background:#d9f2dc;color:#0b5d1e} .bad{background:#fbdada;color:#8a1010}
table{border-collapse:collapse;margin:1em 0} td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
td:first-child{white-space:nowrap} pre{font-family:"DejaVu Sans Mono",monospace}
.fail,.error{color:#8a1010;font-weight:bold} .warn{color:#8a5a00;font-weight:bold} .xfail{color:#555}
section{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap;word-break:break-all;margin:.2em 0}
dt{font-weight:bold;margin-top:.4em} summary{cursor:pointer} details ul{margin:.3em 0}
""" + MARK_STYLE


def marked(page: str) -> str:
    """``page`` (HTML) with each control picture as a boxed label that needs no special font."""
    for char, (label, name) in MARKS.items():
        page = page.replace(char, f'<abbr class="cc" title="{name}">{label}</abbr>')
    return page


def escape(text: str) -> str:
    """HTML-escaped and printable: a raw ESC or BEL from a peer's crash text is shown, not kept;
    control pictures are boxed labels."""
    return marked(html.escape(printable(text)))


def _rule_link(rule: str) -> str:
    return f'<a href="{escape(RULES[rule].url)}">{escape(rule)}</a>' if rule in RULES else escape(rule)


def _details(pairs: list[tuple[str, str]]) -> str:
    """A result's explanation as a definition list, each value escaped in a <pre>."""
    rows = "".join(f"<dt>{escape(label)}</dt><dd><pre>{escape(value)}</pre></dd>" for label, value in pairs)
    return f"<dl>{rows}</dl>"


def _case_list(cause: Cause) -> str:
    """What a cause's folded count opens onto: each case, the chunkings it failed under, its message."""
    by_case: dict[str, list[Item]] = {}
    for item in cause.items:
        by_case.setdefault(item.case, []).append(item)
    return "".join(f"<li><code>{escape(case)}</code> {escape(', '.join(i.chunking or '' for i in items))}: "
                   f"{escape(items[0].broken[0].message)}</li>" for case, items in by_case.items())


def _cause(number: int, cause: Cause, rerun: Rerun | None) -> str:
    """One cause: its rule linked, what the client mishandles, its cases folded into a count that
    opens onto each case with its chunkings, the smallest failure in full, the fix, the re-run."""
    named, what = cause_head(cause)
    outcome = cause.outcome.value
    head = (f"{_rule_link(named)} " if named else "") + escape(what)
    first = cause.evidence_result()
    description = first.extra.get("description")
    sent = "sent" if first.case else "evidence"
    pairs = [(sent if label == "evidence" else label, value) for label, value in first.details()
             if label not in ("fix", "spec")]
    again = rerun(first.case, first.chunking) if first.case and rerun else ""
    pairs += [(label, value) for label, value in (("fix", cause.fix), ("re-run", again)) if value]
    spec = RULES[cause.rule].url if named and cause.rule in RULES else ""  # one error: no rule to read
    parts = [f'<section class="cause" id="cause-{number}">',
             f'<h3><span class="{outcome}">{outcome.upper()}</span> Cause {number}: {head}</h3>',
             f"<details><summary>{escape(f'{cause_count(cause)}: {folded(cause.cases)}')}</summary>"
             f"<ul>{_case_list(cause)}</ul></details>",
             f'<p class="under">smallest: {escape(first.name)}'
             + (f" &middot; {escape(str(description))}" if description else "") + "</p>",
             f'<p class="message">{escape(first.message)}</p>', _details(pairs)]
    if spec:
        parts.append(f'<p>spec: <a href="{escape(spec)}">{escape(spec)}</a></p>')
    if cause.contradicted:
        parts.append(f"<p>{cause.contradicted} passing item(s) exercise the same behaviour: it fails only "
                     "in some of them.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _client_causes(report: Report) -> list[str]:
    """The causes as blocks, then each failure no cause explains (as the terminal shows them)."""
    inferred, alone = split_causes(infer(report.results))
    rerun = rerun_for(report.target, report.meta)
    body = []
    if inferred:
        failures = sum(len(c.items) for c in inferred)
        body.append(f"<h2>Causes ({len(inferred)})</h2><p>{len(inferred)} cause(s) explain {failures} "
                    "failing item(s) (a case under one chunking).</p>")
        body += [_cause(n, c, rerun) for n, c in enumerate(inferred, 1)]
    unexplained = unexplained_groups(report, alone) if alone else []
    if unexplained:
        body.append(f"<h2>Failures no cause explains ({len(unexplained)})</h2>")
        body += [_group(g, rerun) for g in unexplained]
    return body


def _group(group: Group, rerun: Rerun | None = None) -> str:
    first = group.first
    rules = ", ".join(_rule_link(r) for r in group.rules)
    parts = [f'<section class="group" id="{html.escape(printable(group.key))}">',
             f'<h3><span class="{group.outcome.value}">{group.outcome.value.upper()}</span> '
             f"{escape(group.key)} &middot; {rules}</h3>"]
    if first.extra.get("description"):
        parts.append(f"<p>{escape(str(first.extra['description']))}</p>")
    if under(group):
        parts.append(f'<p class="under">{escape(under(group))}</p>')
    pairs = [(label, value) for label, value in first.details() if label != "spec"]
    if rerun is not None and first.case:
        pairs.append(("re-run", rerun(first.case, first.chunking)))
    parts += [f'<p class="message">{escape(first.message)}</p>', _details(pairs), "</section>"]
    return "\n".join(parts)


def _outside(report: Report) -> str:
    """Broken verdicts outside --select: noted, not gating (as the terminal notes them)."""
    outside = outside_select(report)
    if not outside:
        return ""
    rows = "".join(f"<li>{escape(r.extra['outside_select'].upper())} {_rule_link(r.rule)} {escape(r.name)}: "
                   f"{escape(r.message)}</li>" for r in outside)
    return ("<h2>Noted outside --select</h2><p>Not gating; run without --select to judge them.</p>"
            f"<ul>{rows}</ul>")


# Above a client's rule table: one bug breaks several rules its cases list (lf_only: five).
ACROSS_CAUSES = "<p>Every rule a failing case lists; the causes above say which behaviour differs.</p>"


def html_report(report: Report) -> str:
    verdict = "CONFORMS" if report.ok else "DOES NOT CONFORM"
    counts = ", ".join(f"{n} {o}" for o, n in report.summary().items() if n)
    rows = "\n".join(
        f'<tr><td><a href="{escape(RULES[r].url) if r in RULES else "#"}">{escape(r)}</a></td>'
        f'<td class="{o.value}">{o.value}</td><td>{escape(RULES[r].title if r in RULES else "")}</td>'
        f"<td>{escape(', '.join(names))}</td></tr>"
        for r, o, names in rule_summary(report))
    body = [f"<h1>sse-conformance {escape(report.kind)}: {escape(report.target)}</h1>",
            f'<p><span class="verdict {"ok" if report.ok else "bad"}">{verdict}</span> {escape(counts)}'
            f"{' (strict)' if report.strict else ''}</p>"]
    client = report.kind == "client"
    table = (f"<h2>Broken rules</h2>{ACROSS_CAUSES if client else ''}<table><tr><th>rule</th><th>verdict</th>"
             f"<th>title</th><th>cases</th></tr>{rows}</table>") if rows else ""
    if client:  # what to fix first; every broken rule after it
        body += [*_client_causes(report), table]
    else:
        body.append(table)
        found = groups(report)
        if found:
            body.append(f"<h2>Root causes ({len(found)})</h2>")
            body += [_group(g) for g in found]
    body.append(_outside(report))
    if report.stale:
        body.append(f"<h2>Stale baseline entries</h2><p>{escape(', '.join(report.stale))}</p>")
    passed = sum(r.outcome is Outcome.PASS for r in report.results)
    body.append(f"<p>{passed} of {len(report.results)} verdicts passed.</p>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>sse-conformance {escape(report.kind)}: {escape(verdict)}</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
