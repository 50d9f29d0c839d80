"""P-07's probe: a stream that ends by itself within a few ms races the second request's answer;
an answer that comes only once the suite closed the stream is serial; none by the deadline is a
time-out.

The reference aiohttp server's stream-error endpoint ends after 14 ms: its second request was
answered in 3 ms in one regeneration (pass) and after the end in the next (inconclusive), alone
both times. Such a probe is run again, a few times, before it is called inconclusive.
"""

from __future__ import annotations

import asyncio

from conformance.results import Outcome, Result
from conformance.server import probe as probe_module
from conformance.server.capture import Capture, End, Request
from conformance.server.options import Options
from conformance.server.registry import CHECKS, Context, Probe, is_inconclusive
from conformance.server.runner import judge
from conformance.server.stream import analyse

REQUEST = Request("GET", "http://127.0.0.1:9/x", (), None)


def _capture(status: int | None = 200, t_headers: float | None = 0.001,
             t_end: float | None = None) -> Capture:
    return Capture(REQUEST, status=status, t_headers=t_headers, t_end=t_end)


def _probe(answered_after: float | None, first_ends: float | None, second: bool = True) -> Probe:
    reply = _capture(t_headers=answered_after) if second else None
    return Probe(_capture(t_end=first_ends), reply, 0.002, first_ends)


def test_only_a_stream_that_ended_before_the_probe_could_tell_raced_the_end():
    assert _probe(0.003, 0.014).raced_the_end is False  # answered while open: told
    assert _probe(0.020, 0.014).raced_the_end is True  # answered after the stream's own end
    assert _probe(None, 0.014, second=False).raced_the_end is True  # ended before it was sent
    assert _probe(None, None).raced_the_end is False  # no answer while still open: told (P-07 fails)
    assert _probe(0.5, None).raced_the_end is False
    unanswered = Probe(_capture(status=None, t_headers=None, t_end=1.0), None, 0.0, 1.0)
    assert unanswered.raced_the_end is False  # nothing to race: the first was never answered


def test_a_raced_probe_is_made_again_until_it_tells_or_runs_out_of_tries(monkeypatch):
    outcomes = iter([_probe(0.020, 0.014), _probe(None, 0.010, second=False), _probe(0.003, 0.014)])
    made = []

    async def once(*args):
        made.append(args)
        return next(outcomes)

    for name in ("_probe_once", "_probe_counted"):  # the retries are the same whichever judges a try
        monkeypatch.setattr(probe_module, name, once)
    found = asyncio.run(probe_module.probe(REQUEST, REQUEST, 1.0, 2.0))
    assert len(made) == 3 and found.tries == 3 and not found.raced_the_end

    for name in ("_probe_once", "_probe_counted"):
        monkeypatch.setattr(probe_module, name, lambda *a: _later(_probe(0.020, 0.014)))
    found = asyncio.run(probe_module.probe(REQUEST, REQUEST, 1.0, 2.0, tries=4))
    assert found.tries == 4 and found.raced_the_end


async def _later(value: Probe) -> Probe:
    return value


def _judged(probe: Probe) -> Result:
    main = _capture()
    ctx = Context(Options("http://127.0.0.1:9/x"), main, analyse(main), probe=probe)
    return judge(CHECKS["P-07"], ctx)[0]


def test_an_answer_that_comes_only_once_the_suite_closed_the_stream_is_serial():
    reply = _capture(t_headers=2.05)  # sent at 2 ms, held 2 s, closed at 2.002 s
    found = _judged(Probe(_capture(), reply, 0.002, None, closed_at=2.002))
    assert found.outcome is Outcome.WARN
    assert "answered 0.05 s after the suite closed that stream" in found.message
    assert _judged(Probe(_capture(), _capture(t_headers=0.003), 0.002, None)).outcome is Outcome.PASS


def test_no_answer_by_the_deadline_is_a_time_out_not_a_finding():
    never = Capture(REQUEST, end=End.NO_RESPONSE, detail="no response headers within 10 s")
    found = _judged(Probe(_capture(), never, 0.002, None, closed_at=2.002))
    assert found.outcome is Outcome.ERROR and found.message.startswith("timed out: a second request got no "
                                                                       "response within 10 s")


def test_an_answer_after_the_stream_ended_by_itself_tells_nothing():
    found = _judged(Probe(_capture(t_end=0.014), _capture(t_headers=0.02), 0.002, 0.014, tries=5))
    assert is_inconclusive(found) and "(5 tries)" in found.message


def test_an_answer_seen_before_an_end_the_reader_saw_late_may_have_come_after_it():
    ended = _capture(t_end=0.030)
    ended.end_late = 0.012  # the end may have come at 18 ms; the answer was seen at 22 ms
    late = Probe(ended, _capture(t_headers=0.020), 0.002, 0.030)
    assert late.raced_the_end and is_inconclusive(_judged(late))
    ended.end_late = 0.001  # the end came after 29 ms for sure: answered while it was open
    assert not late.raced_the_end and _judged(late).outcome is Outcome.PASS
