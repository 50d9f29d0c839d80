"""Judging, without I/O: what the client did (an Observation plus the server's request log)
against a case, as a Result per rule the case covers with the first difference named, whitespace
made visible, the chunks that were sent and a likely fix.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

from ..cases.chunkings import Chunking
from ..cases.model import Abort, Case
from ..display import visible
from ..results import ADAPTER_FAULT, Outcome, Result, outcome_for_level
from ..structured import client_actual, request_times
from .caseserver import RecordedRequest
from .findings import Finding, compare_events, notification_findings, request_findings
from .fixes import CHUNKING_FIXES, ENDING_FIXES, FIXES, SPLIT_RULES, UMBRELLA_RULES
from .items import is_large
from .observation import Observation

__all__ = ["judge_run", "judges_ending", "results_for", "still_parsing"]

# How a run the runner stopped is described, by how it ended (observation.ENDINGS).
WAITED = {
    "deadline": "timed out after {seconds:.1f} s",
    "waiting": "waits for more after {seconds:.1f} s (asleep, every byte read, no timer due)",
}


def _ended_in_failure(case: Case, requests: Sequence[RecordedRequest]) -> bool:
    """The last response the client got was one to refuse (``Connection.refused``) or dropped."""
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
    case: Case, observation: Observation, requests: Sequence[RecordedRequest]
) -> list[Finding]:
    """Did the client end the way the case says: returned, raised, or still on an open stream?"""
    expect = case.expect
    if observation.broken:
        return [Finding(f"the adapter's output cannot be judged: {observation.broken}", ADAPTER_FAULT,
                        "output it cannot read", True, fix=ENDING_FIXES["broken"])]
    waited = WAITED.get(observation.ended_by, WAITED["deadline"]).format(seconds=observation.seconds)
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
        if not requests:  # before a byte of the case reached it: the adapter's fault, not the parser's
            return [Finding(f"the client raised before its first request: {observation.raised}{stderr}",
                            ADAPTER_FAULT, observation.raised, True, fix=ENDING_FIXES["unstarted"])]
        message = f"the client crashed: raised {observation.raised}{stderr}"
        return [Finding(message, "no error", observation.raised, error=True)]
    if observation.flooded:
        message = f"stopped: the client reported {observation.flooded}"
        return [Finding(message, "the case's events", "a flood")]
    held_open = bool(case.connections) and case.connections[-1].ends_held_open
    if stuck and judges_ending(case) and not held_open:
        # (where the case does not judge how a client ends, its events are the question: a
        # client still running after them at its deadline, retrying or looping, is done too)
        fix: str | None = "done" if case.profile == "openai" else "hang"
        if expect.requests is not None and len(requests) < expect.requests:
            fix = None  # it never made the requests the case wants: the case's subject is the fix
        return [_hang(f"{waited}: the client never finished", "return", fix)]
    if stuck and case.profile == "openai":
        return [_hang(f"{waited} waiting on an open stream", "return at [DONE]", "done")]
    return []


def _payload_findings(case: Case, observation: Observation) -> list[Finding]:
    expect = case.expect
    if case.profile == "openai":
        if expect.text is None or expect.error or observation.text in (None, expect.text):
            return []
        want, got = f'"{visible(expect.text)}"', f'"{visible(observation.text)}"'
        return [Finding("the assembled text differs", want, got)]
    found = [d for d in [compare_events(expect.events, observation.events)] if d]
    comments = expect.comments
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
        chunks = chunking.chunks(connection)
        shown = " | ".join(f'"{visible(c, limit=40)}"' for c in chunks[:24])
        if len(chunks) > 24:
            shown += f" | … ({len(chunks)} chunks)"
        end = " then held open" if connection.ends_held_open else ""
        label = f"connection {number} " if len(case.connections) > 1 else ""
        status = f"{connection.status} " if connection.status != 200 else ""
        parts.append(f"{label}{status}{chunking.name} chunks: {shown or '(empty body)'}{end}")
    text = "\n".join(parts)
    return text if len(text) <= limit * max(1, len(parts)) else text[: limit * len(parts)] + "…"


def _fix(case: Case, chunking: Chunking, findings: Sequence[Finding]) -> str | None:
    """The fix for what was diagnosed: the finding's own (how the client ended), else the most
    specific rule's (split rules only when split), else a split chunking's own."""
    family = Chunking(chunking.name).family
    split = family != "whole"
    specific = [r for r in case.rules if r not in UMBRELLA_RULES and r not in SPLIT_RULES]
    splits = [r for r in case.rules if r in SPLIT_RULES and split]
    umbrella = [r for r in case.rules if r in UMBRELLA_RULES]
    own = (f.fix for f in findings if f.fix)
    by_rule = (FIXES[rule] for rule in specific + splits + umbrella if rule in FIXES)
    return next(itertools.chain(own, by_rule), CHUNKING_FIXES.get(family) if split else None)


def still_parsing(case: Case, observation: Observation) -> bool:
    """A case of megabytes whose client was still at work at its deadline: slow, not wrong."""
    return observation.timed_out and observation.busy_at_deadline and is_large(case)


def judges_ending(case: Case) -> bool:
    """Does the case say how the client must end (a request count, a failure, the openai
    profile's return at [DONE])? Otherwise only what the client reported is judged."""
    expect = case.expect
    return expect.requests is not None or expect.error or case.profile != "generic"


def _with_crash(reported: list[Finding], ending: list[Finding]) -> list[Finding]:
    """The findings of a run, so that when the client crashed does not decide the verdict: a
    wrong event or request came before the crash and is the failure (the crash named after it);
    a crash while all reported is right so far stays an error (it can be the case's subject)."""
    crash = [f for f in ending if f.error]
    if not crash:
        return reported + ending
    if any(not f.provisional and not f.late for f in reported):
        return reported + [replace(f, error=False) for f in crash]
    return crash


def judge_run(case: Case, chunking: Chunking, observation: Observation, requests: Sequence[RecordedRequest],
              total: int | None = None) -> list[Result]:
    """One Result per rule of the case: pass, or what the client reported wrong first (how it
    ended only after that: "timed out" never hides a wrong or missing event)."""
    if still_parsing(case, observation):
        # too slow to judge, not misparsing: its rules skip; P-10's probes say if parsing is quadratic
        why = f"not judged: still parsing at its deadline, after {observation.seconds:.0f} s (see P-10)"
        return results_for(case, chunking, [Finding(why)], outcome=Outcome.SKIP)
    ending = _outcome_findings(case, observation, requests)
    if observation.broken:
        findings = ending
    else:
        reported = _payload_findings(case, observation) + request_findings(case, requests, total)
        findings = _with_crash(reported, ending)
    if observation.timed_out and findings and all(f.provisional for f in findings):
        # only the deadline decided it: more time could have changed it, so it is no rule failure
        # (an error), though what it would fix if it is one is still worth saying
        fixed = _fix(case, chunking, findings)
        findings = [replace(f, error=True, fix=f.fix or fixed) for f in findings]
        if not any(f.actual == "hang" for f in findings):  # say what decided it
            timed_out = WAITED["deadline"].format(seconds=observation.seconds)
            findings.append(replace(_hang(timed_out, "the case's events", None), error=True, fix=fixed))
    sent = _evidence(case, chunking) if findings and (requests or total) else None  # no request: none sent
    results = results_for(case, chunking, findings, observation.seconds, evidence=sent)
    if findings:
        actual = client_actual(observation, len(requests) if total is None else total)
        if len(requests) > 1:
            actual["request_times"] = request_times(requests)
        for result in results:
            result.data["actual"] = actual
    return results


def results_for(case: Case, chunking: Chunking, findings: Sequence[Finding], seconds: float | None = None, *,
                evidence: str | None = None, outcome: Outcome | None = None) -> list[Result]:
    """Turn findings into one Result per rule (pass when there are none)."""
    if outcome is None:
        errors = any(f.error for f in findings)
        outcome = Outcome.ERROR if errors else outcome_for_level(case.level) if findings else Outcome.PASS
    first = findings[0] if findings else None
    message = f"{case.description}: ok" if first is None else first.message
    if len(findings) > 1:
        message += f" (and {len(findings) - 1} more: " + "; ".join(f.message for f in findings[1:4]) + ")"
    failed = outcome in (Outcome.FAIL, Outcome.WARN, Outcome.ERROR)
    diagnosed = any(f.fix for f in findings)  # an error with a diagnosis (a time-out) still says the fix
    fix = _fix(case, chunking, findings) if failed and (outcome is not Outcome.ERROR or diagnosed) else None
    return [
        Result(rule=rule, outcome=outcome, message=message, level=case.level, case=case.id,
               chunking=chunking.name, expected=first.expected if first else None,
               actual=first.actual if first else None, evidence=evidence if failed else None, fix=fix,
               seconds=seconds, extra={"description": case.description})
        for rule in case.rules
    ]
