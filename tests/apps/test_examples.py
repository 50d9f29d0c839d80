"""The copyable example in docs/examples runs as a user's own test file, and explains failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "test_sse_endpoint.py"


def _pytest(path: Path, cwd: Path) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q", str(path),
            "--rootdir", str(cwd)]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_example_passes_as_it_is(tmp_path):
    copy = tmp_path / "test_copy.py"
    copy.write_text(EXAMPLE.read_text())
    done = _pytest(copy, tmp_path)
    assert done.returncode == 0 and "3 passed" in done.stdout, done.stdout + done.stderr


def test_a_broken_endpoint_fails_with_the_explanation(tmp_path):
    copy = tmp_path / "test_copy.py"
    no_blank_line = ('yield f"id: {i}\\ndata: tick {i}\\n\\n"', 'yield f"id: {i}\\ndata: tick {i}\\n"')
    broken = EXAMPLE.read_text().replace(*no_blank_line)
    assert broken != EXAMPLE.read_text()
    copy.write_text(broken)
    done = _pytest(copy, tmp_path)
    assert done.returncode == 1 and "2 failed, 1 passed" in done.stdout, done.stdout
    assert "AssertionError: Broken rules:" in done.stdout
    assert "FAIL S-09 (must)" in done.stdout and "fix:" in done.stdout
    # raise_for_failures starts with the summary line, naming the app by its variable
    assert "NonConformance: server test_copy:app /events: DOES NOT CONFORM" in done.stdout
