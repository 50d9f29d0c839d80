"""The main job: the server half of selftest against the real reference servers."""

import json

from conformance.cli import main


def test_selftest_servers_conform_and_end_in_one_verdict(tmp_path, capsys):
    path = tmp_path / "selftest.json"
    assert main(["selftest", "--servers-only", "--json-report", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("selftest: ALL CONFORM: 22 runs, ")
    reports = json.loads(path.read_text())
    assert len(reports) == 22 and all(r["ok"] and r["kind"] == "server" for r in reports)
    assert len({r["target"].split("/")[2] for r in reports}) == 2  # both servers


def test_selftest_reports_a_problem_instead_of_conforming(monkeypatch, capsys):
    """A failing run must flip the verdict and the exit code (the selftest cannot only pass)."""
    from conformance import selftest
    from conformance.results import Outcome, Report, Result

    def broken(url, endpoint):
        return Report("server", url, [Result("S-09", Outcome.FAIL, "unterminated final event")])

    monkeypatch.setattr(selftest, "_check_endpoint", broken)
    assert main(["selftest", "--servers-only"]) == 1
    out = capsys.readouterr().out
    assert "S-09 fail: unterminated final event" in out
    assert out.strip().splitlines()[-1].startswith("selftest: PROBLEMS FOUND: 22 runs, 0 passed, 22 failed")
