"""P-10 from CPU growth: the pure verdict, on the measurements a linear and a quadratic client give."""

from __future__ import annotations

from conformance.client.speed import PROBES, Growth, judge_growth, needs_larger, probe_case
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
