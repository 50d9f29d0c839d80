"""``--html PATH``: one self-contained page for one run (no scripts, fonts or links to fetch).

Why: CI keeps artefacts; a person opens the page and sees the verdict, the per-rule summary and
each root cause with its chunkings, whitespace made visible (the rendered text already shows
CR as ␍ and LF as ␊). It renders the same groups as ``Report.explain()``.
"""

from __future__ import annotations

import html

from .display import printable
from .explain import Group, groups, rule_summary, under
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
dt{font-weight:bold;margin-top:.4em}
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


def _group(group: Group) -> str:
    first = group.first
    rules = ", ".join(f'<a href="{escape(RULES[r].url)}">{escape(r)}</a>' if r in RULES else escape(r)
                      for r in group.rules)
    parts = [f'<section class="group" id="{html.escape(printable(group.key))}">',
             f'<h3><span class="{group.outcome.value}">{group.outcome.value.upper()}</span> '
             f"{escape(group.key)} &middot; {rules}</h3>"]
    if first.extra.get("description"):
        parts.append(f"<p>{escape(str(first.extra['description']))}</p>")
    if under(group):
        parts.append(f'<p class="under">{escape(under(group))}</p>')
    parts.append(f'<p class="message">{escape(first.message)}</p><dl>')
    for label, value in first.details():
        if label != "spec":
            parts.append(f"<dt>{escape(label)}</dt><dd><pre>{escape(value)}</pre></dd>")
    parts.append("</dl></section>")
    return "\n".join(parts)


def html_report(report: Report) -> str:
    verdict = "CONFORMS" if report.ok else "DOES NOT CONFORM"
    counts = ", ".join(f"{n} {o}" for o, n in report.summary().items() if n)
    rows = "\n".join(
        f'<tr><td><a href="{escape(RULES[r].url) if r in RULES else "#"}">{escape(r)}</a></td>'
        f'<td class="{o.value}">{o.value}</td><td>{escape(RULES[r].title if r in RULES else "")}</td>'
        f"<td>{escape(', '.join(names))}</td></tr>"
        for r, o, names in rule_summary(report))
    found = groups(report)
    body = [f"<h1>sse-conformance {escape(report.kind)}: {escape(report.target)}</h1>",
            f'<p><span class="verdict {"ok" if report.ok else "bad"}">{verdict}</span> {escape(counts)}'
            f"{' (strict)' if report.strict else ''}</p>"]
    if rows:
        body.append("<h2>Broken rules</h2><table><tr><th>rule</th><th>verdict</th><th>title</th>"
                    f"<th>cases</th></tr>{rows}</table>")
    if found:
        body.append(f"<h2>Root causes ({len(found)})</h2>")
        body += [_group(g) for g in found]
    if report.stale:
        body.append(f"<h2>Stale baseline entries</h2><p>{escape(', '.join(report.stale))}</p>")
    passed = sum(r.outcome is Outcome.PASS for r in report.results)
    body.append(f"<p>{passed} of {len(report.results)} verdicts passed.</p>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>sse-conformance {escape(report.kind)}: {escape(verdict)}</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
