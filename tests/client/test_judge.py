"""The judge is pure: what a client reported, against a case, gives verdicts and fixes.

No I/O here: Observations and request logs are built by hand, so each test shows one rule of
judging failing on a faulty report and passing on a correct one.
"""

from __future__ import annotations

from conformance.cases import load_cases
from conformance.cases.chunkings import chunking
from conformance.client.findings import reconnect_delay_findings
from conformance.client.fixes import CHUNKING_FIXES, ENDING_FIXES, FIXES
from conformance.client.judge import judge_run
from conformance.client.observation import Observation
from conformance.client.runner import attribute_chunking_failures
from conformance.client.slots import RecordedRequest
from conformance.results import ADAPTER_FAULT, Outcome
from conformance.sse import Event

WHOLE = chunking("whole")


def case(case_id: str):
    return next(
        c for c in load_cases(profile="openai" if case_id.startswith("OA") else "generic") if c.id == case_id
    )


def request(n: int = 1) -> list[RecordedRequest]:
    return [
        RecordedRequest("GET", "/cases/x/whole", [], "", received=float(i), ended=float(i) + 0.1)
        for i in range(n)
    ]


def expected(c) -> list[Event]:
    return list(c.expect.events)


def test_a_correct_report_passes():
    c = case("LE-001")
    judgement = judge_run(c, WHOLE, Observation(events=expected(c), ended_by="returned"), request())
    assert {r.outcome for r in judgement} == {Outcome.PASS}


def test_a_wrong_event_is_a_fact_not_provisional():
    c = case("LE-001")
    wrong = [Event("message", "wrong", ""), *expected(c)[1:]]
    judgement = judge_run(c, WHOLE, Observation(events=wrong, ended_by="returned"), request())
    assert {r.outcome for r in judgement} == {Outcome.FAIL}
    assert "differs in data" in judgement[0].message
    at_deadline = judge_run(c, WHOLE, Observation(events=wrong, ended_by="deadline", seconds=5.0), request())
    assert {r.outcome for r in at_deadline} == {Outcome.FAIL}  # more time cannot undo it: no error


def test_missing_events_at_the_deadline_are_an_error_not_a_rule_failure():
    c = case("LE-001")
    observation = Observation(events=[], ended_by="deadline", seconds=5.0)
    judgement = judge_run(c, WHOLE, observation, request())
    message = judgement[0].message
    assert message.startswith("reported 0 of")
    assert "timed out after 5.0 s" in message and message.index("timed out") > message.index("reported 0")
    assert {r.outcome for r in judgement} == {Outcome.ERROR}  # only time decided it


def test_missing_events_of_a_waiting_client_are_a_fact():
    c = case("LE-001")
    waiting = Observation(events=[], ended_by="waiting", seconds=0.2)
    assert {r.outcome for r in judge_run(c, WHOLE, waiting, request())} == {Outcome.FAIL}


def test_a_client_waiting_after_the_stream_ended_hangs_only_where_the_case_judges_the_ending():
    counted = case("RC-012")  # counts requests: the client must come back, then stop on the 204
    assert counted.expect.requests
    seen = Observation(events=expected(counted), ended_by="waiting", seconds=0.3)
    judged = judge_run(counted, WHOLE, seen, _log((0, 0.1), (0.5, 0.6), (1.0, 1.1)))
    assert {r.outcome for r in judged} == {Outcome.FAIL}
    assert "waits for more" in judged[0].message and "never finished" in judged[0].message
    plain = case("LE-001")  # says nothing of how the client ends: waiting after its events is done
    done = Observation(events=expected(plain), ended_by="waiting")
    assert {r.outcome for r in judge_run(plain, WHOLE, done, request())} == {Outcome.PASS}


def test_too_many_requests_can_never_be_undone_by_more_time():
    c = next(c for c in load_cases() if c.expect.requests and c.expect.requests >= 2)
    few = judge_run(c, WHOLE, Observation(events=[], ended_by="deadline"), request(1))
    many = judge_run(
        c, WHOLE, Observation(events=expected(c), ended_by="deadline"), request(c.expect.requests + 5)
    )
    assert {r.outcome for r in few} == {Outcome.ERROR}  # too few: more time could bring the rest
    assert Outcome.ERROR not in {r.outcome for r in many}
    assert f"made {c.expect.requests + 5} request(s)" in many[0].message


def test_the_request_count_is_the_true_total_not_the_kept_log():
    c = next(c for c in load_cases() if c.expect.requests)
    judgement = judge_run(
        c, WHOLE, Observation(events=expected(c), ended_by="returned"), request(2), total=40
    )
    assert "made 40 request(s)" in judgement[0].message


def test_the_fix_follows_the_specific_rule_not_the_profile_umbrella():
    c = case("OA-002")  # `data:` without a space: rules O-09 and C-15
    judgement = judge_run(c, WHOLE, Observation(text="wrong", ended_by="returned"), request())
    fixes = {r.fix for r in judgement}
    assert fixes == {FIXES["C-15"]}
    assert "choices[0].delta.content" not in fixes.pop()


def test_a_case_failing_whole_never_gets_the_split_fix():
    c = case("DA-014")  # rules C-38, C-37; served whole only
    judgement = judge_run(c, WHOLE, Observation(events=[], ended_by="returned"), request())
    assert {r.fix for r in judgement} == {FIXES["C-38"]}
    assert FIXES["C-37"] not in {r.fix for r in judgement}


def test_a_hang_gets_the_fix_for_how_it_ended():
    c = case("RC-012")  # counts requests: how the client ends is the case's question
    every = _log(*[(i * 1.0, i * 1.0 + 0.1) for i in range(c.expect.requests)])
    judgement = judge_run(
        c, WHOLE, Observation(events=expected(c), ended_by="deadline", seconds=5), every
    )
    assert "never finished" in judgement[0].message
    assert "return" in judgement[0].fix and judgement[0].fix != FIXES["C-08"]


def test_a_client_running_on_after_its_events_passes_a_case_that_does_not_judge_the_ending():
    # eventsource-client and undici on EN-010/ID-011: every event right, then a reconnect that
    # fails before reaching the server, retried until the deadline: "timed out" was an error on
    # C-03/C-32 in one regeneration and a pass in the next (waiting or not at that instant)
    c = case("LE-001")
    assert not c.expect.requests and not c.expect.error
    ran_on = Observation(events=expected(c), ended_by="deadline", busy_at_deadline=True, seconds=5)
    assert {r.outcome for r in judge_run(c, WHOLE, ran_on, request())} == {Outcome.PASS}
    short = Observation(events=[], ended_by="deadline", busy_at_deadline=True, seconds=5)
    assert {r.outcome for r in judge_run(c, WHOLE, short, request())} == {Outcome.ERROR}


def test_a_hang_short_of_the_requests_a_case_wants_gets_the_cases_fix_not_return():
    # undici on RC-008: one event, then retries forever, its fetch rejecting the non-ASCII
    # Last-Event-ID before sending: "return when the body ends" would be the wrong advice
    c = case("RC-008")
    stuck = Observation(events=expected(c)[:1], ended_by="deadline", seconds=48)
    results = judge_run(c, WHOLE, stuck, request(1))
    assert {r.outcome for r in results} == {Outcome.ERROR}  # the deadline decided it
    assert {r.fix for r in results} == {FIXES["N-11"]}


def test_a_case_passing_whole_but_failing_split_blames_the_split_with_its_fix():
    c = case("LE-001")
    whole = judge_run(c, WHOLE, Observation(events=expected(c), ended_by="returned"), request())
    split = judge_run(c, chunking("1-byte"), Observation(events=[], ended_by="returned"), request())
    results = attribute_chunking_failures(whole + split)
    blamed = [r for r in results if r.rule == "C-37"]
    assert blamed and blamed[0].chunking == "1-byte"
    assert blamed[0].fix == CHUNKING_FIXES["1-byte"]
    assert blamed[0].message.startswith("passes whole but fails split 1-byte")


def test_a_flood_is_reported_as_such():
    c = case("LE-001")
    observation = Observation(events=expected(c) * 3, ended_by="flood", flooded="more than 20,000 events")
    result = judge_run(c, WHOLE, observation, request())[0]
    assert result.outcome is Outcome.FAIL and "more than 20,000 events" in result.message


def test_an_adapter_fault_is_an_error_not_a_failure():
    c = case("LE-001")
    observation = Observation(broken="printed a line that is not JSON", ended_by="broken")
    judgement = judge_run(c, WHOLE, observation, request())
    assert {r.outcome for r in judgement} == {Outcome.ERROR}
    # the fix is the adapter's, never a parsing rule's: nothing of the parser was judged
    assert {(r.expected, r.fix) for r in judgement} == {(ADAPTER_FAULT, ENDING_FIXES["broken"])}


def test_a_raise_before_the_first_request_is_the_adapters_fault_and_one_after_it_a_crash():
    c = case("LE-001")  # a callable that cannot take the URL: nothing of the case reached it
    before = judge_run(c, WHOLE, Observation(raised="TypeError: takes no arguments", ended_by="raised"), [])
    assert {(r.outcome, r.expected, r.fix) for r in before} == {
        (Outcome.ERROR, ADAPTER_FAULT, ENDING_FIXES["unstarted"])}
    assert "raised before its first request: TypeError" in before[0].message
    after = judge_run(c, WHOLE, Observation(raised="UnicodeDecodeError", ended_by="raised"), request())
    assert after[0].outcome is Outcome.ERROR and after[0].expected == "no error"  # the parser's, maybe
    # the bytes the case server wrote are shown as sent only where a request got them
    assert before[0].evidence is None and "whole chunks: " in after[0].evidence


def _log(*spans: tuple[float, float]) -> list[RecordedRequest]:
    """Requests received and ended at these times (seconds): the gaps between them are judged."""
    return [RecordedRequest("GET", "/cases/x/whole", [], "", received=r, ended=e) for r, e in spans]


def test_reconnect_delay_bounds_flag_early_as_fact_and_late_as_load_sensitive():
    assert reconnect_delay_findings([300.0, 1999.0], 300, 2000) == []
    early, late = reconnect_delay_findings([100.0, 2500.0], 300, 2000)
    assert "request #2" in early.message and not early.late and not early.provisional
    assert "request #3" in late.message and late.late and late.expected == "at most 2000 ms"
    assert reconnect_delay_findings([5000.0], 300, None) == []  # no upper bound: backoff is fine
    assert reconnect_delay_findings([0.0], None, 2000) == []


def _gapped(c, gap: float, starved: float):
    """A request log for ``c`` whose second request came ``gap`` s after the first ended, the
    client runnable but off the CPU for ``starved`` s of it (as stamped)."""
    requests = _log(*[(i * 1.0, i * 1.0 + 0.1) for i in range(len(c.connections) + 1)])
    for request in requests:
        request.starved_at_received = request.starved_at_ended = 0.0
    requests[1].received = requests[0].ended + gap
    requests[1].starved_at_received = starved
    return requests


def test_a_reconnect_too_early_stays_too_early_when_load_delayed_it():
    # requests-sse reconnects after 100 ms where RC-025 wants 300: on a busy machine its request
    # came 350 ms after the end, 250 ms of which it sat runnable waiting for a CPU
    c = case("RC-025")
    low = c.expect.min_reconnect_delay_ms
    requests = _gapped(c, (low + 50) / 1000, starved=0.25)  # looks long enough, 250 ms the machine's
    requests[1].ended = requests[1].received + 0.1
    found = [f for f in reconnect_delay_findings(
        [(requests[1].received - requests[0].ended) * 1000], low, None, [(250.0, 250.0)])]
    assert len(found) == 1 and "waiting for a CPU" in found[0].message
    assert found[0].actual == f"{low + 50 - 250} ms"
    assert reconnect_delay_findings([low + 50.0], low, None) == []  # the same gap, load unseen
    observation = Observation(events=expected(c), ended_by="returned")
    judged = judge_run(c, WHOLE, observation, requests, len(requests))
    assert any(r.outcome is Outcome.FAIL and "waiting for a CPU" in r.message for r in judged)
    # the raw times it rests on travel with it (ms from the first request's arrival)
    times = judged[0].data["actual"]["request_times"]
    assert times[0] == {"received": 0.0, "ended": 100.0, "starved_at_received": 0.0,
                        "starved_at_ended": 0.0, "stamped_late": 0.0}
    assert times[1]["received"] == 100.0 + low + 50 and times[1]["starved_at_received"] == 250.0


def test_a_late_reconnect_fails_the_case_even_when_the_client_returned():
    c = case("RC-039")
    observation = Observation(events=expected(c), ended_by="returned")
    on_time = judge_run(c, WHOLE, observation, _log((0, 0.1), (0.5, 0.6), (1.0, 1.1)))
    assert {r.outcome for r in on_time} == {Outcome.PASS}
    late = judge_run(c, WHOLE, observation, _log((0, 0.1), (3.0, 3.1), (3.5, 3.6)))
    assert {r.outcome for r in late} == {Outcome.WARN}
    assert "at most 2000 ms" in late[0].expected


def test_when_a_crash_came_does_not_decide_the_verdict():
    c = case("ID-006")  # requests-sse reports the NUL id, then crashes sending it back (the server
    # refuses the header with a 400 before the case sees a request)
    crash = "InvalidStatusCodeError: wrong response status: 400"
    wrong = [*expected(c)[:1], Event("message", "hello", "x\0")]
    for events in (wrong, [*wrong, *expected(c)[2:]]):  # the crash before or after the rest came
        observation = Observation(events=events, raised=crash, ended_by="raised")
        judgement = judge_run(c, WHOLE, observation, request())
        assert {r.outcome for r in judgement} == {Outcome.FAIL}
        message = judgement[0].message
        assert message.startswith("event #2 differs in id") and crash in message
    short = Observation(events=expected(c)[:1], raised=crash, ended_by="raised")
    assert {r.outcome for r in judge_run(c, WHOLE, short, request())} == {Outcome.ERROR}


def test_a_crash_after_every_expected_event_is_still_an_error():
    c = case("RT-021")  # requests-sse keeps retry: -5 and crashes sleeping it when it reconnects
    crashed = Observation(events=expected(c), raised="ValueError: sleep length must be non-negative",
                          ended_by="raised")
    assert {r.outcome for r in judge_run(c, WHOLE, crashed, request())} == {Outcome.ERROR}


def test_a_crash_is_judged_where_the_case_judges_how_the_client_ends():
    c = case("RC-012")  # counts requests: a client that crashes instead of reconnecting fails it
    assert c.expect.requests is not None
    crashed = Observation(events=expected(c), raised="ZeroDivisionError: x", ended_by="raised")
    reqs = _log((0, 0.1), (0.5, 0.6), (1.0, 1.1))  # it crashed instead of coming back for the 204
    assert {r.outcome for r in judge_run(c, WHOLE, crashed, reqs)} == {Outcome.ERROR}


def test_a_failure_carries_what_the_client_reported_as_json_values():
    c = case("LE-001")
    big = Event("message", "z" * 10_000, "7")
    observation = Observation(events=[big], ended_by="returned", raised=None)
    result = judge_run(c, WHOLE, observation, request(2), total=3)[0]
    actual = result.data["actual"]
    assert actual["events"] == [{"event": "message", "data": "z" * 4096, "id": "7", "data_length": 10_000}]
    assert actual["event_count"] == 1 and actual["requests"] == 3 and actual["ended_by"] == "returned"
    passing = judge_run(c, WHOLE, Observation(events=expected(c), ended_by="returned"), request())[0]
    assert "actual" not in passing.data


def test_a_case_of_megabytes_still_parsing_at_its_deadline_skips_its_rules_for_p10():
    c = case("DA-013")
    busy = Observation(events=[], ended_by="deadline", busy_at_deadline=True, seconds=40.0)
    judgement = judge_run(c, WHOLE, busy, request())
    assert {r.outcome for r in judgement} == {Outcome.SKIP}
    assert "see P-10" in judgement[0].message
    asleep = Observation(events=[], ended_by="deadline", busy_at_deadline=False, seconds=40.0)
    assert {r.outcome for r in judge_run(c, WHOLE, asleep, request())} == {Outcome.ERROR}
    small = case("LE-001")  # a small case is never "too slow": at its deadline it timed out
    small_busy = Observation(events=[], ended_by="deadline", busy_at_deadline=True, seconds=10.0)
    assert {r.outcome for r in judge_run(small, WHOLE, small_busy, request())} == {Outcome.ERROR}


def test_raising_on_a_response_of_the_wrong_type_is_failing_it_not_a_crash():
    # A client that raises on its last response fails that connection as it must when the
    # response was refused (N-03 for the type as N-04 for the status), and crashed otherwise.
    from conformance.cases.model import case_from_json

    def ending(headers: dict[str, str]):
        return case_from_json({
            "id": "XX-001", "description": "a stream, then a response to refuse", "rules": ["N-10"],
            "level": "must", "spec": "reestablish-the-connection", "requires": ["reconnect"],
            "connections": [{"stream": [{"text": "retry: 50\ndata: a\n\n"}]},
                            {"headers": headers, "stream": [{"text": "data: b\n\n"}]}],
            "expect": {"events": [{"data": "a"}], "requests": 2},
        }, area="test")

    raised = Observation(events=[Event("message", "a", "")], raised="ValueError: not a stream",
                         ended_by="raised")
    for headers, outcomes in (({"Content-Type": "text/plain"}, {Outcome.PASS}),
                              ({"Content-Type": "text/event-stream"}, {Outcome.ERROR})):
        judged = judge_run(ending(headers), WHOLE, raised, request(2))
        assert {r.outcome for r in judged} == outcomes, (headers, judged)


def test_a_late_stamp_cannot_make_an_on_time_reconnect_too_early():
    # the reference requests client waited its 250 ms (RC-012) and came 269 ms after the end;
    # the case server's loop stamped the request 80 ms after it arrived, and the 78 ms the client
    # then sat runnable (after its request) were counted as if in the gap: "192 ms, too early"
    c = case("RC-012")
    requests = _gapped(c, 0.269, starved=0.078)
    requests[1].stamped_late = 0.080  # ... all of it can have come after the request arrived
    observation = Observation(events=expected(c), ended_by="returned")
    judged = judge_run(c, WHOLE, observation, requests, len(requests))
    assert not [r for r in judged if r.rule == "N-13" and r.outcome is not Outcome.PASS]

    requests[1].stamped_late = 0.001  # stamped at once: the 78 ms were in the gap
    judged = judge_run(c, WHOLE, observation, requests, len(requests))
    assert [r for r in judged if r.rule == "N-13" and r.outcome is Outcome.FAIL]


def test_the_most_the_machine_can_have_taken_counts_for_a_late_reconnect():
    # RC-039 wants the reconnect within 2 s: a gap of 2.1 s, up to 300 ms of it load's, is on time
    assert reconnect_delay_findings([2100.0], None, 2000, [(0.0, 300.0)]) == []
    late = reconnect_delay_findings([2100.0], None, 2000, [(0.0, 50.0)])
    assert len(late) == 1 and late[0].late
