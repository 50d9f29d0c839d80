"""Interop: every reference client against every reference server endpoint, end to end.

The oracle is the suite's own parser over one plain fetch of the same endpoint. A client passes
when it delivers the same events: the same types, ids and data with digit runs masked, and runs
of identical events counted once (counters, timestamps and how many ticks fit in a time limit
differ between two requests; line handling and field parsing do not).
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


class _Matches(Watch):
    """Stop watching once the client delivered what the oracle saw (reconnects add more)."""

    def __init__(self, want: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.want = want

    def seen(self, observation: Observation) -> None:
        if _shape(observation.events) == self.want:
            self.stop.set()


def _shape(events: Sequence[Event]) -> list[tuple[str, str, str]]:
    """Events with digit runs masked and consecutive repeats folded into one."""
    shapes: list[tuple[str, str, str]] = []
    for e in events:
        shape = (e.event, _DIGITS.sub("#", e.data), _DIGITS.sub("#", e.id))
        if not shapes or shapes[-1] != shape:
            shapes.append(shape)
    return shapes


def _first_difference(want: list[tuple[str, str, str]], got: list[tuple[str, str, str]]) -> str:
    for index, (a, b) in enumerate(zip(want, got, strict=False)):
        if a != b:
            return f"event kind {index + 1}: expected {a!r}, got {b!r}"
    return f"expected {len(want)} kinds of event, got {len(got)}"


def interop_cell(
    client: str, target: Callable[..., Any], server: str, base: str, probe: Probe
) -> InteropCell:
    """Run ``target`` against one endpoint and compare with the oracle; never raises."""
    url = base + probe.path

    def cell(outcome: str, detail: str = "") -> InteropCell:
        return InteropCell(client=client, server=server, endpoint=probe.name, outcome=outcome, detail=detail)

    try:
        want = _shape(oracle_events(url, probe))
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
            invocation, profile="generic", timeout=TIMEOUT, watch=_Matches(want)
        )
    )
    got = _shape(observation.events)
    if got == want or (observation.stopped_early and got[: len(want)] == want):
        return cell("pass")  # after the match, a reconnect may already have added more
    reason = observation.raised or observation.broken or ("timed out" if observation.timed_out else "")
    detail = _first_difference(want, got)
    return cell("fail", f"{detail}{'; ' + reason if reason else ''}")
