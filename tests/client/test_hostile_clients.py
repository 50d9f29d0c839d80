"""Hostile clients (issue 25): what a client prints or raises cannot reach the reader raw, its
processes cannot outlive its case, and its memory is bounded."""

import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hostile_clients import NASTY

from conformance.cli import main

HERE = Path(__file__).resolve().parent
RAW = ("\x1b", "\x07", "\r")


@pytest.fixture
def cli(capsys):
    def run(*args):
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _script(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return f"{sys.executable} {path}"


def _crash_texts(tmp_path: Path) -> dict[str, list[str]]:
    """Two clients that crash with terminal codes: as a Python exception, as a command's stderr."""
    cmd = _script(tmp_path, "crash.py", f"import sys\nsys.stderr.write({NASTY!r})\nsys.exit(3)\n")
    return {"callable": ["hostile_clients:raises_terminal_codes"], "cmd": ["--cmd", cmd + " {url}"]}


@pytest.mark.parametrize("kind", ["callable", "cmd"])
def test_crash_text_is_escaped_on_the_terminal_and_in_the_reports(cli, tmp_path, kind):
    junit, html = tmp_path / "r.xml", tmp_path / "r.html"
    code, out, err = cli("client", *_crash_texts(tmp_path)[kind], "-k", "LE-001", "--chunking", "whole",
                         "--junit-xml", str(junit), "--html", str(html))
    assert code == 1, out + err
    assert "crashed" in out and "\\x1b[2J\\x1b]0;pwned\\x07 then␍over" in out
    assert not any(c in out + err for c in RAW), repr(out + err)
    failure = ElementTree.parse(junit).getroot().find("testcase/error")  # well-formed XML
    assert "\\x1b[2J" in failure.get("message")
    page = html.read_text()
    assert "\\x1b[2J" in page and not any(c in page for c in RAW)


def test_a_harness_error_string_is_escaped(cli, tmp_path):
    harness = _script(tmp_path, "harness.py", "import json\nprint(json.dumps("
                      f"{{'ready': False, 'error': {NASTY!r}}}), flush=True)\ninput()\n")
    code, out, err = cli("client", "--harness", harness, "-k", "LE-001", "--chunking", "whole")
    assert code == 2 and "pwned" in err, out + err
    assert not any(c in out + err for c in RAW), repr(out + err)
