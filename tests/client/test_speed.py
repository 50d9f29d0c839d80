"""P-10 from CPU growth: the pure verdict, on the measurements a linear and a quadratic client give."""

from __future__ import annotations

import pytest

from conformance.cases.model import case_from_json
from conformance.client.speed import (
    PROBES,
    Growth,
    judge_growth,
    longest_line,
    needs_larger,
    probe_case,
    projected_seconds,
)
from conformance.results import Outcome


def test_linear_growth_passes_and_quadratic_growth_warns():
    assert judge_growth(Growth((0.05, 0.21))).outcome is Outcome.PASS  # about 4x for 4x the bytes
    quadratic = judge_growth(Growth((0.05, 0.80)))  # 16x
    assert quadratic.outcome is Outcome.WARN and quadratic.rule == "P-10"
    assert "quadratic" in quadratic.message and "linear" in quadratic.fix


def test_growth_too_small_to_matter_passes_whatever_the_ratio():
    # a few ms on both probes: clock noise, not buffering
    assert judge_growth(Growth((0.001, 0.03))).outcome is Outcome.PASS
    assert not needs_larger(Growth((0.001, 0.008)))


def test_a_ratio_near_the_bound_asks_a_larger_probe_and_the_last_two_decide():
    # sseclient-py 1.8 measured here: 0.012 s, 0.118 s, 1.93 s (a per-read cost hides its square)
    assert not needs_larger(Growth((0.05, 0.21))) and not needs_larger(Growth((0.05, 0.80)))
    for doubtful in (0.34, 0.40, 0.50):  # 6.8x, 8x, 10x
        assert needs_larger(Growth((0.05, doubtful)))
    assert not needs_larger(Growth((0.012, 0.118, 0.2)))  # no probe larger than the third
    quadratic = judge_growth(Growth((0.014, 0.118, 1.93)))
    assert quadratic.outcome is Outcome.WARN and "16.4x" in quadratic.message
    assert "4096 KiB" in quadratic.actual and quadratic.extra["cpu_seconds"] == [0.014, 0.118, 1.93]
    # a slow linear client near the bound on the first pair is linear on the larger one
    assert judge_growth(Growth((0.05, 0.34, 1.3))).outcome is Outcome.PASS


def test_a_probe_still_parsing_at_its_deadline_warns_and_unmeasured_skips():
    unfinished = judge_growth(Growth((0.05, 0.4, None), unfinished=True))
    assert unfinished.outcome is Outcome.WARN and "4 MiB" in unfinished.message
    assert judge_growth(Growth((None, 0.3))).outcome is Outcome.SKIP
    assert not needs_larger(Growth((None, 0.3)))


def test_the_probes_are_one_event_of_each_size():
    small, large = probe_case(PROBES[0]), probe_case(PROBES[1])
    assert PROBES[1] == 4 * PROBES[0] and PROBES[2] == 4 * PROBES[1]
    assert [len(e.data) for e in small.expect.events] == [PROBES[0]]
    assert small.connections[0].body_length == PROBES[0] + len("data: \n\n")
    assert large.id != small.id and large.rules == ("P-10",)


def test_a_line_s_cpu_time_is_projected_only_from_quadratic_growth_and_at_most_squared():
    mib = 1 << 20
    assert projected_seconds(Growth((0.05, 0.80)), 4 * mib) == pytest.approx(0.80 * 16)  # 16x: squared
    assert projected_seconds(Growth((0.018, 0.516)), 4 * mib) == pytest.approx(0.516 * 16)  # 28.7x: squared
    assert projected_seconds(Growth((0.1, 0.9)), 4 * mib) == pytest.approx(0.9 * 9)  # 9x: as measured
    assert projected_seconds(Growth((0.1, 0.4)), 4 * mib) is None  # linear: P-10 passes, nothing projected
    assert projected_seconds(Growth((0.001, 0.05)), 4 * mib) is None  # too little CPU to matter
    # a third probe still parsing at its deadline: the two before it measured the rate
    assert projected_seconds(Growth((0.05, 0.80, None), unfinished=True), 4 * mib) == pytest.approx(12.8)
    assert projected_seconds(Growth((0.05,)), 4 * mib) is None
    assert projected_seconds(Growth((None, 0.8)), 4 * mib) is None


def test_a_case_s_longest_line_is_counted_between_any_line_endings():
    case = case_from_json({
        "id": "T-1", "description": "lines", "rules": ["C-08"], "level": "must", "spec": "x",
        "connections": [{"stream": [{"text": "data: a\r\n"}, {"text": "b", "repeat": 300},
                                    {"text": "\r\r\n"}]},
                        {"stream": [{"text": "data: " + "c" * 100 + "\n\n"}]}],
        "expect": {"events": []},
    }, "test")
    assert longest_line(case) == 300


@pytest.mark.parametrize(("ended_by", "busy", "expected"), [
    ("returned", False, Outcome.WARN), ("enough", False, Outcome.WARN), ("waiting", False, Outcome.WARN),
    ("deadline", False, Outcome.WARN),  # idle at its deadline, every byte read: the probe's CPU time
    ("deadline", True, Outcome.WARN),  # still at work: "still parsing", a warning of its own
])
def test_which_probe_runs_count(monkeypatch, ended_by, busy, expected):
    """A probe counts when its run ends on a fact, the client's request past the 204 included (the
    legacy sseclient comes back after it), or at its deadline with the client idle and every byte
    read (the same client, asleep 3 s before each reconnect on a loaded machine). Not counting
    them read "the client's CPU time cannot be measured here" (a skip) for a quadratic client."""
    import asyncio

    from conformance.client.observation import Observation
    from conformance.client.runner import ClientRun

    spent = iter([0.06, 0.05, 0.8])  # 256 KiB twice (the cheaper counts), then 1 MiB: 16x

    async def observe(self, case, chunking, fresh=False, attempt=0):
        observation = Observation(ended_by=ended_by, cpu_seconds=next(spent))
        observation.busy_at_deadline = busy
        return observation, None

    monkeypatch.setattr(ClientRun, "observe", observe)
    verdict = judge_growth(asyncio.run(ClientRun(lambda url: iter(())).growth()))
    assert verdict.outcome is expected, verdict.message
    assert ("still parsing" in verdict.message) is busy


def test_a_probe_lost_with_a_shared_adapter_process_runs_again_on_one_of_its_own():
    """eventsource v2's Node harness dies on some cases, taking every run on it: a probe on it was
    lost, and P-10 read "cannot be measured" in one report and passed in the next. A lost probe
    runs again alone, as a lost item does."""
    import asyncio

    from conformance.client.observation import Observation
    from conformance.client.runner import ClientRun

    class Shared:
        """A pooled target whose shared process another run crashes under each probe."""

        capabilities: frozenset[str] = frozenset()
        pool = object()
        name = "shared"
        spent = iter([0.06, 0.05, 0.8])

        async def observe(self, invocation, *, profile, timeout, watch=None, fresh=False):
            if not fresh:
                return Observation(ended_by="raised", lost=True)
            return Observation(ended_by="returned", cpu_seconds=next(self.spent))

    async def main():
        run = ClientRun(Shared())
        async with run.server:
            return await run.growth()

    verdict = judge_growth(asyncio.run(main()))
    assert verdict.outcome is Outcome.WARN and "quadratic" in verdict.message, verdict.message
