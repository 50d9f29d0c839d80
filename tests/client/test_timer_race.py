"""A case about the client's own read time-out is judged only where load cannot have fired that
timer (conformance/client/timer_race.py): a run that raced it and failed runs again.

The load is a real case server that answers one request only once the client has given up on
it: what a case server kept off the CPU for longer than the client's read time-out does, made
certain. The clients are real, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import time

import naive_clients as nc
import pytest
import read_timeout_clients as rtc
from conftest import run_cases

from conformance.cases import load_cases
from conformance.client.caseserver import CaseServer, RecordedRequest
from conformance.client.targets import PythonTarget
from conformance.client.timer_race import RACE_ATTEMPTS, delay_raced, timer_raced
from conformance.client.waiting import ProcessTree
from conformance.results import Outcome

REFERENCE = "reference_clients.httpx_client:conformance_target"
TIMEOUT_CASES = ("OP-010", "NT-010")  # every case with a read_timeout_ms
GIVE_UP_BOUND = 30.0  # seconds a stalled answer waits for the client to ask again, at most


class StallingServer(CaseServer):
    """Answers request number ``stalled`` of the first ``runs`` runs of a case only after the
    client has asked again: the client goes without a byte on it for as long as its timer
    takes, whatever the load."""

    def __init__(self, *, stalled: int, runs: int) -> None:
        super().__init__()
        self.stalled, self.runs = stalled, runs

    async def _stream(self, request, slot, connection, record):
        if slot.attempt < self.runs and slot.total == self.stalled:
            asked_again = asyncio.Event()

            def listener() -> None:
                if slot.total > self.stalled:
                    asked_again.set()

            slot.listeners.append(listener)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asked_again.wait(), GIVE_UP_BOUND)
            finally:
                slot.listeners.remove(listener)
        return await super()._stream(request, slot, connection, record)


def _verdicts(report):
    return {(r.case, r.rule): r.outcome for r in report.results}


def test_the_cases_about_a_read_timeout_are_the_ones_weighed_here():
    assert {c.id for c in load_cases() if c.client.read_timeout_ms is not None} == set(TIMEOUT_CASES)


def test_a_case_server_slower_than_the_clients_read_timeout_flips_no_verdict():
    # OP-010 once went pass -> info beside a full report: the reference client made one request
    # too many. Here connection 2's answer comes only after the client gave up on it.
    server = StallingServer(stalled=2, runs=1)
    report = run_cases(REFERENCE, only=TIMEOUT_CASES, rules=("none",), server=server)
    assert set(_verdicts(report).values()) == {Outcome.PASS}, [r.message for r in report.results]
    for case in TIMEOUT_CASES:  # the stall did fire the client's timer in the first run
        first = server.slot(case, "whole").requests
        assert len(first) == 3 and first[2].received < first[1].sent, [vars(r) for r in first]
        assert timer_raced(_case(case), first) is not None


def test_a_run_raced_every_time_is_not_judged_and_says_why():
    server = StallingServer(stalled=2, runs=RACE_ATTEMPTS)
    report = run_cases(REFERENCE, only=TIMEOUT_CASES, rules=("none",), server=server)
    assert set(_verdicts(report).values()) == {Outcome.SKIP}
    for result in report.results:
        assert result.message.startswith("not judged:"), result.message
        assert "500 ms read time-out" in result.message and "request #2" in result.message
    assert len([path for path in server.slots if "OP-010" in path]) == RACE_ATTEMPTS


def test_a_client_whose_read_timeout_never_fires_is_found():
    report = run_cases(PythonTarget(rtc.never_times_out_client), only=("OP-010",), rules=("none",))
    assert set(_verdicts(report).values()) == {Outcome.INFO}, [r.message for r in report.results]
    assert all("reported 1 of 2 events" in r.message for r in report.results)
    assert all("made 1 request(s), expected exactly 3" in r.message for r in report.results)


def test_a_client_that_reconnects_once_too_often_is_found_on_a_prompt_server():
    report = run_cases(PythonTarget(rtc.reconnects_past_a_204_client), only=("OP-010",), rules=("none",))
    assert set(_verdicts(report).values()) == {Outcome.INFO}, [r.message for r in report.results]
    assert all("made 4 request(s), expected exactly 3" in r.message for r in report.results)


def test_a_client_that_times_out_right_passes():
    report = run_cases(PythonTarget(rtc.timely_client), only=("OP-010",), rules=("none",))
    assert set(_verdicts(report).values()) == {Outcome.PASS}, [r.message for r in report.results]


# -- the weighing itself, on request logs -------------------------------------------------


def _case(case_id: str):
    return next(c for c in load_cases() if c.id == case_id)


def _request(received: float, sent: float | None, starved: float | None = None) -> RecordedRequest:
    return RecordedRequest("GET", "/", [], "", received=received, sent=sent, ended=sent,
                           starved_at_received=starved)


def test_a_prompt_server_and_a_client_on_the_cpu_raced_nothing():
    # held open for the time-out (sent at once), then b, then the 204: each answered in 5 ms
    log = [_request(0.0, 0.005, 0.0), _request(0.56, 0.565, 0.01), _request(0.62, 0.625, 0.02)]
    assert timer_raced(_case("OP-010"), log) is None
    assert timer_raced(_case("OP-010"), [*log, _request(0.68, 0.685, 0.03)]) is None  # a faulty 4th


def test_an_answer_late_by_half_the_timeout_raced_the_timer():
    log = [_request(0.0, 0.005), _request(0.56, 0.565), _request(0.62, 0.90), _request(1.20, 1.2)]
    assert "request #3: the case server's answer took 280 ms" in timer_raced(_case("OP-010"), log)


def test_an_answer_still_owed_when_the_client_asked_again_counts_to_that_request():
    log = [_request(0.0, 0.005), _request(0.56, None), _request(1.11, 1.115)]
    assert "request #2: the case server's answer took 550 ms" in timer_raced(_case("OP-010"), log)


def test_a_client_kept_off_the_cpu_for_half_its_timeout_raced_the_timer():
    log = [_request(0.0, 0.005, 0.0), _request(0.56, 0.565, 0.01), _request(0.62, 0.625, 0.30),
           _request(0.70, 0.705, 0.31)]
    assert "waited 290 ms for a CPU" in timer_raced(_case("OP-010"), log)


def test_a_case_without_a_read_timeout_is_never_weighed():
    case = next(c for c in load_cases() if c.client.read_timeout_ms is None and len(c.connections) > 1)
    log = [_request(0.0, 5.0, 0.0), _request(6.0, 9.0, 4.0)]
    assert timer_raced(case, log) is None


# -- a reconnection delay: too early only less the client's CPU wait --------------------------


def _gap_log(gap: float, starved: float) -> list[RecordedRequest]:
    """Two requests, the second ``gap`` s after the first's end, ``starved`` s of CPU wait between
    the stamps (of the end, of the arrival)."""
    first = RecordedRequest("GET", "/", [], "", received=0.0, ended=0.1, starved_at_received=0.0,
                            starved_at_ended=0.0)
    second = RecordedRequest("GET", "/", [], "", received=0.1 + gap, ended=0.2 + gap,
                             starved_at_received=starved)
    return [first, second]


def test_a_gap_long_enough_as_measured_but_short_less_the_cpu_wait_raced_the_delay():
    # the reference client counts its 300 ms from the end: starved 290 ms, it slept the last 13
    why = delay_raced(_case("RC-025"), _gap_log(0.303, 0.290))
    assert why is not None and "request #2 came 303 ms" in why and "290 ms of it waiting for a CPU" in why


def test_a_gap_short_as_measured_is_a_fact_and_an_unloaded_one_raced_nothing():
    assert delay_raced(_case("RC-025"), _gap_log(0.100, 0.290)) is None  # load only lengthens a gap
    assert delay_raced(_case("RC-025"), _gap_log(0.303, 0.0)) is None
    assert delay_raced(_case("OP-010"), _gap_log(0.303, 0.290)) is None  # no lower bound


@pytest.fixture
def starved_all_the_time(monkeypatch):
    """The client's run-queue wait growing as fast as the clock: every gap looks like load's."""
    monkeypatch.setattr(ProcessTree, "starved", lambda self: time.monotonic())


def test_a_reconnect_verdict_resting_on_the_cpu_wait_alone_is_not_judged(starved_all_the_time):
    # waits the whole 300 ms, but every run's gap reads as CPU wait: observed again, then not judged
    report = run_cases(PythonTarget(nc.reconnecting_client), only=("RC-025",), rules=("none",))
    assert set(_verdicts(report).values()) == {Outcome.SKIP}, [r.message for r in report.results]
    assert all(r.message.startswith(f"not judged: load may have decided it in all {RACE_ATTEMPTS} runs")
               and "waiting for a CPU" in r.message for r in report.results)


def test_a_reconnect_too_early_as_measured_fails_under_the_same_load(starved_all_the_time):
    report = run_cases(PythonTarget(nc.hasty_reconnecting_client), only=("RC-025",), rules=("none",))
    assert Outcome.FAIL in set(_verdicts(report).values()), [r.message for r in report.results]
