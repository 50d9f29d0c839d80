"""REPORT.html beside REPORT.md: the same Markdown rendered to HTML, for browsing the failures.

One source of truth (the Markdown), so the two can never say different things; markdown-it
with tables, and a small stylesheet with sticky table headers for the wide matrices.
"""

from __future__ import annotations

import html

from ..html import MARK_STYLE, marked

__all__ = ["to_html"]

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; }
th { background: #f4f4f4; position: sticky; top: 0; }
pre { background: #f6f8fa; padding: 6px; overflow-x: auto; }
code { font-size: 90%; }
""" + MARK_STYLE


def to_html(markdown: str, title: str = "SSE conformance report") -> str:
    """A standalone HTML page of ``markdown`` (raw HTML in the input is escaped, never run)."""
    from markdown_it import MarkdownIt

    body = marked(MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown))
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>\n{body}</body></html>\n"
    )
