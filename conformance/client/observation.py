"""What a client under test is asked to do (Invocation) and what it did (Observation): every
target kind fills the same Observation and the judge reads only that, keeping *what* the client
reported apart from *how the run ended* (``ended_by``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ..errors import describe_error
from ..sse import Event
from .processes import MEMORY_FLAGS, memory_bound, size_text
from .waiting import ProcessTree

__all__ = ["MAX_EVENTS", "MAX_LINE_BYTES", "MAX_OUTPUT_BYTES", "NOTIFICATIONS", "EventCount", "Invocation",
           "Observation", "Watch", "absorb", "report_kind", "to_event"]


@dataclass(frozen=True)
class Invocation:
    """What the client is asked to do: the URL always; the rest only when a capability asks."""

    url: str
    method: str | None = None
    headers: Mapping[str, str] | None = None
    body: str | None = None
    last_event_id: str | None = None
    initial_retry_ms: int | None = None
    close_after_events: int | None = None  # the client closes itself after this many events
    read_timeout_ms: int | None = None  # reconnect when no byte arrives for this long
    restart_after_events: int | None = None  # the client restarts itself after this many events
    close_now: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)

    @classmethod
    def from_inputs(cls, url: str, inputs: Mapping[str, Any]) -> Invocation:
        """The invocation an adapter receives as ``url`` plus ``inputs`` (the inverse of
        :meth:`inputs`); names it does not know are left out."""
        known = {f.name for f in fields(cls)} - {"url", "close_now"}
        return cls(url, **{name: value for name, value in inputs.items() if name in known})

    def kwargs(self) -> dict[str, Any]:
        """The optional keyword arguments a callable receives (only the ones set)."""
        names = ("method", "headers", "body", "last_event_id", "initial_retry_ms", "read_timeout_ms")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def inputs(self) -> dict[str, Any]:
        """The same inputs as one JSON object (the adapter protocol's ``inputs``)."""
        data = self.kwargs()
        if data.get("headers") is not None:
            data["headers"] = dict(data["headers"])
        counts = ("close_after_events", "restart_after_events")
        return data | {name: getattr(self, name) for name in counts if getattr(self, name) is not None}


# Bounds on what one run of a client may hand the suite: beyond them the run is stopped and
# judged on what came before (a flood must not exhaust the suite's memory).
MAX_LINE_BYTES = 32 << 20  # one JSON line from a command or adapter (a 10 MiB event fits)
MAX_OUTPUT_BYTES = 96 << 20  # everything one run prints on stdout
MAX_EVENTS = 20_000  # reported events (the largest case expects a few hundred)

# How a run ended: the first three by the client; "enough" and "waiting" are facts the runner saw;
# "deadline" is the only ending a time bound decides; "flood" a bound on output.
ENDINGS = ("returned", "raised", "broken", "enough", "waiting", "deadline", "flood")
NOTIFICATIONS = ("open", "error")  # what a client with capability notifications reports


@dataclass
class Observation:
    """What the client did. ``raised`` is the client's own error (an exception, a non-zero
    exit); ``broken`` is an adapter fault the suite cannot judge (garbage output)."""

    events: list[Event] = field(default_factory=list)
    text: str | None = None
    raised: str | None = None
    broken: str | None = None
    lost: bool = False  # the adapter process died with other runs in flight: whose fault, unknown
    comments: list[str] = field(default_factory=list)
    opened: bool = False
    # Each open / error notification with the number of events reported before it (capability
    # notifications): where it falls among the events is what the judge compares.
    notifications: list[tuple[str, int]] = field(default_factory=list)
    retry: int | None = None
    stderr: str = ""
    seconds: float = 0.0
    ended_by: str = ""  # one of ENDINGS
    cpu_seconds: float | None = None  # the client's CPU time during the run, where measurable
    flooded: str | None = None  # which bound a flood hit
    busy_at_deadline: bool = False  # its threads were still running when the deadline came

    @property
    def timed_out(self) -> bool:
        """Still going when the case's deadline came: the one ending a time bound decides."""
        return self.ended_by == "deadline"

    @property
    def waiting(self) -> bool:
        """Asleep with every byte read and no timer due: what it reported is final."""
        return self.ended_by == "waiting"

    @property
    def stopped_early(self) -> bool:
        """The runner stopped the client before it ended by itself, on a fact."""
        return self.ended_by in ("enough", "waiting", "flood")

    @property
    def finished(self) -> bool:
        return self.ended_by in ("returned", "raised", "broken")

    def covers(self, expect: Any) -> bool:
        """Everything the case's ``Expect`` wants reported has been (events, comments, open,
        notifications). (Not imported here: a worker's start would pay for the case model.)"""
        notified = [n for n in expect.notifications or () if n in NOTIFICATIONS]
        return (len(self.events) >= len(expect.events) and len(self.comments) >= len(expect.comments or ())
                and (self.opened or not expect.open) and len(self.notifications) >= len(notified))

    def timeline(self) -> list[str]:
        """The notifications in order among the events, ``event`` standing for each event: the
        shape of a case's ``expect.notifications`` (``open, event, error, open, event, error``)."""
        out: list[str] = []
        shown = 0
        for kind, before in self.notifications:
            out += ["event"] * (before - shown)
            shown = max(shown, before)
            out.append(kind)
        return out + ["event"] * (len(self.events) - shown)


class Watch:
    """How the runner follows a running client: :meth:`seen` after every report; :attr:`stop` set
    when it has seen enough. A target that can show its client's threads sets :attr:`tree` (waiting
    or busy?) and :attr:`unread` (are reports the client wrote still on their way?)."""

    def __init__(self) -> None:
        import asyncio  # here: a worker imports this module, and a synchronous client never needs it

        self.stop = asyncio.Event()
        self.reason = ""  # why stop was set: "enough" or "waiting" (of ENDINGS)
        self.tree: ProcessTree | None = None
        self.unread: Callable[[], bool] = lambda: False
        self.answer_lag: Callable[[], float] = lambda: 0.0  # seconds a busy suite kept its requests waiting
        self.close_client: Callable[[], Any] = lambda: None  # the target's way to say "close"

    def seen(self, observation: Observation) -> None:
        """Called after each report (the base watches nothing)."""

    def close(self) -> None:
        """The run is over: let go of the client's threads."""
        if self.tree is not None:
            self.tree.close()

    def progress_at(self) -> float:
        """When the client last read a chunk (monotonic); 0.0 for none (the base sees none)."""
        return 0.0

    def owes_nothing(self) -> bool:
        """Has the client been handed, and read, all the server has for it now? (The base: yes.)"""
        return True


def _field(item: Any, keys: tuple[str, ...], default: Any = None) -> Any:
    values = (item.get(key) if isinstance(item, Mapping) else getattr(item, key, None) for key in keys)
    return next((value for value in values if value is not None), default)


def report_kind(item: Any) -> str:
    """An item without data may report a comment, the opening, the retry value, or an error
    notification (the connection ended, dropped or failed) instead."""
    kinds = ("comment", "open", "retry", "error") if _field(item, ("data",)) is None else ()
    return next((kind for kind in kinds if _field(item, (kind,)) is not None), "event")


def to_event(item: Any) -> Event:
    """Normalise a client's report (a mapping or object with ``data``, ``event``/``type``, ``id``/
    ``last_event_id``/``lastEventId``) into an :class:`Event`; a missing type is "message", a missing
    id "" (one gap must not cascade), an empty type stays empty (or C-24 could never fail)."""
    data = _field(item, ("data",))
    if data is None:
        raise TypeError(f"reported {type(item).__name__} {short(item)} has no 'data'")
    kind = _field(item, ("event", "type"), "message")
    ident = _field(item, ("id", "last_event_id", "lastEventId"), "")
    if not all(isinstance(v, str) for v in (data, kind, ident)):
        raise TypeError(f"reported event {short(item)} has non-string fields")
    return Event(kind, data, ident)


def normalise(item: Any) -> dict[str, Any]:
    """One report as the adapter protocol carries it (what a worker sends for an object its
    client yielded): an event under "event", with its type as "type"."""
    kind = report_kind(item)
    if kind == "event":
        event = to_event(item)
        return {"event": {"type": event.event, "data": event.data, "id": event.id}}
    value = _field(item, (kind,))
    if kind == "comment":
        if not isinstance(value, str):
            raise TypeError(f"reported comment {short(value)} is not a string")
        return {"comment": value}
    if kind == "retry":
        return {"retry": int(value)}
    return {kind: True}  # open or error: a notification carries nothing more


def short(value: Any, limit: int = 80) -> str:
    """A bounded repr that never raises (a client's object may break its own __repr__)."""
    try:
        text = repr(value)
    except Exception as error:  # a hostile object: name it by its type
        text = f"<{type(value).__name__} whose repr raised {type(error).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure(error: BaseException, profile: str) -> tuple[str, str]:
    """How a client's exception ends its run: ``broken`` when a generic-profile callable returned
    no iterable of events (the adapter is wrong, not the client), else ``raised``, described."""
    if profile == "generic" and isinstance(error, TypeError) and "not iterable" in describe_error(error):
        return "broken", f"the generic profile returns an iterable of events: {describe_error(error)}"
    if isinstance(error, MemoryError) and (bound := memory_bound()) is not None:  # a worker's, a lane's
        past = f"past the memory bound of {size_text(bound)} ({MEMORY_FLAGS})"
        return "raised", f"{describe_error(error)}: {past}"
    return "raised", describe_error(error)


def add_report(observation: Observation, item: Any) -> bool:
    """Record one reported item; False (and ``broken`` set) when it is not a valid report."""
    try:
        normal = normalise(item)
    except Exception as error:  # whatever a client's object raises, it is not a valid report
        observation.broken = describe_error(error) if not isinstance(error, TypeError) else str(error)
        return False
    ((kind, value),) = normal.items()
    if kind == "event":
        observation.events.append(Event(value["type"], value["data"], value["id"]))
    elif kind == "comment":
        observation.comments.append(value)
    elif kind == "retry":
        observation.retry = value
    else:
        observation.opened = observation.opened or kind == "open"
        observation.notifications.append((kind, len(observation.events)))
    return True


class EventCount:
    """A run's reported events, as ``close_after_events`` and ``restart_after_events`` count
    them: comments, notifications and retry reports never count (an ``open`` reported first
    must not close the client before its first event)."""

    def __init__(self, invocation: Invocation) -> None:
        self.invocation = invocation
        self.events = 0

    def must_close(self) -> bool:
        """Close the client now? After ``close_after_events`` events, or for 0 once the
        runner saw the request (``close_now``), before the first event is reported."""
        after, now = self.invocation.close_after_events, self.invocation.close_now
        return after is not None and (self.events >= after > 0 or (after == 0 and now.is_set()))

    def add(self, item: Any) -> bool:
        """Count a reported ``item``; True when the client must restart now: right after its
        ``restart_after_events``-th event (once: a later count never equals it again)."""
        if report_kind(item) != "event":
            return False
        self.events += 1
        return self.events == self.invocation.restart_after_events


def absorb(observation: Observation, kind: str, value: Any, profile: str) -> bool:
    """Add one report from a target to the observation; True when the client is done. Kinds:
    ``event`` (a reported object), ``text`` (the openai profile's result), ``end`` (returned),
    ``raised`` (an exception or its text), ``exit`` (a command's status), ``broken`` (an adapter
    fault), ``lost`` (the adapter died, and whose crash it was is unknown), ``flood``."""
    if kind == "event" and add_report(observation, value):
        return False
    if kind == "text" and isinstance(value, str):
        observation.text = value
        return False
    if kind == "flood":
        observation.flooded = str(value)
    elif kind == "text":
        observation.broken = f"the openai profile returns str, got {type(value).__name__}"
    elif kind == "exit" and value != 0:
        observation.raised = f"exit status {value}" if value > 0 else f"killed by signal {-value}"
    elif kind == "raised":
        ending, text = ("raised", value) if isinstance(value, str) else failure(value, profile)
        setattr(observation, ending, text)  # "broken" or "raised"
    elif kind in ("broken", "lost"):
        observation.broken = str(value)
        observation.lost = kind == "lost"
    broken = observation.broken or kind == "event"  # an invalid report, whatever its error text
    ending = "broken" if broken else "raised" if observation.raised else "returned"
    observation.ended_by = "flood" if kind == "flood" else ending
    return True
