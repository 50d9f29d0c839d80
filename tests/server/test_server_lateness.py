"""A burst is evidence of buffering only when the suite's reader was on time: the reader's
lateness is measured at every read, and a finding it may have made is observed again within
the run (no lock, no waiting for other processes), a few times at most."""

from __future__ import annotations

import threading
import time

import pytest

from conformance.results import Outcome, Report, Result
from conformance.server import run_server_suite, runner
from conformance.server.capture import Capture, End, Request
from conformance.server.lateness import ReaderClock, evened, most_late, parse_schedstat
from conformance.server.options import Options
from conformance.server.registry import CHECKS, Context, Probe, is_inconclusive
from conformance.server.runner import rests_on_lateness
from conformance.server.stream import analyse

URL = "http://127.0.0.1:1/events"
PASS, WARN, FAIL, ERROR, SKIP = Outcome.PASS, Outcome.WARN, Outcome.FAIL, Outcome.ERROR, Outcome.SKIP


# -- the measure ---------------------------------------------------------------------------

def test_a_schedstat_line_gives_cpu_and_run_queue_seconds():
    assert parse_schedstat(b"27449621 72709 3\n") == pytest.approx((0.027449621, 0.000072709))
    assert parse_schedstat("0 0 1") == (0.0, 0.0)


@pytest.mark.parametrize("line", [b"", b"1 2", b"1 2 3 4", b"a b c", b"1.5 2 3"])
def test_anything_else_is_not_a_schedstat_line(line):
    with pytest.raises(ValueError):
        parse_schedstat(line)


def _busy(seconds: float) -> None:
    """Keep this thread running (or runnable) for ``seconds`` of wall time: never reading."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        pass


def test_a_reader_kept_busy_is_late_by_that_long_and_one_that_sleeps_is_not():
    clock = ReaderClock()
    try:
        before = clock.now()
        _busy(0.3)
        busy = clock.now() - before
        before = clock.now()
        threading.Event().wait(0.3)  # asleep, as in select() waiting for bytes: ready to read
        asleep = clock.now() - before
    finally:
        clock.close()
    # Running or waiting to run, the whole 0.3 s counts (the CPU clock and the run-queue total
    # may round a little off; waiting to run is added when the thread runs again).
    assert busy >= 0.25
    assert asleep < busy


def _capture(reads: list[tuple[float, int, float]], body: bytes, headers_at: float = 0.01,
             headers_late: float = 0.0) -> Capture:
    """A capture of ``body`` read at the given (time, offset, reader lateness before it)."""
    cap = Capture(Request("GET", URL), status=200, t_headers=headers_at, headers_late=headers_late,
                  headers=[("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")],
                  body=bytearray(body), raw_size=len(body), end=End.CLEAN)
    cap.raw_arrivals = cap.arrivals = [(t, offset) for t, offset, _ in reads]
    cap.raw_lateness = [late for _, _, late in reads]
    cap.elapsed = cap.t_end = reads[-1][0] if reads else headers_at
    return cap


EVENTS = b"".join(b"data: %d\n\n" % i for i in range(1, 6))  # five events of 9 bytes


def test_a_late_read_is_spread_over_the_time_its_reader_was_late_and_no_earlier():
    cap = _capture([(0.6, 0, 0.005), (1.9, 9, 0.04), (1.95, 18, 5.0)], EVENTS, headers_at=0.5,
                   headers_late=0.2)
    even = evened(cap)
    assert even.t_headers == pytest.approx(0.3)
    # On time (5 ms, under one step): as read. 40 ms late: from 1.86 s, never before the read
    # at 0.6 s, which drained the socket. The last read's reader never waited for bytes after
    # the read before it (5 s late in 50 ms): its bytes may have come from 1.86 s on too. Both
    # reads' bytes are spread from 1.86 to 1.95 s, 10 ms apart, none later than it was read.
    assert [t for t, _ in even.raw_arrivals] == pytest.approx(
        [0.6, 1.87, 1.88, 1.89, 1.9, 1.91, 1.92, 1.93, 1.94, 1.95])
    assert [o for _, o in even.raw_arrivals] == [0, 9, 13, 17, 21, 25, 29, 33, 37, 41]
    assert even.arrivals == even.raw_arrivals
    assert cap.raw_arrivals[1][0] == 1.9  # the capture itself is left as it was seen
    assert most_late(cap) == 5.0


def test_body_bytes_read_with_late_headers_are_spread_from_when_the_headers_can_have_come():
    cap = _capture([(3.3, 0, 0.0)], EVENTS, headers_at=3.3, headers_late=1.0)  # one segment, read late
    even = evened(cap)
    assert even.t_headers == pytest.approx(2.3)
    assert even.raw_arrivals[0] == (pytest.approx(2.3 + 1.0 / 45), 0)  # 45 bytes over the second
    assert even.raw_arrivals[-1] == (pytest.approx(3.3), 44)


def _ctx(cap: Capture, **options) -> Context:
    return Context(Options(URL, **options), cap, analyse(cap))


def _held(late: float) -> Context:
    """Every event in one read 1.1 s after the headers, then the end: held back, unless the
    reader was itself that late."""
    return _ctx(_capture([(1.1, 0, late)], EVENTS))


@pytest.mark.parametrize(("rule", "late", "rests"), [
    ("S-06", 0.002, False),  # on time: the silence was the server's, the finding stands
    ("P-06", 0.002, False),
    ("S-06", 1.05, True),  # the reader was not running for as long as the silence lasted
    ("P-06", 1.05, True),
    ("S-06", 0.05, False),  # late, but the server was still silent for 1.05 s: still held back
])
def test_a_finding_rests_on_lateness_only_when_it_does_not_hold_without_it(rule, late, rests):
    ctx = _held(late)
    results = runner.judge(CHECKS[rule], ctx)
    assert results[0].outcome in (WARN, FAIL)
    assert rests_on_lateness(CHECKS[rule], results, ctx) is rests


def test_facts_and_passes_never_rest_on_lateness():
    late = _held(1.05)
    framing = _ctx(_capture([(1.1, 0, 1.05)], b"data: 1\n"))  # no blank line: S-09, a fact of the bytes
    assert not rests_on_lateness(CHECKS["S-09"], runner.judge(CHECKS["S-09"], framing), framing)
    assert not rests_on_lateness(CHECKS["S-06"], [Result("S-06", PASS, "streamed")], late)
    assert not rests_on_lateness(CHECKS["S-18"], runner.judge(CHECKS["S-18"], late), late)  # opt-in skip
    late.probe = Probe(_capture([(0.2, 0, 1.0)], EVENTS), None, 0.0, 0.2)  # the probe raced its stream:
    raced = runner.judge(CHECKS["P-07"], late)  # inconclusive, and the probe makes its own tries
    assert is_inconclusive(raced[0]) and not rests_on_lateness(CHECKS["P-07"], raced, late)


def test_the_checks_a_time_bound_can_decide_are_marked():
    assert {rule for rule, check in CHECKS.items() if check.timed} == {  # always, or on some observations
        "S-04", "S-06", "S-18", "S-23", "P-01", "P-02", "P-06", "P-07"}


# -- on a real server ----------------------------------------------------------------------

def _spinning(calls: int):
    """A progress callback that keeps the reading thread busy for 0.8 s on its first ``calls``
    calls: a reader that truly does not read while a steady stream goes on."""
    seen: list[str] = []

    def progress(line: str) -> None:
        seen.append(line)
        if sum(1 for s in seen if s.startswith("reading:")) <= calls and line.startswith("reading:"):
            _busy(0.8)

    return seen, progress


@pytest.fixture
def ticks_often(monkeypatch):
    monkeypatch.setattr(runner, "PROGRESS_EVERY", 0.3)


def _run(url: str, progress=None) -> Report:
    return run_server_suite(url, timeout=5, max_seconds=5, progress=progress)


def test_a_buffering_server_is_reported_without_waiting_for_anything(faulty_url):
    report = _run(faulty_url + "/buffered")
    found = {r.rule: r for r in report.results}
    assert found["S-06"].outcome is WARN and found["P-06"].outcome is FAIL
    assert "observed" not in found["S-09"].extra  # framing is not timed: never observed again
    assert report.meta["observations"]["measures"]


def test_a_late_reader_is_observed_again_and_the_steady_stream_passes(faulty_url, ticks_often):
    seen, progress = _spinning(calls=2)
    report = _run(faulty_url + "/steady", progress)
    s06 = next(r for r in report.results if r.rule == "S-06")
    observations = report.meta["observations"]
    assert "S-06" in observations["again"] and observations["reader_late"][0] >= 0.7
    assert any(line.startswith("observing again (try 2 of 3)") for line in seen), seen
    assert s06.outcome in (PASS, ERROR), s06.message  # never the late reader's batches
    assert s06.extra["observed"]["first"].startswith("warn: events arrive in batches")


def test_a_reader_late_in_every_try_leaves_the_finding_unproven(faulty_url, ticks_often):
    _, progress = _spinning(calls=1000)
    report = _run(faulty_url + "/steady", progress)
    s06 = next(r for r in report.results if r.rule == "S-06")
    assert s06.outcome is ERROR and s06.message.startswith("not judged: in each of 3 observations")
    assert report.meta["observations"]["tries"] == 3 and not report.ok


def test_a_report_says_how_late_its_reader_was_over_the_whole_exchange(faulty_url, ticks_often):
    # kept busy 0.8 s while it waits for a body that never comes (no read measures that one):
    # the exchange's wall time less this is what it waited on the server
    _, progress = _spinning(calls=1)
    report = run_server_suite(faulty_url + "/headers-then-hang", timeout=5, max_seconds=1.5,
                              progress=progress)
    assert report.meta["end"] == "max-seconds" and report.meta["reader_late"] >= 0.7


def test_the_human_output_names_the_rules_observed_again():
    from conformance.server.output import render

    results = [Result("S-06", PASS, "streamed"), Result("P-06", FAIL, "held"), Result("S-09", PASS, "ok")]
    meta = {"observations": {"tries": 2, "again": ["S-06", "P-06"], "reader_late": [1.2, 0.01]}}
    text = render(Report("server", URL, results, meta=meta))
    assert "observed 2 times (the suite's reader was late, in s: 1.20, 0.01): S-06, P-06 judged again; " \
           "passed: S-06" in text
    once = {"observations": {"tries": 1, "again": [], "reader_late": [0.01]}}
    assert "observed" not in render(Report("server", URL, results, meta=once))
