"""P-07's probe: a stream that ends by itself within a few ms races the second request's answer.

The reference aiohttp server's stream-error endpoint ends after 14 ms: its second request was
answered in 3 ms in one regeneration (pass) and after the end in the next (inconclusive), alone
both times. Such a probe is run again, a few times, before it is called inconclusive.
"""

from __future__ import annotations

import asyncio

from conformance.server import probe as probe_module
from conformance.server.capture import Capture, Request
from conformance.server.registry import Probe

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

    monkeypatch.setattr(probe_module, "_probe_once", once)
    found = asyncio.run(probe_module.probe(REQUEST, REQUEST, 1.0))
    assert len(made) == 3 and found.tries == 3 and not found.raced_the_end

    monkeypatch.setattr(probe_module, "_probe_once", lambda *a: _later(_probe(0.020, 0.014)))
    found = asyncio.run(probe_module.probe(REQUEST, REQUEST, 1.0, tries=4))
    assert found.tries == 4 and found.raced_the_end


async def _later(value: Probe) -> Probe:
    return value
