"""What the suite's own parser makes of a case: the cross-check that keeps the corpus honest.

Feeding a connection's bytes, under a chunking, through :class:`conformance.sse.EventParser`
must give the case's ``expect``. The tests run this for every single-connection case; runners
can use it to label a difference as "the client" rather than "the case".

The openai profile's assembled text follows the OpenAI SDK: concatenate
``choices[0].delta.content`` of each JSON payload, stop at data ``[DONE]``; an ``event: error``,
a payload with an ``error`` key, or a payload that is not a JSON object is an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from conformance.sse import Event, EventParser

from .chunkings import Chunking
from .model import Case, Connection

__all__ = ["Assembled", "Simulation", "assemble_openai", "parse_connection", "simulate"]

REDIRECTS = frozenset({301, 302, 303, 307, 308})


def parse_connection(connection: Connection, chunking: Chunking) -> tuple[list[Event], int | None]:
    """The events and final retry value of one connection's body fed chunk by chunk."""
    parser = EventParser()
    events: list[Event] = []
    for run in connection.byte_runs():
        for chunk in chunking.split(run):
            events += parser.feed(chunk)
    events += parser.close()
    return events, parser.retry


@dataclass
class Simulation:
    """What a spec-following reconnecting client does with a whole case."""

    events: list[Event]
    retry: int | None
    error: bool
    sent_last_event_ids: list[str | None]  # per request made: the Last-Event-ID sent, or None
    comments: list[str]
    notifications: list[str] = field(default_factory=list)  # "open", "error", "event" in order

    @property
    def requests(self) -> int:
        return len(self.sent_last_event_ids)


def _location(connection: Connection) -> str:
    return next((v for k, v in connection.headers.items() if k.lower() == "location"), "")


def simulate(case: Case, chunking: Chunking) -> Simulation:
    """Run the case's connections through the oracle parser like a reconnecting client.

    Network errors (no response, abort) and EOF reconnect; redirects with a Location are
    followed; any other status or a wrong Content-Type fails; after the listed connections the
    server answers 204, which stops. ``client.close_after_events`` and a held-open stream end
    the run without a reconnect (the runner closes the client), unless the client restarts
    itself (``restart_after_events``) or its read time-out (``read_timeout_ms``) ends the wait.

    ``notifications`` is what an EventSource fires among the events: ``open`` when it announces
    a connection, ``error`` when it reestablishes one (network error, end of body, restart,
    read time-out) or fails it (any other status or type, the final 204); none for a redirect
    or a close by the client.
    """
    parser = EventParser(last_event_id=case.client.last_event_id or "")
    parser.keep_comments()
    sim = Simulation([], None, False, [], parser.comments)
    close_after = case.client.close_after_events
    notify = sim.notifications.append
    for connection in case.connections:
        sim.sent_last_event_ids.append(parser.last_event_id or None)
        if connection.no_response:
            notify("error")  # reestablish
            continue
        if connection.status in REDIRECTS and _location(connection):
            continue
        if connection.refused:
            sim.error = True
            notify("error")  # fail
            break
        notify("open")
        if close_after == 0:
            break
        parser.reset()
        before = len(sim.events)
        restarted = _feed(parser, connection, chunking, sim.events, case.client.restart_after_events)
        sim.events += parser.close()
        if close_after is not None and len(sim.events) >= close_after:
            del sim.events[close_after:]
        sim.notifications += ["event"] * (len(sim.events) - before)
        if close_after is not None and len(sim.events) >= close_after:
            break
        if connection.ends_held_open and not restarted and case.client.read_timeout_ms is None:
            break  # held open: only a restart or the read time-out leaves it
        notify("error")  # reestablish
    else:
        sim.sent_last_event_ids.append(parser.last_event_id or None)  # answered 204: stop
        notify("error")  # the 204 fails the connection
    sim.retry = parser.retry
    return sim


def _feed(
    parser: EventParser, connection: Connection, chunking: Chunking, events: list[Event], restart: int | None
) -> bool:
    """Feed one body into ``events``; True when the client restarted itself (after ``restart``
    events in all): the rest of the body is never read and the partial event is dropped."""
    for run in connection.byte_runs():
        for chunk in chunking.split(run):
            for event in parser.feed(chunk):
                events.append(event)
                if restart is not None and len(events) == restart:
                    return True
    return False


@dataclass(frozen=True)
class Assembled:
    """The openai profile's outcome: the text, or an error; ``done`` is whether [DONE] came."""

    text: str
    error: bool
    done: bool


def _is_error(event: Event) -> bool:
    if event.event == "error":
        return True
    try:
        payload = json.loads(event.data)
    except ValueError:
        return True
    return not isinstance(payload, dict) or "error" in payload


def _content(event: Event) -> str:
    choices = json.loads(event.data).get("choices") or []
    delta = (choices[0].get("delta") or {}) if choices else {}
    content = delta.get("content")
    return content if isinstance(content, str) else ""


def assemble_openai(events: list[Event]) -> Assembled:
    """Assemble an OpenAI chat-completion stream the way the SDK consumer sees it."""
    parts: list[str] = []
    for event in events:
        if event.data.startswith("[DONE]"):
            return Assembled("".join(parts), False, True)
        if _is_error(event):
            return Assembled("".join(parts), True, False)
        parts.append(_content(event))
    return Assembled("".join(parts), False, False)
