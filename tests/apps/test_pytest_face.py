"""The pytest face as a pytest user meets it: counts, --collect-only, re-runnable node ids,
-k by rule ID, JUnit shape, warnings at the item, gates, and silence when not asked."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

HERE = Path(__file__).resolve().parent
APP = ["--sse-app", "sse_apps:merged_app", "--sse-server", "/events"]


def pytest_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "--rootdir",
         str(tmp_path), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(HERE)},
    )


def _counts(out: str) -> tuple[int, int, int]:
    found = re.search(r"collected (\d+) items? / (\d+) deselected / (\d+) selected", out)
    assert found, out
    return tuple(map(int, found.groups()))


def test_collection_counts_add_up(tmp_path):
    done = pytest_run(tmp_path, *APP, "-k", "S-09")
    collected, deselected, selected = _counts(done.stdout)
    assert selected == 1 and collected == deselected + 1 and collected > 20, done.stdout
    assert done.returncode == 1 and "1 failed" in done.stdout


def test_collect_only_lists_and_counts_the_items(tmp_path):
    done = pytest_run(tmp_path, *APP, "--collect-only", "-q")
    ids = [line for line in done.stdout.splitlines() if line.startswith("sse-conformance::")]
    assert "sse-conformance::server::serving::S-09" in ids
    assert f"{len(ids)} tests collected" in done.stdout and done.returncode == 0


def test_a_printed_node_id_reruns_that_item(tmp_path):
    first = pytest_run(tmp_path, *APP, "-rf")
    failed = re.findall(r"^FAILED (\S+)", first.stdout, re.M)
    assert failed == ["sse-conformance::server::serving::S-09"], first.stdout
    again = pytest_run(tmp_path, *APP, failed[0])
    assert re.search(r"collected \d+ items? .*\n.*1 failed in", again.stdout) or "1 failed in" in again.stdout
    assert "passed" not in again.stdout.splitlines()[-1]
    short = pytest_run(tmp_path, *APP, "sse-conformance::S-09", "sse-conformance::S-01")
    assert "1 failed, 1 passed" in short.stdout, short.stdout


def test_junit_has_target_families_json_properties(tmp_path):
    junit = tmp_path / "j.xml"
    pytest_run(tmp_path, *APP, f"--junitxml={junit}")
    root = ElementTree.parse(junit).getroot()
    props = {p.get("name"): p.get("value") for p in root.find("testsuite").find("properties")}
    assert props["sse-conformance-server-target"] == "sse_apps:merged_app /events"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["S-09"].get("classname") == "sse-conformance.server.serving"
    assert cases["P-01"].get("classname") == "sse-conformance.server.pitfalls"
    result = next(p.get("value") for p in cases["S-09"].iter("property") if p.get("name") == "result")
    assert json.loads(result)["outcome"] == "fail"


def test_should_warnings_point_at_the_item(tmp_path):
    done = pytest_run(tmp_path, "--sse-app", "sse_apps:no_cache_header_app", "--sse-server", "/events")
    out = done.stdout
    assert done.returncode == 0 and "SSEConformanceWarning: S-03 (should):" in out, out
    assert "sse-conformance::server::serving::S-03" in out.split("warnings summary")[1]
    assert "plugin.py" not in out and "S-03 S-03" not in out


def test_strict_select_and_baseline(tmp_path):
    strict = pytest_run(tmp_path, "--sse-app", "sse_apps:no_cache_header_app", "--sse-server", "/events",
                        "--sse-strict", "--sse-select", "S-0*")
    assert strict.returncode == 1 and "1 failed, 6 passed, 2 skipped" in strict.stdout, strict.stdout
    (tmp_path / "known.txt").write_text("S-09\nS-21\n")
    base = pytest_run(tmp_path, *APP, "--sse-baseline", "known.txt")
    assert base.returncode == 0 and "1 xfailed" in base.stdout, base.stdout
    assert "stale baseline entries" in base.stdout and "S-21" in base.stdout.split("stale baseline")[1]
    typo = pytest_run(tmp_path, *APP, "--sse-select", "FI-*")
    assert typo.returncode == 4 and "matches no rule or case" in typo.stderr


def test_the_plugin_imports_nothing_heavy_until_asked(tmp_path):
    (tmp_path / "test_light.py").write_text(
        "import sys\n"
        "def test_light():\n"
        "    heavy = {'aiohttp', 'httpx', 'conformance.server', 'conformance.client', 'hypothesis'}\n"
        "    assert not heavy & set(sys.modules), heavy & set(sys.modules)\n")
    done = pytest_run(tmp_path, "-q", "-p", "no:hypothesispytest")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sse-conformance" not in done.stdout.lower()
