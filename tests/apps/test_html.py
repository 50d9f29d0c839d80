"""``--html PATH``: a self-contained page, opened in headless Chromium to check what it shows."""

from __future__ import annotations

import os
import re
import subprocess
from html import unescape

import pytest

from conformance.cli import main
from conformance.report.browser import CHROMIUM_FLAGS, chromium_path

# CI installs Chromium (.ci/run), so there a missing browser fails instead of skipping.
needs_chromium = pytest.mark.skipif(
    chromium_path() is None and not os.environ.get("CI"),
    reason="chromium is not installed: run scripts/install-chromium",
)


def _page(tmp_path, *argv):
    path = tmp_path / "report.html"
    main([*argv, "-q", "--html", str(path)])
    return path


def test_the_page_is_self_contained(tmp_path):
    text = _page(tmp_path, "server", "--app", "sse_apps:merged_app", "/events").read_text()
    assert not re.search(r"<(script|link|img|iframe)\b|@import|url\(", text)
    assert "DOES NOT CONFORM" in text and "S-09" in text


@needs_chromium
def test_chromium_shows_verdict_groups_and_visible_whitespace(tmp_path):
    path = _page(tmp_path, "server", "--app", "sse_apps:merged_app", "/events")
    assert chromium_path(), "CI must install chromium (scripts/install-chromium)"
    done = subprocess.run([chromium_path(), *CHROMIUM_FLAGS, "--dump-dom", path.as_uri()],
                          capture_output=True, text=True, timeout=120)
    dom = unescape(done.stdout)
    assert "DOES NOT CONFORM" in dom and "Broken rules" in dom and "Root causes (1)" in dom
    lf = '<abbr class="cc" title="U+000A line feed">LF</abbr>'  # no Debian font has ␊ (issue 25)
    assert f"id: 1{lf}data: a{lf}id: 2" in dom  # decoded as UTF-8: the whitespace marks survive
    assert 'class="verdict bad"' in dom
