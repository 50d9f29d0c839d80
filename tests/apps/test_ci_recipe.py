"""The CI recipe in docs/CI.md runs as written (with a test app in place of the user's)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from xml.etree import ElementTree

import pytest
from sse_apps import PAUSE

from conformance.cli import main

RECIPE = Path(__file__).resolve().parents[2] / "docs" / "CI.md"


def _commands() -> list[list[str]]:
    """Every `sse-conformance ...` command in the recipe's workflow, continuation lines joined."""
    text = RECIPE.read_text().replace("\\\n", " ")
    return [shlex.split(line.strip().split("||")[0])[1:] for line in text.splitlines()
            if line.strip().startswith("sse-conformance ")]


def test_the_recipe_checks_in_process_and_keeps_the_reports(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    (tmp_path / ".sse-baseline").write_text("# none yet\n")
    commands = _commands()
    assert len(commands) >= 3
    server = [c for c in commands if c[0] == "server" and "--profile" not in c]
    for argv in server:
        argv = ["sse_apps:wsgi_app" if a == "myproject.main:app" else a for a in argv]
        if "--json-report" in argv:  # the baseline recipe: today's failures, written once
            continue
        assert main(argv) == 0, argv
    assert (tmp_path / "reports" / "sse.xml").read_text().startswith("<?xml")
    assert "CONFORMS" in (tmp_path / "reports" / "sse.html").read_text()


def test_the_baseline_recipe_makes_a_failing_endpoint_pass_until_fixed(tmp_path, monkeypatch):
    """Both steps as written, reports and all: the check with a baseline whose entries still
    fail once crashed (issue 25: the server output had no xfail severity)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    app = {"myproject.main:app": "sse_apps:merged_app"}
    write = next(c for c in _commands() if "--json-report" in c)
    assert main([app.get(a, a) for a in write]) == 1
    check = next(c for c in _commands() if "--baseline" in c)
    assert main([app.get(a, a) for a in check]) == 0
    suite = ElementTree.parse(tmp_path / "reports" / "sse.xml").getroot()
    assert any("known failure" in (s.get("message") or "") for s in suite.iter("skipped"))
    assert "CONFORMS" in (tmp_path / "reports" / "sse.html").read_text()


def test_the_workflow_is_valid_yaml_with_artifacts_kept_on_failure():
    yaml = pytest.importorskip("yaml")  # PyYAML comes with the dev extra (litestar needs it)
    block = re.search(r"```yaml\n(.*?)```", RECIPE.read_text(), re.S).group(1)
    steps = yaml.safe_load(block)["jobs"]["sse"]["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "reports/"
    assert any("--app" in s.get("run", "") and "--junit-xml" in s["run"] for s in steps)


def test_the_junit_suite_time_is_the_runs_wall_time(tmp_path):
    """It summed the items' own times: 0.001 for a run of several seconds (issue 25)."""
    junit = tmp_path / "r.xml"
    assert main(["server", "--app", "sse_apps:asgi_app", "/slow", "-q", "--junit-xml", str(junit)]) == 0
    suite = ElementTree.parse(junit).getroot()
    assert float(suite.get("time")) >= PAUSE  # the stream alone pauses that long


def test_the_openai_step_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    step = next(c for c in _commands() if "--profile" in c)
    assert main(["sse_apps:chat_app" if a == "myproject.main:app" else a for a in step]) == 0
    suite = ElementTree.parse(tmp_path / "reports" / "sse-openai.xml").getroot()
    assert any(case.get("name", "").startswith("O-") for case in suite.iter("testcase"))
    assert "CONFORMS" in (tmp_path / "reports" / "sse-openai.html").read_text()
