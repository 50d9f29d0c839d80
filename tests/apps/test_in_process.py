"""In-process targets: ``server --app``, ``run_server_suite(path, app=...)`` and ``--sse-app``.

The apps are served by real servers on 127.0.0.1 (uvicorn for ASGI, the threaded streaming WSGI
server for WSGI) and checked over real HTTP, so buffering and timing rules still judge them.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import sse_apps

from conformance.apps import load_app, serving
from conformance.cli import main
from conformance.results import Outcome
from conformance.server import UnusableTarget, run_server_suite

APPS = ["sse_apps:asgi_app", "sse_apps:wsgi_app"]


@pytest.mark.parametrize("spec", APPS)
def test_the_cli_checks_an_app_in_process(spec, capsys):
    assert main(["server", "--app", spec, "/events"]) == 0
    out = capsys.readouterr().out
    assert f"server {spec} /events: CONFORMS" in out


@pytest.mark.parametrize("spec", APPS)
def test_chunks_reach_the_client_as_the_app_yields_them(spec):
    """A server that buffered the body would deliver all three events at once."""
    report = run_server_suite("/slow", app=spec, trace=True)
    events = report.meta["trace"]["events"]
    assert [e["data"] for e in events] == ["tick 1", "tick 2", "tick 3"]
    assert events[1]["ms"] - events[0]["ms"] >= sse_apps.PAUSE * 1000 * 0.8
    assert report.meta["app"]["interface"] == spec.rsplit("_", 1)[0].split(":")[1]
    assert report.meta["http_version"] == "HTTP/1.1" and report.ok


def test_an_app_object_works_through_the_python_api():
    report = run_server_suite("/events", app=sse_apps.wsgi_app)
    assert report.ok and report.target == "sse_apps:wsgi_app /events"


def test_a_broken_app_fails_with_the_evidence(capsys):
    assert main(["server", "--app", "sse_apps:merged_app", "/events", "-v"]) == 1
    out = capsys.readouterr().out
    assert "× S-09" in out and "a blank line between two events is missing" in out
    assert "data=a␊b␊c" in out  # the trace shows the three messages merged into one


def test_a_crashing_wsgi_app_is_a_500_not_a_hang():
    report = run_server_suite("/events", app=sse_apps.crashing_app, timeout=5)
    assert report.meta["status"] == 500
    assert {r.rule: r.outcome for r in report.results}["S-01"] is Outcome.FAIL


@pytest.mark.parametrize("spec", APPS)
def test_data_means_post_as_in_curl(spec):
    """The old API kept GET and sent the body: the POST-only endpoint answered 405."""
    report = run_server_suite("/chat", app=spec, data=b'{"messages": []}')
    assert report.meta["method"] == "POST" and report.meta["status"] == 200 and report.ok


@pytest.mark.parametrize(("argv", "words"), [
    (["server", "--app", "no_such_module:app", "/events"], "cannot import 'no_such_module'"),
    (["server", "--app", "sse_apps:nothing", "/events"], "has no attribute 'nothing'"),
    (["server", "--app", "sse_apps:not_an_app", "/events"], "not callable"),
    (["server", "--app", "sse_apps", "/events"], "module:attribute"),
    (["server", "--app", "sse_apps:wsgi_app", "events"], "give a path such as /events"),
])
def test_a_bad_app_is_one_line_and_exit_2(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and words in err


def test_uvicorn_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(UnusableTarget, match=r"sse-conformance\[asgi\]"):
        run_server_suite("/events", app=sse_apps.asgi_app)


def test_interfaces_are_detected_and_servers_stop():
    assert load_app("sse_apps:asgi_app").interface == "asgi"
    assert load_app(sse_apps.wsgi_app).interface == "wsgi"
    with serving(sse_apps.wsgi_app) as base:
        import httpx

        assert httpx.get(base + "/events", timeout=5).text == "".join(e.decode() for e in sse_apps.EVENTS)
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + "/events", timeout=2)


def test_the_pytest_options_check_an_app(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "--sse-app", "sse_apps:merged_app",
         "--sse-server", "/events", "-k", "S-09 or S-01", "--rootdir", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "PYTHONPATH": str(sse_apps.__file__).rsplit("/", 1)[0]},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout and "S-09" in done.stdout
