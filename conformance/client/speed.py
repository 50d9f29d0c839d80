"""P-10, linear-time buffering: judged once per run from how the client's CPU time grows.

A client that joins a long line's pieces by ``buffer += chunk`` copies the whole buffer on every
read: its CPU time grows with the square of the line. Two probe runs, one event of ``SMALL``
and one of ``LARGE`` bytes (four times as much), read in whatever pieces the client reads,
measure the client's CPU time (the run's own thread where the adapter reports it, as the Python worker
does, else its process's); a linear client needs about four
times as much on the larger one, a quadratic one sixteen. CPU time, not wall time: no load
moves it much, and the ratio cancels the machine's speed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..cases.model import Case, case_from_json
from ..results import Outcome, Result, outcome_for_level

__all__ = ["LARGE", "SMALL", "Growth", "judge_growth", "probe_case"]

SMALL = 256 << 10
LARGE = 1 << 20
QUADRATIC = 8.0  # growth past this for 4x the bytes is worse than linear (linear 4, quadratic 16)
NOTICEABLE = 0.1  # CPU seconds on the larger probe below which growth does not matter
FIX = (
    "buffer in linear time: collect the pieces of a line in a list or bytearray and join once; "
    "`data += chunk` on bytes or str copies the whole buffer on every read"
)


def probe_case(size: int) -> Case:
    """One event of ``size`` bytes of data."""
    raw = {
        "id": f"P10-{size >> 10}K",
        "description": f"one {size >> 10} KiB data line (P-10 probe)",
        "rules": ["P-10"],
        "level": "should",
        "spec": "event-stream-interpretation",
        "connections": [{"stream": [{"text": "data: "}, {"text": "p", "repeat": size}, {"text": "\n\n"}]}],
        "expect": {"events": [{"data": "p" * size}]},
    }
    return case_from_json(raw, "speed")


@dataclass(frozen=True)
class Growth:
    """The CPU seconds of the two probes (None: not measured), and whether the larger one was
    still running at its deadline."""

    small: float | None
    large: float | None
    unfinished: bool = False


def judge_growth(growth: Growth) -> Result:
    """P-10's verdict from the two measurements."""
    expected = f"at most {QUADRATIC:.0f}x the CPU time for 4x the bytes (linear: 4x)"
    base = {"rule": "P-10", "case": "P10-probe", "expected": expected, "fix": FIX}
    if growth.unfinished:
        return Result(outcome=outcome_for_level("should"),
                      message=f"still parsing a {LARGE >> 20} MiB line at its deadline",
                      actual="unfinished", **base)
    if growth.small is None or growth.large is None:
        return Result(outcome=Outcome.SKIP, message="the client's CPU time cannot be measured here",
                      actual="(unknown)", **base)
    ratio = growth.large / max(growth.small, 1e-4)
    sizes = f"{growth.small:.3f} s for {SMALL >> 10} KiB, {growth.large:.3f} s for {LARGE >> 10} KiB"
    actual = f"{sizes} ({ratio:.1f}x)"
    data = {"cpu_seconds": [round(growth.small, 4), round(growth.large, 4)], "ratio": round(ratio, 2)}
    if growth.large >= NOTICEABLE and ratio > QUADRATIC:
        return Result(outcome=outcome_for_level("should"), actual=actual, extra=data,
                      message=f"CPU time grows {ratio:.1f}x for 4x the bytes: quadratic buffering", **base)
    return Result(outcome=Outcome.PASS, actual=actual, extra=data,
                  message=f"CPU time grows {ratio:.1f}x for 4x the bytes", **base)
