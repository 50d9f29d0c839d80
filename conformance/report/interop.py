"""Interop: every reference client against every reference server endpoint, end to end.

The oracle is the suite's own parser over one plain fetch of the same endpoint. A client passes
when it delivers the same events: the same count, types and ids, and the same data with digit
runs masked (counters and timestamps differ between two requests; line handling does not).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from ..client.targets import Invocation, Observation, PythonTarget, Watch
from ..sse import Event, EventParser
from .document import InteropCell
from .implementations import Probe

__all__ = ["TIMEOUT", "interop_cell", "oracle_events"]

TIMEOUT = 15.0
_DIGITS = re.compile(r"\d+")


def oracle_events(url: str, probe: Probe) -> list[Event]:
    """The events the suite's parser reads from one fetch of the endpoint."""
    parser = EventParser()
    events: list[Event] = []
    headers = {"Accept": "text/event-stream", **dict(probe.suite_kwargs()["headers"])}
    with httpx.stream(probe.method, url, content=probe.body, headers=headers, timeout=TIMEOUT) as response:
        for chunk in response.iter_bytes():
            events += parser.feed(chunk)
    return events + parser.close()


class _Enough(Watch):
    """Stop watching once the client delivered as many events as the oracle saw."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def seen(self, observation: Observation) -> None:
        if len(observation.events) >= self.count:
            self.stop.set()


def _shape(events: Sequence[Event]) -> list[tuple[str, str, str]]:
    return [(e.event, _DIGITS.sub("#", e.data), e.id) for e in events]


def _first_difference(want: Sequence[Event], got: Sequence[Event]) -> str:
    for index, (a, b) in enumerate(zip(_shape(want), _shape(got), strict=False)):
        if a != b:
            return f"event {index + 1}: expected {a!r}, got {b!r}"
    return f"expected {len(want)} events, got {len(got)}"


def interop_cell(
    client: str, target: Callable[..., Any], server: str, base: str, probe: Probe
) -> InteropCell:
    """Run ``target`` against one endpoint and compare with the oracle; never raises."""
    url = base + probe.path

    def cell(outcome: str, detail: str = "") -> InteropCell:
        return InteropCell(client=client, server=server, endpoint=probe.name, outcome=outcome, detail=detail)

    try:
        want = oracle_events(url, probe)
    except Exception as error:  # the server, not the client, is at fault: not the client's verdict
        return cell("error", f"the oracle fetch failed: {type(error).__name__}: {error}")
    invocation = Invocation(
        url,
        method=probe.method if probe.method != "GET" else None,
        headers=dict(probe.suite_kwargs()["headers"]) or None,
        body=probe.body.decode() if probe.body is not None else None,
    )
    observation = asyncio.run(
        PythonTarget(target, name=client).observe(
            invocation, profile="generic", timeout=TIMEOUT, watch=_Enough(len(want))
        )
    )
    got = observation.events[: len(want)] if observation.stopped_early else observation.events
    if _shape(got) == _shape(want):
        return cell("pass")
    reason = observation.raised or observation.broken or ("timed out" if observation.timed_out else "")
    detail = _first_difference(want, got)
    return cell("fail", f"{detail}{'; ' + reason if reason else ''}")
