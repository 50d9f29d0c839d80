"""The check table: one small function per rule, registered with its rule ID.

``@check("S-09", needs=STREAM)`` puts a function in ``CHECKS``; grep for the ID to find it. The
table carries the preconditions as data (which profile, which opt-in option, whether the check
needs a response or a 200 body), so the runner skips with a reason instead of each check
re-testing them, and which request beyond the main stream each judges (``sends``: HEAD, the
second-request probe, the CORS preflight, the resume). ``timed`` marks a check whose verdict a
time bound can decide (a burst, a late header, an unanswered request): ``True`` when every
verdict of it can rest on time, or a predicate on the observation for a check with some verdicts
that are facts (S-23's "no event" only rests on time when the read window ran out). The runner
reports such a non-pass only when it holds with every read spread over the reader's lateness,
and otherwise observes again within the run (``runner.rests_on_lateness``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from ..display import excerpt, visible
from ..results import Outcome, Result, outcome_for_level
from ..rules import RULES
from .capture import Capture
from .options import Options
from .overlap import Look
from .stream import Stream
from .timing import Delivery, measure

__all__ = [
    "ANY", "CHECKS", "INCONCLUSIVE", "RESPONSE", "SENDS", "STREAM", "Check", "Context", "Probe", "broken",
    "check", "inconclusive", "info", "is_inconclusive", "passed", "shown", "skipped",
]

# The requests ``observe`` makes after the main stream, each judged by one check (``sends``).
SENDS = frozenset({"head", "probe", "preflight", "resume"})

# Preconditions, in the order they are tested.
ANY = "any"  # judges even a request that got no response (P-06: nothing answered; S-05: h2 refused)
RESPONSE = "response"  # needs a status line and headers
STREAM = "stream"  # needs a 200 response: headers and body of an error page are not judged


@dataclass
class Context:
    """Everything a check may look at. Captures other than ``main`` are None unless asked for."""

    options: Options
    main: Capture
    stream: Stream
    head: Capture | None = None
    resumed: Capture | None = None
    resumed_stream: Stream | None = None
    resume_from: str | None = None
    preflight: Capture | None = None
    probe: Probe | None = None  # a second request while a stream is open (P-07)

    @functools.cached_property
    def delivery(self) -> Delivery:
        """When the body's bytes and events reached the client (S-04, S-06, P-02, P-06)."""
        return measure(self.main, self.stream)

    def at(self, offset: int) -> str:
        """An escaped excerpt of the body around ``offset``, labelled with the offset."""
        return excerpt(self.stream.body, offset)


Timed = bool | Callable[[Context], bool]


@dataclass(frozen=True)
class Check:
    rule: str
    func: Callable[[Context], list[Result]]
    needs: str = RESPONSE
    profile: str | None = None  # None: every profile
    option: str | None = None  # an opt-in option (resume, origin, idle); None: always runs
    timed: Timed = False  # a time bound can decide the verdict (always, or on this observation)
    sends: str | None = None  # the request of SENDS it judges; None: the main stream only

    @property
    def title(self) -> str:
        return RULES[self.rule].title

    def on_time(self, ctx: Context) -> bool:
        """Can a time bound have decided this check's verdict on ``ctx``?"""
        return self.timed(ctx) if callable(self.timed) else self.timed


@dataclass(frozen=True)
class Probe:
    """Two requests: ``first`` a stream kept open, ``second`` sent once its headers arrived (or,
    ``counted``, both at once: ``first`` is then the one answered first)."""

    first: Capture
    second: Capture | None  # None: the first never answered, so nothing was probed
    sent_at: float  # seconds after the first request started
    first_open_until: float | None  # when the first body ended by itself (None: it did not)
    tries: int = 1  # probes made: a race with a stream that ends by itself is run again
    closed_at: float | None = None  # when the suite closed the first, the second still unanswered
    counted: bool = False  # both sent at once, judged on the kernel's byte counts (overlap.py)
    overlap: Look | None = None  # counted: the look at which both responses were coming in

    @property
    def answered_at(self) -> float | None:
        """When the second request's headers came, in the first request's seconds."""
        second = self.second
        return None if second is None or second.t_headers is None else self.sent_at + second.t_headers

    @property
    def surely_open_until(self) -> float | None:
        """Until when the first stream was open for sure: its end, as seen, less the reader's
        lateness before it saw it (a late reader sees an answer and an end in either order)."""
        return None if self.first_open_until is None else self.first_open_until - self.first.end_late

    @property
    def raced_the_end(self) -> bool:
        """Did the first stream end by itself before the probe could tell (before the second
        request was sent, or before its answer came)? A stream of a few ms loses that race now
        and then however fast the server is: such a probe is run again."""
        if self.counted:  # only a look at both responses coming in, or a close, tells
            answered = self.second is not None and self.second.answered
            return self.first.status == 200 and answered and self.overlap is None and self.closed_at is None
        open_until = self.surely_open_until
        if self.first.status != 200 or open_until is None:
            return False
        answered = self.answered_at
        return self.second is None or (answered is not None and answered > open_until)


CHECKS: dict[str, Check] = {}


def check(rule_id: str, *, needs: str = RESPONSE, profile: str | None = None,
          option: str | None = None, timed: Timed = False, sends: str | None = None) -> Callable:
    """Register ``func`` as the owner of ``rule_id`` (one owner per rule)."""
    if rule_id not in RULES:
        raise KeyError(f"{rule_id} is not in the rule table")
    if sends not in (None, *SENDS):
        raise ValueError(f"{rule_id}: sends={sends!r} is none of {sorted(SENDS)}")

    def register(func: Callable[[Context], list[Result]]) -> Callable[[Context], list[Result]]:
        if rule_id in CHECKS:
            raise ValueError(f"{rule_id} already has a check: {CHECKS[rule_id].func.__name__}")
        CHECKS[rule_id] = Check(rule_id, func, needs, profile, option, timed, sends)
        return func

    return register


def passed(rule: str, message: str, **extra) -> list[Result]:
    return [Result(rule=rule, outcome=Outcome.PASS, message=message, **extra)]


def info(rule: str, message: str, **extra) -> list[Result]:
    return [Result(rule=rule, outcome=Outcome.INFO, message=message, **extra)]


def skipped(rule: str, reason: str) -> list[Result]:
    return [Result(rule=rule, outcome=Outcome.SKIP, message=reason)]


INCONCLUSIVE = "inconclusive: "


def inconclusive(rule: str, reason: str) -> list[Result]:
    """A skip that a time bound decided (the stream ended before the probe could tell): unlike
    other skips of a timed check, it counts as a finding a late reader may have made."""
    return skipped(rule, INCONCLUSIVE + reason)


def is_inconclusive(result: Result) -> bool:
    return result.outcome is Outcome.SKIP and result.message.startswith(INCONCLUSIVE)


def broken(rule: str, message: str, *, fix: str, expected: str | None = None,
           actual: str | None = None, evidence: str | None = None, **extra) -> Result:
    """A broken rule costs what its level says: fail for must, warn for should."""
    return Result(rule=rule, outcome=outcome_for_level(RULES[rule].level), message=message,
                  expected=expected, actual=actual, evidence=evidence, fix=fix, **extra)


def follows_s09(ctx: Context) -> dict[str, dict[str, str]]:
    """``broken(..., **follows_s09(ctx))``: no event because no blank line ended one, S-09's own
    finding; the outputs show such a verdict under S-09's, not as a cause of its own."""
    return {"extra": {"follows": "S-09"}} if ctx.stream.no_blank_line else {}


def shown(value: str | bytes, limit: int = 80) -> str:
    """Header values and payloads for messages: escaped, short."""
    return visible(value, limit=limit)
