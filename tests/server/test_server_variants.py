"""Each fault is caught on the right rule; each correct variant passes every check it can."""

from __future__ import annotations

import pytest

from conformance.results import Outcome
from conformance.server import run_server_suite


def verdicts(url: str, **kw) -> dict[str, set[Outcome]]:
    report = run_server_suite(url, **{"timeout": 5, "max_seconds": 5, **kw})
    out: dict[str, set[Outcome]] = {}
    for r in report.results:
        out.setdefault(r.rule, set()).add(r.outcome)
    return out


BAD = {Outcome.FAIL, Outcome.WARN, Outcome.ERROR}
CORRECT = ["/ok-lf", "/ok-crlf", "/ok-cr", "/ok-bom", "/ok-comments", "/ok-nospace", "/ok-retry", "/ok-split",
           "/slow-start",
           "/keep-alive",  # Connection/Keep-Alive from an HTTP/1.1 server: its own framing
           "/proxied",  # header clues alone (Via, Server: nginx) are never a finding
           "/gzip",  # compressed, but nothing measured was held back
           "/comment-backlog",  # a comment at once, a slow backlog in one write, then live: not buffering
           "/length-streamed",  # a Content-Length, yet measured arriving event by event: a note
           "/app-groups"]  # five events per write: S-06 says the wire cannot tell (info)


@pytest.mark.parametrize("path", CORRECT)
def test_correct_variant_passes(faulty_url, path):
    found = verdicts(faulty_url + path)
    assert {rule: o for rule, o in found.items() if o & BAD} == {}
    assert found["S-09"] == {Outcome.PASS} and found["S-23"] == {Outcome.PASS}


@pytest.mark.parametrize("path", ["/ok-openai", "/ok-openai-error", "/ok-anthropic-error"])
def test_correct_openai_variant_passes(faulty_url, path):
    found = verdicts(faulty_url + path, profile="openai")
    assert {rule: o for rule, o in found.items() if o & BAD} == {}
    assert found["O-01"] == found["O-02"] == {Outcome.PASS}


FAULTS = [
    # path, rule that must catch it, outcome, extra options
    ("/wrong-type", "S-01", Outcome.FAIL, {}),
    ("/html-200", "S-01", Outcome.FAIL, {}),
    ("/status-500", "S-01", Outcome.FAIL, {}),
    ("/latin1-charset", "P-05", Outcome.WARN, {}),
    ("/no-cache-control", "S-03", Outcome.WARN, {}),
    ("/no-blank-lines", "S-09", Outcome.FAIL, {}),
    ("/unterminated", "S-09", Outcome.FAIL, {}),
    ("/unterminated-line", "S-09", Outcome.FAIL, {}),
    ("/run-together", "S-09", Outcome.FAIL, {}),
    ("/invalid-utf8", "S-02", Outcome.FAIL, {}),
    ("/late-bom", "S-02", Outcome.FAIL, {}),
    ("/aborted", "S-21", Outcome.FAIL, {}),
    ("/aborted", "S-09", Outcome.FAIL, {}),
    ("/aborted-boundary", "S-21", Outcome.FAIL, {}),
    ("/buffered", "S-06", Outcome.WARN, {}),
    ("/buffered", "P-06", Outcome.FAIL, {}),  # every event held until the body ended
    ("/headers-then-hang", "P-06", Outcome.FAIL, {"max_seconds": 0.5}),  # open, and never a byte
    ("/comment-then-held", "P-06", Outcome.FAIL, {}),  # an early comment is no delivery
    ("/gzip-header-held", "P-06", Outcome.FAIL, {}),  # nor is a compressor's early header
    ("/gzip-header-held", "S-04", Outcome.WARN, {}),
    ("/huge-line", "P-06", Outcome.FAIL, {}),  # one unterminated line: no event ever dispatched
    ("/gzip-no-blank", "P-06", Outcome.FAIL, {"max_bytes": 1 << 20}),  # data lines, never a blank one
    ("/no-events", "P-06", Outcome.FAIL, {}),
    ("/never-answers", "P-06", Outcome.FAIL, {"timeout": 0.5}),  # open, and never the headers
    ("/gzip-held", "S-04", Outcome.WARN, {}),
    ("/gzip-held", "P-02", Outcome.WARN, {}),
    ("/brotli", "S-04", Outcome.WARN, {}),
    ("/content-length", "S-04", Outcome.WARN, {}),
    ("/h2-keep-alive", "S-05", Outcome.FAIL, {"http2_prior_knowledge": True}),
    ("/headers-late", "P-02", Outcome.WARN, {}),
    # slow to answer anything, but its two answers came in together (kernel counts): not serialised
    ("/headers-late", "P-07", Outcome.PASS, {}),
    ("/single-worker", "P-07", Outcome.WARN, {}),
    ("/heartbeat-data", "P-03", Outcome.WARN, {}),
    ("/event-trailing-space", "P-08", Outcome.WARN, {}),
    ("/event-newline", "S-13", Outcome.FAIL, {}),
    ("/field-case", "S-17", Outcome.WARN, {}),
    ("/nul-id", "S-14", Outcome.WARN, {}),
    ("/bad-retry", "S-15", Outcome.WARN, {}),
    ("/event-no-data", "S-16", Outcome.WARN, {}),
    ("/bare-cr", "S-11", Outcome.WARN, {}),
    ("/no-events", "S-23", Outcome.WARN, {}),
    ("/heartbeat-event", "P-03", Outcome.WARN, {}),
    ("/head-hangs", "P-01", Outcome.ERROR, {"timeout": 1.0}),  # only the deadline decided: timed out
    ("/head-fails", "P-01", Outcome.WARN, {}),  # closed without a response: a fact
    ("/missing-done", "O-02", Outcome.FAIL, {"profile": "openai"}),
    ("/done-unterminated", "O-02", Outcome.FAIL, {"profile": "openai"}),
    ("/after-done", "O-03", Outcome.FAIL, {"profile": "openai"}),
    ("/not-json", "O-01", Outcome.FAIL, {"profile": "openai"}),
    ("/wrong-shape", "O-04", Outcome.WARN, {"profile": "openai"}),
    ("/vllm-error", "O-05", Outcome.FAIL, {"profile": "openai"}),
    ("/error-field", "O-05", Outcome.FAIL, {"profile": "openai"}),
    ("/error-then-more", "O-05", Outcome.FAIL, {"profile": "openai"}),
    ("/id-keepalive", "O-06", Outcome.WARN, {"profile": "openai"}),
    ("/meta-only", "O-06", Outcome.WARN, {"profile": "openai"}),
    ("/id-extra-blank", "O-06", Outcome.WARN, {"profile": "openai"}),
    ("/resume-restarts", "S-19", Outcome.WARN, {"resume": True}),
    ("/resume-skips", "S-19", Outcome.WARN, {"resume": True}),
    ("/resume-utf8", "S-19", Outcome.WARN, {"resume": True}),  # replays from the start
    ("/idle-silent", "S-18", Outcome.WARN, {"idle": 0.2}),
    ("/ok-lf", "S-08", Outcome.WARN, {"origin": "https://app.example"}),
    ("/endless", "O-02", Outcome.ERROR, {"profile": "openai", "max_events": 20}),
]
RECORD_ONLY = {"S-07", "S-10", "S-12", "S-20",  # info rules: recorded, never judged
               "S-22", "P-04"}  # not observable from one URL: a skip line with the reason


def _by_path(rows: list) -> list:
    """FAULTS as one run per path and options, with every rule it must break: one observation
    (and its HEAD, probe, ...) judges them all."""
    grouped: dict[str, tuple] = {}
    for path, rule, outcome, options in rows:
        key = f"{path}-{sorted(options.items())}"
        grouped.setdefault(key, (path, options, []))[2].append((rule, outcome))
    return [pytest.param(path, options, broken, id="-".join([path, *(r for r, _ in broken)]))
            for path, options, broken in grouped.values()]


@pytest.mark.parametrize(("path", "options", "broken"), _by_path(FAULTS))
def test_fault_is_caught_on_its_rule(faulty_url, path, options, broken):
    found = verdicts(faulty_url + path, **options)
    for rule, outcome in broken:
        assert outcome in found[rule], (rule, found[rule])


@pytest.mark.parametrize(("path", "options", "rule"), [
    ("/resumable", {"resume": True}, "S-19"),
    ("/cors", {"origin": "https://app.example"}, "S-08"),
    ("/ok-idle", {"idle": 0.3}, "S-18"),
])
def test_active_checks_pass_on_a_correct_server(faulty_url, path, options, rule):
    found = verdicts(faulty_url + path, **options)
    assert found[rule] == {Outcome.PASS}
    assert {r: o for r, o in found.items() if o & BAD} == {}


def test_204_asks_clients_to_stop_and_conforms(faulty_url):
    report = run_server_suite(faulty_url + "/status-204", timeout=5)
    by_rule = {r.rule: r for r in report.results}
    assert by_rule["S-01"].outcome is Outcome.INFO and "asks clients to stop" in by_rule["S-01"].message
    assert by_rule["S-07"].outcome is Outcome.INFO
    assert by_rule["S-09"].outcome is Outcome.SKIP and "no stream to judge" in by_rule["S-09"].message
    assert report.ok


def test_timings_are_recorded(faulty_url):
    report = run_server_suite(faulty_url + "/ok-lf", timeout=5)
    timings = report.meta["timings"]
    assert timings["events"] == 5
    assert 0 <= timings["time_to_headers"] <= timings["time_to_first_event"] <= timings["time_to_last_event"]
    assert timings["max_gap_between_events"] is not None  # times are read-side: no tight bound


def test_progress_is_reported_while_reading(faulty_url, monkeypatch):
    from conformance.server import runner

    monkeypatch.setattr(runner, "PROGRESS_EVERY", 0.1)
    seen: list[str] = []
    run_server_suite(faulty_url + "/idle-silent", timeout=5, progress=seen.append)
    assert seen and seen[0].startswith("reading: ")


def test_every_judging_check_is_proven_by_a_fault():
    from conformance.server.registry import CHECKS

    proven = {row[1] for row in FAULTS if row[2] in (Outcome.FAIL, Outcome.WARN)}
    assert set(CHECKS) - RECORD_ONLY == proven


def test_resume_without_ids_is_skipped_with_a_reason(faulty_url):
    report = run_server_suite(faulty_url + "/ok-openai", resume=True, timeout=5)
    s19 = next(r for r in report.results if r.rule == "S-19")
    assert s19.outcome is Outcome.SKIP and "no event carried an id" in s19.message


def _by_rule(url: str, **kw) -> dict:
    report = run_server_suite(url, **{"timeout": 5, "max_seconds": 5, **kw})
    return {r.rule: r for r in report.results}


def test_batches_are_flagged_with_the_measured_bursts(faulty_url):
    s06 = _by_rule(faulty_url + "/batched")["S-06"]
    assert s06.outcome is Outcome.WARN and "events arrive in batches: 4 times" in s06.message
    assert "cut mid-event" in s06.actual and "s of silence" in s06.actual  # the bursts as evidence


def test_a_single_worker_is_told_about_workers_not_head(faulty_url):
    found = _by_rule(faulty_url + "/single-worker")
    assert found["P-01"].outcome is Outcome.PASS  # HEAD alone, after the stream, answers at once
    assert found["P-07"].outcome is Outcome.WARN and "workers" in found["P-07"].fix


def test_keep_alive_on_http11_is_not_judged_by_s05(faulty_url):
    s05 = _by_rule(faulty_url + "/keep-alive")["S-05"]
    assert s05.outcome is Outcome.SKIP and "needs HTTP/2" in s05.message and "keep-alive" in s05.message


def test_h2c_response_without_connection_headers_passes_s05(faulty_url):
    report = run_server_suite(faulty_url + "/ok-h2", http2_prior_knowledge=True, timeout=5)
    assert report.meta["http_version"] == "HTTP/2" and report.ok
    assert {r.rule: r.outcome for r in report.results}["S-05"] is Outcome.PASS


def test_every_server_rule_has_a_line_in_every_run(faulty_url):
    from conformance.rules import RULES

    server_rules = {r for r, rule in RULES.items() if r.startswith(("S-", "P-", "O-"))
                    and not rule.title.startswith("Client:")}  # O-07..O-09 and P-10 judge clients
    for profile in ("generic", "openai"):
        report = run_server_suite(faulty_url + "/ok-lf", profile=profile, timeout=5)
        assert {r.rule for r in report.results} == server_rules
        skips = [r for r in report.results if r.outcome is Outcome.SKIP]
        assert all(r.message for r in skips)  # every skip says why


def test_strict_fails_on_a_should_finding(faulty_url):
    from conformance.cli import main

    assert main(["server", "-q", faulty_url + "/no-cache-control"]) == 0
    assert main(["server", "-q", "--strict", faulty_url + "/no-cache-control"]) == 1
    assert main(["server", "-q", "--strict", faulty_url + "/ok-lf"]) == 0


def test_events_written_together_are_not_blamed_on_a_buffer(faulty_url):
    s06 = _by_rule(faulty_url + "/app-groups")["S-06"]
    assert s06.outcome is Outcome.INFO and "events arrive 5 at a time" in s06.message
    assert "the app writes them in one write" in s06.message and "timed flush" in s06.message


def test_a_content_length_on_a_streamed_body_is_a_note(faulty_url):
    s04 = _by_rule(faulty_url + "/length-streamed")["S-04"]
    assert s04.outcome is Outcome.PASS and "Content-Length: " in s04.message and "releases" in s04.message


@pytest.mark.parametrize(("path", "why"), [
    ("/comment-then-held", "only 13 wire bytes came before it (: connected␊␊), completing no event"),
    ("/gzip-header-held", "only 10 wire bytes came before it, decoding to nothing (a compressor's header)"),
])
def test_bytes_that_complete_no_event_are_no_delivery(faulty_url, path, why):
    p06 = _by_rule(faulty_url + path)["P-06"]
    assert p06.outcome is Outcome.FAIL and "no event reached the client" in p06.message and why in p06.message


@pytest.mark.parametrize(("path", "options", "why"), [
    ("/huge-line", {}, "the body stops inside an unterminated line of 3145734 bytes"),
    ("/gzip-no-blank", {"max_bytes": 1 << 20}, "no blank line to end an event"),
    ("/no-events", {}, "none of them with a data: line"),
])
def test_a_stream_with_no_event_fails_with_the_bytes_that_show_why(faulty_url, path, options, why):
    p06 = _by_rule(faulty_url + path, **options)["P-06"]
    assert p06.outcome is Outcome.FAIL and "without dispatching one event" in p06.message, p06.message
    assert why in p06.message


def test_a_page_that_is_no_event_stream_is_one_finding_and_an_sse_body_is_judged_under_any_type(faulty_url):
    # a 200 HTML page (the wrong URL): S-01 says so, and its lines are not read as SSE fields
    # (else: S-17 per line of HTML, S-09 and P-06 on a body that was never a stream)
    page = run_server_suite(faulty_url + "/html-200", timeout=5, max_seconds=5)
    assert {r.rule for r in page.results if r.outcome in BAD} == {"S-01"}, page.summary_line()
    unjudged = {r.rule for r in page.results if "no stream to judge" in r.message}
    assert {"S-09", "S-17", "S-23", "P-06", "P-07"} <= unjudged  # and no second request probed it
    # SSE lines under text/plain (a forgotten header): S-01 fails and the body is still judged
    plain = verdicts(faulty_url + "/wrong-type")
    assert plain["S-01"] == {Outcome.FAIL}
    assert plain["S-09"] == plain["S-23"] == plain["P-06"] == {Outcome.PASS}
