"""The HTML pages show CR, LF and NUL as boxed labels: Debian ships no font with the control
pictures (␊ was a missing-glyph box in Chromium, issue 25)."""

import re

from conformance.display import visible
from conformance.html import html_report
from conformance.report.html import to_html
from conformance.results import Outcome, Report, Result

PICTURES = re.compile("[\u2400-\u2426]")


def _shown(page: str) -> str:
    """The text a browser draws: tags and their attributes left out."""
    return re.sub(r"<[^>]*>", "", page)


def _page() -> str:
    wrong = Result("C-08", Outcome.FAIL, "a line ended by CR alone was not ended", case="LE-001",
                   chunking="whole", expected=visible("cr\r\n"), actual=visible("cr\x00\n"))
    error = Result("C-08", Outcome.ERROR, "the client crashed: raised X: bad\rline")
    return html_report(Report(kind="client", target="x", results=[wrong, error]))


def test_the_run_page_uses_no_control_picture():
    page = _page()
    assert not PICTURES.search(_shown(page))
    for label in ("LF", "CR", "NUL"):
        assert '<abbr class="cc" title="U+' in page and f">{label}</abbr>" in page


def test_a_group_id_stays_an_attribute_value():
    assert re.search(r'id="error: the client crashed: raised X: bad\u240dline"', _page())


def test_the_report_page_uses_no_control_picture():
    page = to_html("| case | sent |\n|---|---|\n| LE-001 | `data: x␍␊␀` |\n")
    assert not PICTURES.search(_shown(page)) and page.count('class="cc"') == 3
