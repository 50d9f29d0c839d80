"""P-10 from CPU growth: the pure verdict, on the measurements a linear and a quadratic client give."""

from __future__ import annotations

from conformance.client.speed import LARGE, SMALL, Growth, judge_growth, probe_case
from conformance.results import Outcome


def test_linear_growth_passes_and_quadratic_growth_warns():
    assert judge_growth(Growth(0.05, 0.21)).outcome is Outcome.PASS  # about 4x for 4x the bytes
    quadratic = judge_growth(Growth(0.05, 0.80))  # 16x
    assert quadratic.outcome is Outcome.WARN and quadratic.rule == "P-10"
    assert "quadratic" in quadratic.message and "linear" in quadratic.fix


def test_growth_too_small_to_matter_passes_whatever_the_ratio():
    # a few ms on both probes: clock noise, not buffering
    assert judge_growth(Growth(0.001, 0.03)).outcome is Outcome.PASS


def test_a_probe_still_parsing_at_its_deadline_warns_and_unmeasured_skips():
    assert judge_growth(Growth(None, None, unfinished=True)).outcome is Outcome.WARN
    assert judge_growth(Growth(None, 0.3)).outcome is Outcome.SKIP


def test_the_probes_are_one_event_of_each_size():
    small, large = probe_case(SMALL), probe_case(LARGE)
    assert LARGE == 4 * SMALL
    assert [len(e.data) for e in small.expect.events] == [SMALL]
    assert small.connections[0].body_length == SMALL + len("data: \n\n")
    assert large.id != small.id and large.rules == ("P-10",)
