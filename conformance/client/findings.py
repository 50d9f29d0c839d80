"""Findings: one thing a client got wrong, found in its events, its notifications or its
requests (the judge turns them into verdicts per rule). Pure: no I/O."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from ..cases.model import Case, ExpectRequest
from ..display import visible
from ..sse import Event
from .fixes import NOTIFICATION_FIX
from .observation import Observation
from .slots import RecordedRequest

__all__ = ["Finding", "compare_events", "gap_ms", "notification_findings", "placed",
           "reconnect_delay_findings", "request_findings", "show_event", "starved_in_gap_ms"]

# The case server stamps a connection's end after its last write returns, which can be a few ms
# after the client saw the end of the body; a lower bound only (N-13) must not count that skew.
END_STAMP_SLACK_MS = 25


@dataclass(frozen=True)
class Finding:
    """One thing the client got wrong (or could not be judged on)."""

    message: str
    expected: str | None = None
    actual: str | None = None
    error: bool = False  # the suite could not judge: ERROR instead of FAIL
    provisional: bool = False  # more time could undo it (missing events, a hang): not a fact yet
    late: bool = False  # an upper time bound decided it (a late reconnect): load could cause it
    fix: str | None = None  # the fix for this diagnosis, when the case's rules do not say it


def show_event(event: Event) -> str:
    return f'event="{visible(event.event)}" data="{visible(event.data)}" id="{visible(event.id)}"'


def _show_events(events: Sequence[Event], limit: int = 6) -> str:
    if not events:
        return "(no events)"
    shown = [f"#{i + 1} {show_event(e)}" for i, e in enumerate(events[:limit])]
    if len(events) > limit:
        shown.append(f"… {len(events) - limit} more")
    return "; ".join(shown)


def compare_events(expected: Sequence[Event], actual: Sequence[Event]) -> Finding | None:
    """The first difference between two event lists, or None when they are equal."""
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if want != got:
            fields = [name for name in ("event", "data", "id") if getattr(want, name) != getattr(got, name)]
            message = f"event #{index + 1} differs in {', '.join(fields)}"
            return Finding(message, show_event(want), show_event(got))
    if len(actual) < len(expected):
        message = f"reported {len(actual)} of {len(expected)} events; first missing is #{len(actual) + 1}"
        return Finding(message, _show_events(expected[len(actual) :]), _show_events(actual), provisional=True)
    if len(actual) > len(expected):
        message = f"reported {len(actual) - len(expected)} extra event(s) after the expected {len(expected)}"
        return Finding(message, _show_events(expected), _show_events(actual[len(expected) :]))
    return None


def placed(sequence: Sequence[str]) -> list[tuple[str, int]]:
    """The notifications of a case's ``expect.notifications``, each with the number of events
    before it (the shape of ``Observation.notifications``)."""
    return [(token, sequence[:i].count("event")) for i, token in enumerate(sequence) if token != "event"]


def _show_notification(notification: tuple[str, int]) -> str:
    kind, before = notification
    return f"{kind} after event #{before}" if before else f"{kind} before any event"


def notification_findings(expected: Sequence[str], observation: Observation) -> list[Finding]:
    """The open / error notifications against the case's sequence: the first of the wrong kind or
    place among the events, one missing (provisional: more time could bring it), or one too many."""
    want, got = placed(expected), observation.notifications
    shown = ", ".join(expected) or "(none)", ", ".join(observation.timeline()) or "(none)"
    show = _show_notification
    for index, (wanted, reported) in enumerate(zip(want, got, strict=False)):
        if wanted != reported:
            message = f"notification #{index + 1} is {show(reported)}, expected {show(wanted)}"
            return [Finding(message, *shown, fix=NOTIFICATION_FIX)]
    if len(got) < len(want):
        message = f"reported {len(got)} of {len(want)} notifications; first missing is {show(want[len(got)])}"
        return [Finding(message, *shown, provisional=True, fix=NOTIFICATION_FIX)]
    if len(got) > len(want):
        message = f"reported {len(got) - len(want)} extra notification(s), first {show(got[len(want)])}"
        return [Finding(message, *shown, fix=NOTIFICATION_FIX)]
    return []


def request_findings(
    case: Case, requests: Sequence[RecordedRequest], total: int | None = None
) -> list[Finding]:
    """``total`` is how many requests came (the log keeps only the first and last ones)."""
    found: list[Finding] = []
    expect = case.expect
    made = len(requests) if total is None else total
    if expect.requests is not None and made != expect.requests:
        message = f"made {made} request(s), expected exactly {expect.requests}"
        if expect.requests > len(case.connections):
            message += " (the last is answered 204 No Content)"
        got = ", ".join(f"{r.method} {r.path}" for r in requests[:8]) or "(none)"
        too_few = made < expect.requests  # too many can never be undone
        found.append(Finding(message, str(expect.requests), got, provisional=too_few))
    for index, (connection, request) in enumerate(zip(case.connections, requests, strict=False)):
        if connection.expect_request is not None:
            found += _check_request(index + 1, connection.expect_request, request)
    pairs = list(itertools.pairwise(requests))
    gaps, starved = [gap_ms(*pair) for pair in pairs], [starved_in_gap_ms(*pair) for pair in pairs]
    found += reconnect_delay_findings(gaps, expect.min_reconnect_delay_ms, expect.max_reconnect_delay_ms,
                                      starved)
    return found


def gap_ms(previous: RecordedRequest, request: RecordedRequest) -> float:
    """From the end of one connection (its request, if it never ended) to the next request."""
    return (request.received - (previous.ended or previous.received)) * 1000


def starved_in_gap_ms(previous: RecordedRequest, request: RecordedRequest) -> tuple[float, float]:
    """The least and the most of that gap the client spent runnable but off the CPU ((0, 0):
    unseen). The stamp is read when the server's loop gets to the request, so the wait after
    its arrival (``stamped_late``) may or may not be in it."""
    since = previous.starved_at_ended if previous.ended is not None else previous.starved_at_received
    if since is None or request.starved_at_received is None:
        return 0.0, 0.0
    most = max(0.0, request.starved_at_received - since) * 1000
    return max(0.0, most - request.stamped_late * 1000), most


def reconnect_delay_findings(
    gaps_ms: Sequence[float], low: int | None, high: int | None,
    starved_ms: Sequence[tuple[float, float]] = (),
) -> list[Finding]:
    """Each gap against the case's bounds (N-13), less the machine's share of it (``starved_ms``:
    least, most): load only lengthens a gap. Too early, less the least, is the verdict (too early
    only so, the run is observed again: timer_race.py); too late, less the most, is ``late``."""
    found: list[Finding] = []
    for index, gap_ms in enumerate(gaps_ms):
        least, most = starved_ms[index] if index < len(starved_ms) else (0.0, 0.0)
        if low is not None and gap_ms - least + END_STAMP_SLACK_MS < low:
            found.append(_gap_finding(index, gap_ms, least, f"at least {low} ms", late=False))
        if high is not None and gap_ms - most > high:
            found.append(_gap_finding(index, gap_ms, most, f"at most {high} ms", late=True))
    return found


def _gap_finding(index: int, gap_ms: float, starved: float, want: str, late: bool) -> Finding:
    own = gap_ms - starved
    message = f"request #{index + 2} came {gap_ms:.0f} ms after the previous connection ended"
    if starved >= 1:
        message += f", {own:.0f} ms of it the client's own wait ({starved:.0f} ms waiting for a CPU)"
    return Finding(message, want, f"{own:.0f} ms", late=late)


def _check_request(number: int, want: ExpectRequest, got: RecordedRequest) -> list[Finding]:
    found: list[Finding] = []
    if want.method is not None and got.method != want.method:
        found.append(Finding(f"request #{number} used method {got.method}", want.method, got.method))
    for name, value in want.headers.items():
        actual = got.header(name)
        if actual is None or actual.strip() != value.strip():
            shown = "(absent)" if actual is None else f'{name}: "{visible(actual)}"'
            found.append(Finding(f"request #{number} header {name}", f'{name}: "{visible(value)}"', shown))
    for name in want.absent_headers:
        if (actual := got.header(name)) is not None:
            shown = f'{name}: "{visible(actual)}"'
            found.append(Finding(f"request #{number} must not carry {name}", "(absent)", shown))
    if want.body is not None and got.body != want.body:
        found.append(Finding(f"request #{number} body", f'"{visible(want.body)}"', f'"{visible(got.body)}"'))
    if want.path_suffix is not None and not got.path.split("?")[0].endswith(want.path_suffix):
        found.append(Finding(f"request #{number} went to {got.path}", f"…{want.path_suffix}", got.path))
    return found
