"""P-10, linear-time buffering, judged once per run from how the client's CPU time grows: a
client that joins a long line's pieces by ``buffer += chunk`` spends CPU time growing with the
square of the line. Probes of one event each, four times larger from one to the next, measure
the client's CPU time (not wall time: load barely moves it, and the ratio cancels the machine's
speed): linear needs about 4x, quadratic 16x. A ratio in doubt asks a larger probe, and the
first runs twice, counting its cheaper run (docs/timing.md, "P-10").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..cases.model import Case, case_from_json
from ..results import Outcome, Result, outcome_for_level

__all__ = ["PROBES", "Growth", "judge_growth", "longest_line", "needs_larger", "probe_case",
           "projected_seconds"]

PROBES = (256 << 10, 1 << 20, 4 << 20)  # the third only when the first two leave it in doubt
QUADRATIC = 8.0  # growth past this for 4x the bytes is worse than linear (linear 4, quadratic 16)
DOUBT = 2 ** 0.5  # a ratio within this factor of QUADRATIC asks the next probe
NOTICEABLE = 0.1  # CPU seconds on the larger probe below which growth does not matter
PAST_DEADLINE = 1.0  # a case of megabytes is not run when the probes put it this far past its deadline
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
    """The CPU seconds of the probes run so far, in the order of :data:`PROBES` (None: not
    measured), and whether the last one was still running at its deadline."""

    seconds: tuple[float | None, ...]
    unfinished: bool = False

    @property
    def ratio(self) -> float | None:
        """The growth between the last two probes."""
        if len(self.seconds) < 2 or None in self.seconds[-2:]:
            return None
        small, large = self.seconds[-2:]
        return large / max(small, 1e-4)  # type: ignore[operator]

    @property
    def quadratic(self) -> bool:
        """Did the last two probes grow worse than linearly, by enough CPU time to matter?"""
        ratio = self.ratio
        return ratio is not None and self.seconds[-1] >= NOTICEABLE and ratio > QUADRATIC  # type: ignore[operator]


def projected_seconds(growth: Growth, size: int) -> float | None:
    """The CPU seconds on a line of ``size`` bytes of a client whose probes grew quadratically (as
    P-10 judges; else None): its larger probe's, grown at the measured rate but at most squared (a
    cheap small probe gives a rate that does not hold at megabytes)."""
    seconds = growth.seconds
    while seconds and seconds[-1] is None:  # a probe still parsing at its deadline: the ones before
        seconds = seconds[:-1]
    measured = Growth(seconds)
    ratio, larger = measured.ratio, seconds[-1] if seconds else None
    if ratio is None or larger is None or not measured.quadratic:
        return None
    return larger * (size / PROBES[len(seconds) - 1]) ** min(2.0, math.log(ratio, 4))


def longest_line(case: Case) -> int:
    """The bytes of the case's longest line: what the cost of buffering a line grows with."""
    return max((connection.longest_line for connection in case.connections), default=0)


def needs_larger(growth: Growth) -> bool:
    """Whether the probes so far leave the verdict in doubt and a larger one is left to run."""
    ratio = growth.ratio
    return (ratio is not None and len(growth.seconds) < len(PROBES) and not growth.unfinished
            and growth.seconds[-1] >= NOTICEABLE  # type: ignore[operator]
            and QUADRATIC / DOUBT < ratio < QUADRATIC * DOUBT)


def judge_growth(growth: Growth) -> Result:
    """P-10's verdict from the last two measurements."""
    expected = f"at most {QUADRATIC:.0f}x the CPU time for 4x the bytes (linear: 4x)"
    base = {"rule": "P-10", "case": "P10-probe", "expected": expected, "fix": FIX}
    last = PROBES[len(growth.seconds) - 1]
    if growth.unfinished:
        return Result(outcome=outcome_for_level("should"),
                      message=f"still parsing a {last >> 20} MiB line at its deadline",
                      actual="unfinished", **base)
    if (ratio := growth.ratio) is None:
        return Result(outcome=Outcome.SKIP, message="the client's CPU time cannot be measured here",
                      actual="(unknown)", **base)
    seconds = [s for s in growth.seconds if s is not None]  # all of them: a ratio needs no gap
    probes = ", ".join(f"{s:.3f} s for {size >> 10} KiB" for s, size in zip(seconds, PROBES, strict=False))
    actual = f"{probes} ({ratio:.1f}x)"
    data = {"cpu_seconds": [round(s, 4) for s in seconds], "ratio": round(ratio, 2)}
    quadratic = growth.quadratic
    message = f"CPU time grows {ratio:.1f}x for 4x the bytes" + (": quadratic buffering" if quadratic else "")
    outcome = outcome_for_level("should") if quadratic else Outcome.PASS
    return Result(outcome=outcome, actual=actual, extra=data, message=message, **base)
