"""Judging: what the client did (an Observation plus the server's request log) against a case.

Every verdict is a :class:`~conformance.results.Result` per rule the case covers, with the first
difference named precisely, whitespace made visible, the chunks that were sent, and a likely fix.
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ..cases.chunkings import Chunking
from ..cases.model import Abort, Case, ExpectRequest, Send
from ..display import visible
from ..results import Outcome, Result, outcome_for_level
from ..sse import Event
from ..structured import client_actual
from .caseserver import RecordedRequest
from .observation import Observation

__all__ = [
    "CHUNKING_RULES",
    "Finding",
    "Judgement",
    "judge",
    "judge_run",
    "judges_ending",
    "notification_findings",
    "placed",
    "reconnect_delay_findings",
    "show_event",
]

# A client that passes a case whole but fails it under a chunking breaks this rule.
CHUNKING_RULES = {"crlf": "C-10", "utf8": "C-03"}
DEFAULT_CHUNKING_RULE = "C-37"

# Likely fixes, by rule; the chunking hints win when the failure only shows under a split.
FIXES = {
    "C-02": "decode with errors='replace' (one U+FFFD per maximal invalid subpart), never fail",
    "C-03": "decode incrementally (codecs.getincrementaldecoder('utf-8')) or decode whole lines",
    "C-04": "strip one U+FEFF at the very start of each response body, even split across reads",
    "C-07": "buffer up to 3 bytes at the start of the body before deciding whether it is a BOM",
    "C-08": "end lines at CRLF, lone LF and lone CR (bytes.splitlines-style, not str.splitlines)",
    "C-09": "treat each CR, LF or CRLF as its own terminator",
    "C-10": "end the line at CR at once; skip an LF that starts the next read",
    "C-11": "split lines on CR and LF only (str.splitlines also splits on U+2028, NEL...)",
    "C-15": "remove exactly one U+0020 after the colon; keep other leading and trailing whitespace",
    "C-17": "a line without a colon is a field named by the whole line, with an empty value",
    "C-19": "only an empty line dispatches; do not strip lines before testing for blank",
    "C-20": "join data lines with LF and remove exactly one trailing LF",
    "C-23": "reset the event type buffer after every dispatch",
    "C-26": "reset the event type buffer after every dispatch, even when no data was buffered",
    "C-27": "report the last event ID string, which persists until an id field changes it",
    "C-33": "discard the pending event at EOF; only a blank line dispatches",
    "C-37": "buffer bytes across reads; a line is complete only at CR, LF or CRLF",
    "C-38": "buffer a whole line and event however large; never cap them below what the server sends",
    "C-39": "do not report an event for a block without data",
    "N-03": "accept text/event-stream with any parameters; reject any other type by raising",
    "N-04": "raise on any status other than 200 and do not reconnect",
    "N-05": "stop reconnecting on 204 No Content",
    "N-11": "send Last-Event-ID on reconnect exactly when the last event ID is non-empty",
    "N-12": "seed the new connection with the last event ID",
    "N-13": "wait at least the reconnection time (the retry field) before reconnecting",
    "O-07": "return at data: [DONE] without waiting for the connection to close",
    "O-08": "raise on an error payload; never return partial text",
    "O-09": "concatenate choices[0].delta.content across every chunk",
}
CHUNKING_FIXES = {
    "1-byte": FIXES["C-37"],
    "2-byte": FIXES["C-37"],
    "crlf": FIXES["C-10"],
    "utf8": FIXES["C-03"],
    "random": FIXES["C-37"],
}
# Rules a case lists for the reading it needs (chunk splits) or for its profile's whole job
# (assemble the text, stop at [DONE]): their fixes apply only when nothing more specific does.
SPLIT_RULES = frozenset({"C-03", "C-10", "C-37"})
UMBRELLA_RULES = frozenset({"O-07", "O-09"})
# Fixes for how the client ended, whatever the case is about.
ENDING_FIXES = {
    "hang": "return (end the iteration) when the response body ends, unless the client reconnects",
    "hang-error": "raise when the connection fails (non-200, wrong type, dropped); never wait forever",
    "returned": "raise when the connection fails: a non-200 status, a wrong type, or a dropped stream",
    "done": FIXES["O-07"],
}
# How a run the runner stopped is described, by how it ended (observation.ENDINGS).
WAITED = {
    "deadline": "timed out after {seconds:.1f} s",
    "waiting": "waits for more after {seconds:.1f} s (asleep, every byte read, no timer due)",
}
NOTIFICATION_FIX = (
    "report open each time a 200 text/event-stream response is accepted, before its events; report "
    "error each time a connection ends, drops or fails, after its events and before reconnecting, "
    "and when giving up (a 204, any other status, a wrong type); nothing for a redirect"
)


LARGE_CASE = 1 << 20  # bytes: a case this large may be unfinished at its deadline by slowness alone

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
            return Finding(
                f"event #{index + 1} differs in {', '.join(fields)}",
                show_event(want),
                show_event(got),
            )
    if len(actual) < len(expected):
        return Finding(
            f"reported {len(actual)} of {len(expected)} events; first missing is #{len(actual) + 1}",
            _show_events(expected[len(actual) :]),
            _show_events(actual),
            provisional=True,
        )
    if len(actual) > len(expected):
        return Finding(
            f"reported {len(actual) - len(expected)} extra event(s) after the expected {len(expected)}",
            _show_events(expected) if expected else "(no events)",
            _show_events(actual[len(expected) :]),
        )
    return None


def placed(sequence: Sequence[str]) -> list[tuple[str, int]]:
    """The notifications of a case's ``expect.notifications``, each with the number of events
    before it (the shape of ``Observation.notifications``)."""
    out: list[tuple[str, int]] = []
    events = 0
    for token in sequence:
        if token == "event":
            events += 1
        else:
            out.append((token, events))
    return out


def _show_notification(notification: tuple[str, int]) -> str:
    kind, before = notification
    return f"{kind} after event #{before}" if before else f"{kind} before any event"


def notification_findings(expected: Sequence[str], observation: Observation) -> list[Finding]:
    """The open / error notifications against the case's sequence (capability notifications):
    the first one of the wrong kind or in the wrong place among the events, one missing (more
    time could bring it: provisional), or one too many."""
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


def _request_findings(
    case: Case, requests: Sequence[RecordedRequest], total: int | None = None
) -> list[Finding]:
    """``total`` is how many requests came (the log keeps only the first and last ones)."""
    found: list[Finding] = []
    expect = case.expect
    made = len(requests) if total is None else total
    if expect.requests is not None and made != expect.requests:
        final_204 = expect.requests > len(case.connections)
        found.append(
            Finding(
                f"made {made} request(s), expected exactly {expect.requests}"
                + (" (the last is answered 204 No Content)" if final_204 else ""),
                str(expect.requests),
                ", ".join(f"{r.method} {r.path}" for r in requests[:8]) or "(none)",
                provisional=made < expect.requests,  # too many can never be undone
            )
        )
    for index, (connection, request) in enumerate(zip(case.connections, requests, strict=False)):
        if connection.expect_request is not None:
            found += _check_request(index + 1, connection.expect_request, request)
    found += reconnect_delay_findings(
        [_gap_ms(requests[i - 1], requests[i]) for i in range(1, len(requests))],
        expect.min_reconnect_delay_ms,
        expect.max_reconnect_delay_ms,
    )
    return found


def _gap_ms(previous: RecordedRequest, request: RecordedRequest) -> float:
    """From the end of one connection (its request, if it never ended) to the next request."""
    return (request.received - (previous.ended or previous.received)) * 1000


def reconnect_delay_findings(gaps_ms: Sequence[float], low: int | None, high: int | None) -> list[Finding]:
    """Each gap against the case's bounds (N-13). Too early is a fact; too late is ``late``:
    a loaded machine can delay a reconnect (the case's question is time itself)."""
    found: list[Finding] = []
    for index, gap_ms in enumerate(gaps_ms):
        message = f"request #{index + 2} came {gap_ms:.0f} ms after the previous connection ended"
        if low is not None and gap_ms + END_STAMP_SLACK_MS < low:
            found.append(Finding(message, f"at least {low} ms", f"{gap_ms:.0f} ms"))
        if high is not None and gap_ms > high:
            found.append(Finding(message, f"at most {high} ms", f"{gap_ms:.0f} ms", late=True))
    return found


def _check_request(number: int, want: ExpectRequest, got: RecordedRequest) -> list[Finding]:
    found: list[Finding] = []
    if want.method is not None and got.method != want.method:
        found.append(Finding(f"request #{number} used method {got.method}", want.method, got.method))
    for name, value in want.headers.items():
        actual = got.header(name)
        if actual is None or actual.strip() != value.strip():
            found.append(
                Finding(
                    f"request #{number} header {name}",
                    f'{name}: "{visible(value)}"',
                    "(absent)" if actual is None else f'{name}: "{visible(actual)}"',
                )
            )
    for name in want.absent_headers:
        actual = got.header(name)
        if actual is not None:
            shown = f'{name}: "{visible(actual)}"'
            found.append(Finding(f"request #{number} must not carry {name}", "(absent)", shown))
    if want.body is not None and got.body != want.body:
        found.append(Finding(f"request #{number} body", f'"{visible(want.body)}"', f'"{visible(got.body)}"'))
    if want.path_suffix is not None and not got.path.split("?")[0].endswith(want.path_suffix):
        found.append(Finding(f"request #{number} went to {got.path}", f"…{want.path_suffix}", got.path))
    return found


def _held_open(case: Case) -> bool:
    return bool(case.connections) and case.connections[-1].ends_held_open


def _ended_in_failure(case: Case, requests: Sequence[RecordedRequest]) -> bool:
    """The last response the client got was one to refuse (see ``Connection.refused``), or its
    connection was dropped."""
    if not requests:
        return False
    index = len(requests) - 1
    if index >= len(case.connections):
        return True  # the 204 after the script
    connection = case.connections[index]
    dropped = connection.no_response or any(isinstance(step, Abort) for step in connection.stream)
    return dropped or connection.refused  # N-04 for its status, N-03 for its type


def _hang(message: str, expected: str, fix: str | None) -> Finding:
    """The client was still running at its deadline: more time could change that. ``fix``
    None: the case's own rule says what to fix (see :func:`_fix`)."""
    return Finding(message, expected, "hang", provisional=True, fix=ENDING_FIXES.get(fix or ""))


def _outcome_findings(
    case: Case, observation: Observation, seconds: float, requests: Sequence[RecordedRequest]
) -> list[Finding]:
    """Did the client end the way the case says: returned, raised, or still on an open stream?"""
    expect = case.expect
    if observation.broken:
        return [Finding(f"the adapter's output cannot be judged: {observation.broken}", error=True)]
    waited = WAITED.get(observation.ended_by, WAITED["deadline"]).format(seconds=seconds)
    # waiting is final only where the case says how the client must end; elsewhere a client
    # that waits after its events is simply done
    stuck = observation.timed_out or (observation.waiting and judges_ending(case))
    if expect.error:
        if observation.raised:
            return []
        if stuck:
            return [_hang(f"{waited} without reporting the failure", "raise", "hang-error")]
        message = "returned normally; the stream must fail the connection"
        return [Finding(message, "raise", "returned", fix=ENDING_FIXES["returned"])]
    if observation.raised and _ended_in_failure(case, requests):
        return []  # raising on a non-200 or a dropped connection is how a client fails it
    if observation.raised:
        stderr = f"; stderr: {observation.stderr[-300:]}" if observation.stderr else ""
        message = f"the client crashed: raised {observation.raised}{stderr}"
        return [Finding(message, "no error", observation.raised, error=True)]
    if observation.flooded:
        message = f"stopped: the client reported {observation.flooded}"
        return [Finding(message, "the case's events", "a flood")]
    if stuck and not _held_open(case):
        fix: str | None = "done" if case.profile == "openai" else "hang"
        if expect.requests is not None and len(requests) < expect.requests:
            fix = None  # it never made the requests the case wants (undici retrying a request its
            # fetch rejects): what the case is about is the fix, not returning
        return [_hang(f"{waited}: the client never finished", "return", fix)]
    if stuck and case.profile == "openai":
        return [_hang(f"{waited} waiting on an open stream", "return at [DONE]", "done")]
    return []


def _payload_findings(case: Case, observation: Observation) -> list[Finding]:
    expect = case.expect
    if case.profile == "openai":
        if expect.text is None or expect.error or observation.text is None:
            return []
        if observation.text != expect.text:
            want, got = f'"{visible(expect.text)}"', f'"{visible(observation.text)}"'
            return [Finding("the assembled text differs", want, got)]
        return []
    found = [d for d in [compare_events(expect.events, observation.events)] if d]
    comments = getattr(expect, "comments", None)
    if comments is not None and list(comments) != observation.comments:
        show = " | ".join(f'"{visible(c)}"' for c in comments) or "(none)"
        got = " | ".join(f'"{visible(c)}"' for c in observation.comments) or "(none)"
        missing = observation.comments == list(comments)[: len(observation.comments)]
        found.append(Finding("the reported comments differ", show, got, provisional=missing))
    if expect.open and not observation.opened:
        found.append(Finding("never reported the connection as open", "open", "(nothing)", provisional=True))
    if expect.notifications is not None:
        found += notification_findings(expect.notifications, observation)
    if expect.retry is not None and observation.retry is not None and observation.retry != expect.retry:
        want, got = f"{expect.retry} ms", f"{observation.retry} ms"
        found.append(Finding("the reported reconnection time differs", want, got))
    return found


def _evidence(case: Case, chunking: Chunking, limit: int = 240) -> str:
    parts = []
    for number, connection in enumerate(case.connections, 1):
        chunks = [step.data for step in chunking.plan(connection) if isinstance(step, Send)]
        shown = " | ".join(f'"{visible(c, limit=40)}"' for c in chunks[:24])
        if len(chunks) > 24:
            shown += f" | … ({len(chunks)} chunks)"
        end = " then held open" if connection.ends_held_open else ""
        label = f"connection {number} " if len(case.connections) > 1 else ""
        status = f"{connection.status} " if connection.status != 200 else ""
        parts.append(f"{label}{status}{chunking.name} chunks: {shown or '(empty body)'}{end}")
    text = "\n".join(parts)
    return text if len(text) <= limit * max(1, len(parts)) else text[: limit * len(parts)] + "…"


def _fix(case: Case, chunking: Chunking, findings: Sequence[Finding] = ()) -> str | None:
    """The fix for what was diagnosed: the finding's own (how the client ended), else the most
    specific rule of the case; the split rules only when the case was split, and the chunking's
    own fix when no rule of the case has one."""
    own = next((f.fix for f in findings if f.fix), None)
    if own is not None:
        return own
    split = Chunking(chunking.name).family != "whole"
    specific = [r for r in case.rules if r not in UMBRELLA_RULES and r not in SPLIT_RULES]
    splits = [r for r in case.rules if r in SPLIT_RULES and split]
    umbrella = [r for r in case.rules if r in UMBRELLA_RULES]
    for rule in specific + splits + umbrella:
        if rule in FIXES:
            return FIXES[rule]
    return CHUNKING_FIXES.get(Chunking(chunking.name).family) if split else None


def _unfinished(case: Case, chunking: Chunking, observation: Observation) -> list[Result]:
    """Still running at the deadline of a case of megabytes: too slow to judge, not misparsing.
    The case's rules are skipped; P-10's probes say whether the parsing is quadratic."""
    why = f"still parsing at its deadline, after {observation.seconds:.0f} s"
    return results_for(case, chunking, [Finding(f"not judged: {why} (see P-10)")], outcome=Outcome.SKIP)


def judges_ending(case: Case) -> bool:
    """Does the case say how the client must end (a request count, a failure, the openai
    profile's return at [DONE])? Otherwise only what the client reported is judged."""
    expect = case.expect
    return expect.requests is not None or expect.error or case.profile != "generic"


def _with_crash(reported: list[Finding], ending: list[Finding]) -> list[Finding]:
    """The findings of a run, ordered so that when the client crashed does not decide the verdict.

    A crash is an error while what the client reported is right so far. A wrong event or request
    is a fact that came before it: the failure, with the crash named after it (requests-sse
    reported a NUL id and then crashed sending it back: error or fail by which one the run saw
    first, on a busy machine). A crash after every expected event stays an error: it can be the
    case's own subject (requests-sse keeps RT-021's retry: -5 and crashes sleeping it at the
    reconnect; the legacy sseclient crashes parsing RT-018's unterminated retry line at EOF)."""
    crash = [f for f in ending if f.error]
    if not crash:
        return reported + ending
    if any(not f.provisional and not f.late for f in reported):
        return reported + [replace(f, error=False) for f in crash]
    return crash


@dataclass(frozen=True)
class Judgement:
    """The verdicts of one run, and whether only more time could change them."""

    results: list[Result]
    provisional: bool  # every finding could be undone by more time (missing events, a hang)


def judge_run(
    case: Case,
    chunking: Chunking,
    observation: Observation,
    requests: Sequence[RecordedRequest],
    total: int | None = None,
) -> Judgement:
    """One Result per rule of the case: pass, or what the client reported wrong first (how it
    ended only after that: "timed out" never hides a wrong or missing event)."""
    large = sum(connection.body_length for connection in case.connections) > LARGE_CASE
    if observation.timed_out and observation.busy_at_deadline and large:
        return Judgement(_unfinished(case, chunking, observation), provisional=False)
    ending = _outcome_findings(case, observation, observation.seconds, requests)
    if observation.broken:
        findings = ending
    else:
        reported = _payload_findings(case, observation) + _request_findings(case, requests, total)
        findings = _with_crash(reported, ending)
    if observation.timed_out and findings and all(f.provisional for f in findings):
        # only the deadline decided it: more time could have changed it, so it is no rule failure
        # (an error), though what it would fix if it is one is still worth saying
        fixed = _fix(case, chunking, findings)
        findings = [replace(f, error=True, fix=f.fix or fixed) for f in findings]
    results = results_for(
        case,
        chunking,
        findings,
        observation.seconds,
        evidence=_evidence(case, chunking),
        fix=lambda c, k: _fix(c, k, findings),
    )
    if findings:
        actual = client_actual(observation, len(requests) if total is None else total)
        for result in results:
            result.data["actual"] = actual
    provisional = bool(findings) and all(f.provisional for f in findings)
    return Judgement(results, provisional)


def judge(
    case: Case,
    chunking: Chunking,
    observation: Observation,
    requests: Sequence[RecordedRequest],
) -> list[Result]:
    """One Result per rule of the case (see :func:`judge_run`)."""
    return judge_run(case, chunking, observation, requests).results


def results_for(
    case: Case,
    chunking: Chunking,
    findings: Sequence[Finding],
    seconds: float | None = None,
    *,
    evidence: str | None = None,
    outcome: Outcome | None = None,
    fix: Callable[[Case, Chunking], str | None] = _fix,
) -> list[Result]:
    """Turn findings into one Result per rule (pass when there are none)."""
    if outcome is None:
        if not findings:
            outcome = Outcome.PASS
        elif any(f.error for f in findings):
            outcome = Outcome.ERROR
        else:
            outcome = outcome_for_level(case.level)
    first = findings[0] if findings else None
    message = f"{case.description}: ok" if first is None else first.message
    if len(findings) > 1:
        message += f" (and {len(findings) - 1} more: " + "; ".join(f.message for f in findings[1:4]) + ")"
    failed = outcome in (Outcome.FAIL, Outcome.WARN, Outcome.ERROR)
    fixed = any(f.fix for f in findings)  # an error with a diagnosis (a time-out) still says the fix
    return [
        Result(
            rule=rule,
            outcome=outcome,
            message=message,
            level=case.level,
            case=case.id,
            chunking=chunking.name,
            expected=first.expected if first else None,
            actual=first.actual if first else None,
            evidence=evidence if failed else None,
            fix=fix(case, chunking) if failed and (outcome is not Outcome.ERROR or fixed) else None,
            seconds=seconds,
            extra={"description": case.description},
        )
        for rule in case.rules
    ]
