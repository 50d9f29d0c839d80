"""The faces: the ``client`` CLI (exit codes, outputs), ``serve-cases``, and the pytest face."""

import json
import shlex
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from conformance.cli import main

HERE = Path(__file__).resolve().parent


class Done:
    def __init__(self, returncode, captured):
        self.returncode, self.stdout, self.stderr = returncode, captured.out, captured.err


@pytest.fixture
def cli(capsys):
    """``sse-conformance ARGS`` in this process (naive_clients is importable from here)."""

    def run(*args):
        code = main(list(args))
        return Done(code, capsys.readouterr())

    return run


def test_the_console_script_reports_usage_errors_in_one_line():
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "client", "nosuchmodule:x"],
        cwd=HERE, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "cannot import" in done.stderr


def test_a_conforming_client_exits_0_and_writes_json_and_junit(cli, tmp_path):
    json_path, junit_path = tmp_path / "r.json", tmp_path / "r.xml"
    done = cli(
        "client", "naive_clients:good_client", "-k", "LE-00", "--chunking", "whole",
        "--json-report", str(json_path), "--junit-xml", str(junit_path),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CONFORMS" in done.stdout.splitlines()[-1]
    report = json.loads(json_path.read_text())
    assert report["target"] == "naive_clients:good_client" and report["ok"] is True
    first = report["results"][0]
    assert {"rule", "case", "chunking", "level", "outcome", "message"} <= set(first)
    assert first["outcome"] in {"pass", "fail", "warn", "info", "skip", "error"}
    suite = ElementTree.parse(junit_path).getroot()
    assert int(suite.get("tests")) == len(report["results"]) and suite.get("failures") == "0"


def test_each_json_result_carries_the_command_the_terminal_prints_and_it_reruns_just_that_item(
        cli, tmp_path):
    from conformance.schema import validate_report

    path = tmp_path / "r.json"
    done = cli("client", "naive_clients:naive_lf_only", "-k", "LE-00", "--chunking", "whole",
               "--chunking", "2-byte", "--json-report", str(path))
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(path.read_text())
    validate_report(report)
    reruns = {(r["case"], r["chunking"]): r["rerun"] for r in report["results"]}
    assert reruns[("LE-003", "2-byte")] == "sse-conformance client naive_clients:naive_lf_only -k LE-003 " \
        "--chunking 2-byte -v"
    printed = [line.split("re-run:", 1)[1].strip() for line in done.stdout.splitlines() if "re-run:" in line]
    assert printed and set(printed) <= set(reruns.values())  # the same function built both
    failed = next(r for r in report["results"] if r["outcome"] == "fail")
    again = tmp_path / "again.json"
    argv = shlex.split(failed["rerun"])
    assert argv[0] == "sse-conformance"
    assert cli(*argv[1:], "--json-report", str(again)).returncode == 1
    items = {(r["case"], r["chunking"]) for r in json.loads(again.read_text())["results"]}
    assert items == {(failed["case"], failed["chunking"])}


def test_a_command_client_of_the_report_reruns_with_its_cmd_and_capabilities(cli, tmp_path):
    """REPORT.json's re-runs named a command client like a module:callable (no --cmd: exit 2),
    without the capabilities its row declares: the runner names every target as the command
    line takes it, whichever face ran it; one the command line cannot name gets no re-run."""
    from conformance.client.runner import run_client_suite
    from conformance.client.targets import CommandTarget

    command = f"{sys.executable} {Path(__file__).with_name('cmd_client.py')} {{url}} notify-silent"
    target = CommandTarget(command, capabilities=frozenset({"notifications"}))  # as a report row builds it
    report = run_client_suite(target, pattern="NT-004", chunkings=["whole"]).to_json()
    failed = next(r for r in report["results"] if r["outcome"] == "fail")
    named = f"sse-conformance client --cmd {shlex.quote(command)} --capability notifications"
    assert failed["rerun"] == f"{named} -k NT-004 --chunking whole -v"
    again = tmp_path / "again.json"
    assert cli(*shlex.split(failed["rerun"])[1:], "--json-report", str(again)).returncode == 1
    assert [r["outcome"] for r in json.loads(again.read_text())["results"] if r["rule"] == failed["rule"]] \
        == ["fail"]
    unnamed = run_client_suite(lambda url, **_: iter(()), pattern="LE-001", chunkings=["whole"]).to_json()
    assert not any("rerun" in r for r in unnamed["results"])
    # the one-item trace (-v) prints the same re-run: it named the command like a module:callable
    traced = cli(*shlex.split(failed["rerun"])[1:])
    assert f"re-run:   {failed['rerun']}" in traced.stdout, traced.stdout


def test_a_broken_client_exits_1_and_explains_each_failure(cli):
    done = cli("client", "naive_clients:naive_lf_only", "-k", "LE-00", "--chunking", "whole", "-q")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "smallest: LE-00" in out and "C-08 (must)" in out and "re-run:" in out
    assert "expected:" in out and "actual:" in out and "sent:" in out and "␍" in out
    assert "spec:" in out and "https://html.spec.whatwg.org/" in out
    assert out.splitlines()[-1].startswith("client naive_clients:naive_lf_only: DOES NOT CONFORM")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["client"], "exactly one target"),
        (["client", "nosuchmodule:x"], "cannot import"),
        (["client", "naive_clients"], "module:callable"),
        (["client", "naive_clients:good_client", "--cmd", "x {url}"], "exactly one target"),
        (["client", "naive_clients:good_client", "--capability", "telepathy"], "unknown capability"),
        (["client", "naive_clients:good_client", "--chunking", "3-byte"], "unknown chunking"),
        (["client", "naive_clients:good_client", "-k", "NO-SUCH-CASE"], "no generic case matches"),
        (["client", "naive_clients:good_client", "--timeout-scale", "0"], "must be a positive number"),
        (["client", "naive_clients:good_client", "--profile", "soap"], "invalid choice"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(cli, args, words):
    done = cli(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in done.stderr


def test_serve_cases_serves_an_index_and_every_url_in_it():
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance", "serve-cases", "--port", "0", "-k", "LE-001"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving "), line
        url = line.rsplit(" ", 1)[-1].strip()
        index = httpx.get(url, timeout=10).json()
        assert httpx.get(url.removesuffix("index.json"), timeout=10).json() == index  # the root: the same
        entry = next(e for e in index["cases"] if e["name"] == "LE-001[1-byte]")
        details = httpx.get(entry["details"], timeout=10).json()
        assert details["expect"]["events"] and entry["rules"] and details["spec"].startswith("https://")
        assert httpx.get(entry["details"].replace("LE-001", "NOPE-1"), timeout=10).status_code == 404
        body = httpx.get(entry["url"], timeout=10)
        assert body.status_code == 200 and body.headers["content-type"] == "text/event-stream"
        assert httpx.get(entry["url"], timeout=10).status_code == 204  # past the script
        log = httpx.get(entry["requests_log"], timeout=10).json()
        assert [r["method"] for r in log] == ["GET", "GET"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_pytest_face_collects_case_ids_with_chunkings(tmp_path):
    (tmp_path / "naive_clients.py").write_text((HERE / "naive_clients.py").read_text())
    junit = tmp_path / "junit.xml"
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:xdist", "-q",
            "--sse-client", "naive_clients:naive_lf_only",
            "--sse-chunking", "whole", "--sse-chunking", "1-byte", "-k", "LE-001 or LE-003",
            f"--junitxml={junit}", "--rootdir", str(tmp_path),
        ],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    names = {case.get("name") for case in ElementTree.parse(junit).getroot().iter("testcase")}
    assert names == {"LE-001[whole]", "LE-001[1-byte]", "LE-003[whole]", "LE-003[1-byte]"}, done.stdout
    assert done.returncode == 1  # LE-001 has CR line ends: the LF-only client fails it
    assert "C-08 LE-001[whole] (must) fail" in done.stdout
    # after pytest's failures, one line per cause (the CLI's blocks, folded): here CR, on C-08
    summary = done.stdout.split("sse-conformance: 1 cause(s) of the client's failures", 1)[1]
    assert summary.lstrip("= \n").startswith("CAUSE 1 FAIL C-08 (must)") and "lone CR" in summary


def test_a_printed_random_seed_replays_by_name():
    from conformance.client.runner import plan_items

    names = [item.name for item in plan_items(pattern="LE-001", chunkings=["random-7"])]
    assert names == ["LE-001[random-7]"]


def test_progress_dots_wait_off_a_tty_then_print_one_mark_per_item(monkeypatch):
    import io

    from conformance.client import output
    from conformance.client.runner import plan_items
    from conformance.results import Outcome, Result

    item = plan_items(pattern="LE-001", chunkings=["whole"])[0]
    results = [Result("C-08", Outcome.FAIL, "x"), Result("C-08", Outcome.PASS, "y")]
    quiet = output.Dots(2, io.StringIO())
    quiet(item, results)
    assert quiet.stream.getvalue() == ""
    monkeypatch.setattr(output, "DOTS_AFTER", 0.0)
    quiet(item, results[1:])
    quiet.finish()
    assert quiet.stream.getvalue() == "F. [2/2 items]\n"


def test_strict_turns_a_should_warning_into_exit_1(cli):
    args = ("client", "naive_clients:wildcard_accept_client", "-k", "HT-001", "--chunking", "whole", "-q")
    lenient, strict = cli(*args), cli(*args, "--strict")
    assert lenient.returncode == 0 and "WARN N-01" in lenient.stdout
    assert "1 case, 1 item: HT-001" in lenient.stdout
    assert strict.returncode == 1 and "DOES NOT CONFORM (--strict: warnings fail)" in strict.stdout


def test_a_persistent_adapter_on_the_cli_and_in_pytest(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(HERE))  # the adapter imports naive_clients on its own
    worker = f"{sys.executable} -m conformance.client.worker naive_clients:good_client"
    done = cli("client", "--harness", worker, "-k", "LE-00", "--chunking", "whole")
    assert done.returncode == 0 and "CONFORMS" in done.stdout.splitlines()[-1], done.stdout + done.stderr
    (tmp_path / "test_nothing.py").write_text("")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", str(tmp_path),
         "--sse-client-harness", worker, "--sse-chunking", "whole", "-k", "LE-001"],
        cwd=HERE, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]


def test_a_missing_harness_program_is_a_usage_error(cli):
    done = cli("client", "--harness", "no-such-program-here --flag")
    assert done.returncode == 2 and "no-such-program-here" in done.stderr
