"""Interop: every client against every server, end to end, and what broke in each cell.

What a client should deliver is what the server meant to send: for the third-party apps, the
events of ``servers/content.json`` (line breaks in data come out as LF, as the spec joins data
lines); for the reference servers and the proxies in front of them, which conform, the suite's
own parser over one plain fetch of the same endpoint. So a cell fails when the server's bytes
or the client's parsing (or both) lose the meaning, and the detail says which event differed.
Events compare by type, id and data with digit runs masked, and runs of identical events count
once (counters, timestamps and how many ticks fit in a time limit differ between two requests;
line handling and field parsing do not).
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
from .implementations import Probe, Row

__all__ = ["TIMEOUT", "intended_events", "interop_cell", "interop_matrix", "oracle_events"]

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


# -- the matrix --------------------------------------------------------------------------------

CONCURRENCY = 24  # cells against one server at once: every client of the table (they mostly wait on
# the server's pace, and a cell that loses events waits its whole CELL_TIMEOUT: 8 at once took 3 rounds)
CELL_TIMEOUT = 6.0  # the streams last well under a second; a client still waiting then lost events


def intended_events() -> list[Event]:
    """What every third-party app means to send (content.json), as a conforming client sees it."""
    from .servers._content import GENERIC

    events, last_id = [], ""
    for item in GENERIC:
        last_id = item.id if item.id is not None else last_id
        events.append(Event(item.event or "message", re.sub(r"\r\n|\r", "\n", item.data), last_id))
    return events


async def _cell(client: str, target: Any, server: str, url: str, probe: Probe, want: list) -> InteropCell:
    def cell(outcome: str, detail: str = "") -> InteropCell:
        return InteropCell(client=client, server=server, endpoint=probe.name, outcome=outcome, detail=detail)

    try:
        observation = await target.observe(
            Invocation(url), profile="generic", timeout=CELL_TIMEOUT, watch=_Matches(want)
        )
    except Exception as error:  # a client that cannot even be called is this cell's verdict
        return cell("error", f"{type(error).__name__}: {error}")
    got = _shape(observation.events)
    if got == want or (observation.stopped_early and got[: len(want)] == want):
        return cell("pass")
    waiting = f"still waiting after {CELL_TIMEOUT:g} s" if observation.timed_out else ""
    reason = observation.raised or observation.broken or waiting
    return cell("fail", f"{_first_difference(want, got)}{'; ' + reason if reason else ''}")


async def interop_matrix(
    servers: list[Row], clients: list[tuple[str, Any]], cache: Any, say: Callable[[str], None]
) -> list[InteropCell]:
    """Every client target against the first generic endpoint of every server, end to end."""
    cells: list[InteropCell] = []
    limit = asyncio.Semaphore(CONCURRENCY)

    async def bounded(name: str, target: Any, server: str, url: str, probe: Probe, want: list) -> InteropCell:
        async with limit:
            return await _cell(name, target, server, url, probe, want)

    for row in servers:
        probe = row.interop_probe()
        try:
            await asyncio.to_thread(row.prepare, cache)
            with row.start(cache) as base:
                url = base + probe.path
                if row.origin in ("reference", "proxy"):
                    want = _shape(await asyncio.to_thread(oracle_events, url, probe))
                else:
                    want = _shape(intended_events())
                found = await asyncio.gather(
                    *(bounded(name, target, row.name, url, probe, want) for name, target in clients)
                )
        except Exception as error:  # the server, not the clients, is at fault: one line for the row
            say(f"  interop {row.name}: could not start: {type(error).__name__}: {error}")
            continue
        cells += found
        failed = sum(c.outcome != "pass" for c in found)
        say(f"  interop {row.name}: {failed} of {len(found)} clients lost events")
    return cells
