"""Machine-readable values beside the rendered text: ``Result.data``.

Why: ``expected``/``actual``/``evidence`` are rendered for people (visible whitespace, cut at a
few dozen bytes). A tool reading the JSON report wants the events as objects and the raw bytes;
those go in ``data`` (``expected``/``actual`` as JSON values, ``evidence_base64`` with
``evidence_offset``: up to EVIDENCE_BYTES from shortly before the offset, the full evidence).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from typing import Any

from .results import Result
from .sse import Event

__all__ = ["EVIDENCE_BYTES", "add_cases_data", "add_client_data", "add_server_evidence", "client_actual"]

EVIDENCE_BYTES = 4096
ACTUAL_EVENTS = 50  # reported events kept in ``data.actual`` (a flood is summed up by its count)
BEFORE = 24  # as display.excerpt shows
_AT = re.compile(r"at byte (\d+):")


def add_server_evidence(results: Iterable[Result], body: bytes) -> None:
    """For every ``at byte N`` evidence, the raw bytes from just before N, in base64."""
    for result in results:
        found = _AT.match(result.evidence or "")  # "resumed stream at byte" is another body
        if found is None:
            continue
        offset = int(found.group(1))
        start = max(0, offset - BEFORE)
        result.data.update(evidence_offset=start,
                           evidence_base64=base64.b64encode(body[start : start + EVIDENCE_BYTES]).decode())


def add_cases_data(report: Any, cases: Iterable[Any]) -> Any:
    """:func:`add_client_data` for each case of a run (the faces' JSON carries it); the report."""
    for case in {case.id: case for case in cases}.values():
        add_client_data(report.results, case)
    return report


def add_client_data(results: Iterable[Result], case: Any) -> None:
    """What the case expects, as JSON values (events as objects), on each of its results."""
    expect = case.expect
    expected: dict[str, Any] = {"events": _shown(expect.events), "event_count": len(expect.events)}
    for name in ("error", "text", "retry", "requests"):
        value = getattr(expect, name, None)
        if value is not None:
            expected[name] = value
    for result in results:
        if result.case == case.id:
            result.data.setdefault("expected", expected)


def _shown(events: Sequence[Event]) -> list[dict[str, Any]]:
    """The first ACTUAL_EVENTS events as objects, each data value cut at EVIDENCE_BYTES
    characters with its full length: a 14 MB event is not copied into every result's JSON."""
    out = []
    for event in events[:ACTUAL_EVENTS]:
        shown: dict[str, Any] = event.as_dict()
        if len(event.data) > EVIDENCE_BYTES:
            shown.update(data=event.data[:EVIDENCE_BYTES], data_length=len(event.data))
        out.append(shown)
    return out


def request_times(requests: Sequence[Any]) -> list[dict[str, float | None]]:
    """Each request's arrival and its response's end, in ms from the first arrival, with the
    client's run-queue wait stamped at each (ms, schedstat) and how late the arrival's stamp
    was: the raw times a reconnection-delay verdict (N-13) rests on, so a surprising one can be
    checked against them."""
    first = requests[0].received if requests else 0.0

    def ms(value: float | None, since: float = 0.0) -> float | None:
        return None if value is None else round((value - since) * 1000, 1)

    return [{"received": ms(r.received, first), "ended": ms(r.ended, first),
             "starved_at_received": ms(r.starved_at_received), "starved_at_ended": ms(r.starved_at_ended),
             "stamped_late": ms(r.stamped_late)} for r in requests]


def client_actual(observation: Any, requests: int) -> dict[str, Any]:
    """What the client did, as JSON values: its events as objects (see :func:`_shown`), text,
    error, and how the run ended."""
    actual: dict[str, Any] = {
        "events": _shown(observation.events), "event_count": len(observation.events), "requests": requests,
    }
    for name in ("text", "raised", "broken", "comments", "retry"):
        value = getattr(observation, name, None)
        if value not in (None, []):
            actual[name] = value
    if getattr(observation, "notifications", None):
        actual["notifications"] = observation.timeline()
    actual["ended_by"] = observation.ended_by
    return actual
