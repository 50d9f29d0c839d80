"""Time never decides a server verdict on its own: a non-pass that rests on time is observed again
alone (no other suite work on the machine) before it is reported."""

from __future__ import annotations

import contextlib
import re
import uuid

import pytest

from conformance.results import Outcome, Result
from conformance.server import run_server_suite
from conformance.server.capture import Capture, End, Request
from conformance.server.options import Options
from conformance.server.registry import CHECKS, Context, inconclusive
from conformance.server.runner import noted, rests_on_time
from conformance.server.stream import analyse

URL = "http://127.0.0.1:1/events"
WARN, FAIL, ERROR, PASS = Outcome.WARN, Outcome.FAIL, Outcome.ERROR, Outcome.PASS


def _capture(status: int | None = 200, end: End = End.CLEAN) -> Capture:
    return Capture(Request("GET", URL), status=status, end=end, t_headers=0.01 if status else None,
                   detail="no response headers within 1 s")


def _ctx(status: int | None = 200, end: End = End.CLEAN, head: End | None = None, **options) -> Context:
    main = _capture(status, end)
    ctx = Context(Options(URL, **options), main, analyse(main))
    ctx.head = None if head is None else _capture(None if head is End.NO_RESPONSE else 200, head)
    return ctx


def _result(rule: str, outcome: Outcome, message: str = "seen") -> list[Result]:
    return [Result(rule, outcome, message)]


# rule, its results, the observation (status, end, options), rests on time?
DECISIONS = [
    ("S-06", _result("S-06", WARN), {}, True),  # all events in one burst: load can do that
    ("P-06", _result("P-06", FAIL), {}, True),
    ("P-02", _result("P-02", WARN), {}, True),
    ("P-01", _result("P-01", WARN), {"head": End.NO_RESPONSE}, True),  # HEAD unanswered in its bound
    ("P-01", _result("P-01", WARN), {"head": End.FAILED}, False),  # HEAD failed: a fact
    ("S-23", _result("S-23", WARN), {"end": End.MAX_SECONDS}, True),  # no event in the read window
    ("S-23", _result("S-23", WARN), {}, False),  # the stream ended without an event: a fact
    ("S-04", _result("S-04", WARN), {"end": End.MAX_SECONDS}, True),  # compressed, and nothing came
    ("S-04", _result("S-04", WARN, "Content-Length on a stream"), {}, False),
    ("S-06", _result("S-06", ERROR, "the check crashed"), {}, True),
    ("S-06", _result("S-06", PASS), {}, False),
    ("P-07", inconclusive("P-07", "the stream ended after 0.21 s"), {}, True),
    ("P-07", _result("P-07", Outcome.SKIP, "the probe repeats GET streams that answered"), {}, False),
    ("P-06", _result("P-06", Outcome.SKIP, "no stream to judge (404)"), {"status": 404}, False),
    ("S-06", _result("S-06", Outcome.SKIP, "status 404"), {"status": 404}, False),  # nothing to time
    ("S-18", _result("S-18", Outcome.SKIP, "opt-in"), {}, False),  # --idle not asked
    ("S-18", _result("S-18", WARN), {"idle": 0.2}, True),
    ("S-09", _result("S-09", FAIL), {}, False),  # framing is a fact of the bytes
    ("S-01", _result("S-01", Outcome.SKIP), {"status": None, "end": End.NO_RESPONSE}, True),  # headers late
    ("P-06", _result("P-06", FAIL), {"status": None, "end": End.NO_RESPONSE}, True),
    ("S-06", _result("S-06", ERROR, "no response"), {"status": None, "end": End.FAILED}, False),  # a reset
    ("S-06", _result("S-06", ERROR, "undecodable"), {"end": End.UNDECODABLE}, False),
]


@pytest.mark.parametrize(("rule", "results", "seen", "on_time"), DECISIONS,
                         ids=[f"{d[0]}-{d[1][0].outcome.value}-{i}" for i, d in enumerate(DECISIONS)])
def test_which_verdicts_rest_on_time(rule, results, seen, on_time):
    assert rests_on_time(CHECKS[rule], results, _ctx(**seen)) is on_time


def test_the_time_based_checks_are_marked():
    assert {rule for rule, check in CHECKS.items() if check.timed} == {  # always, or on some observations
        "S-04", "S-06", "S-18", "S-23", "P-01", "P-02", "P-06", "P-07"}


def test_a_verdict_alone_says_so_and_keeps_the_first():
    first = _result("S-06", WARN, "all 4 events arrived in one burst at 1.36 s")
    again = noted(first, _result("S-06", PASS, "headers after 2 ms"), 1.23456)
    assert again[0].message == "headers after 2 ms (observed again alone; the first observation gave warn)"
    assert again[0].extra["alone"] == {"first": "warn: all 4 events arrived in one burst at 1.36 s",
                                       "seconds": 1.235}
    still = noted(first, _result("S-06", WARN, "all 4 events arrived in one burst"), 1.0)
    assert still[0].message.endswith("(confirmed alone)")


def _run(faulty_url: str, path: str, token: str = "", **kw):
    return run_server_suite(faulty_url + path, timeout=5, max_seconds=5,
                            headers=[("X-Run", token or uuid.uuid4().hex)], **kw)


FIRST_SEEN = {"S-06": "warn: all 5 events (100%) came in the final release",
              "P-06": "fail: no event reached the client while the connection was open"}


def test_a_stream_buffered_only_the_first_time_passes_once_observed_alone(faulty_url):
    from faulty_server import _gets

    seen: list[str] = []
    token = uuid.uuid4().hex
    report = _run(faulty_url, "/buffered-once", token, progress=seen.append)
    found = {r.rule: r for r in report.results}
    for rule, first in FIRST_SEEN.items():
        assert found[rule].outcome is PASS, found[rule].message
        assert found[rule].extra["alone"]["first"].startswith(first)
        assert "observed again alone" in found[rule].message
    assert "confirming S-06, P-06 alone" in seen
    assert report.meta["alone"]["rules"] == ["S-06", "P-06"] and report.ok
    assert "alone" not in found["S-09"].extra  # not timed: the first observation's verdict stands
    assert report.meta["alone"]["sends"] == ["main"]  # alone, only the main stream is requested again
    assert _gets[token] >= 3 + 1  # main and the probe's two (a probe racing a short stream runs again)


def test_a_stream_buffered_every_time_fails_confirmed_alone(faulty_url):
    report = _run(faulty_url, "/buffered")
    found = {r.rule: r for r in report.results}
    assert found["P-06"].outcome is FAIL and found["S-06"].outcome is WARN
    for rule in ("S-06", "P-06"):
        assert found[rule].message.endswith("(confirmed alone)") and "alone" in found[rule].extra
    assert not report.ok


def test_first_observation_shares_the_machine_and_the_confirmation_has_it_alone(faulty_url, monkeypatch):
    from conformance.server import runner

    held: list[str] = []

    class Gate:
        @contextlib.asynccontextmanager
        async def shared(self):
            held.append("shared")
            yield

        @contextlib.asynccontextmanager
        async def exclusive(self):
            held.append("exclusive")
            yield

    monkeypatch.setattr(runner, "alone_gate", Gate)
    _run(faulty_url, "/buffered-once")
    assert held == ["shared", "exclusive"]
    report = _run(faulty_url, "/ok-lf")
    # every verdict passed: observed once (unless load made one rest on time: then it says so)
    again = ["exclusive"] if "alone" in report.meta else []
    assert held == ["shared", "exclusive", "shared", *again]


def test_the_human_output_names_the_rules_observed_again_alone():
    from conformance.results import Report
    from conformance.server.output import render

    results = [*_result("S-06", PASS), *_result("P-06", FAIL), *_result("S-09", PASS)]
    report = Report("server", URL, results, meta={"alone": {"rules": ["S-06", "P-06"]}})
    line = "observed again alone (the first verdict rested on time): S-06, P-06; passed alone: S-06"
    assert line in render(report)
    assert "observed again alone" not in render(Report("server", URL, results))


def test_the_pytest_face_confirms_too(faulty_url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run = f"X-Run: {uuid.uuid4().hex}"
    code = pytest.main(["-p", "no:xdist", "-p", "no:cacheprovider", "-rA", "-k", "S-06 or P-06",
                        "--sse-server", faulty_url + "/buffered-once", "--sse-header", run])
    out = capsys.readouterr().out
    assert code == 0, out
    for item in ("serving::S-06", "pitfalls::P-06"):
        assert re.search(rf"^PASSED sse-conformance::server::{item}", out, re.MULTILINE), out
