"""The event value the parser dispatches: the spec's (type, data, lastEventId) triple."""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

__all__ = ["Event"]


class _EventStorage(tuple):
    """Storage for Event: a tuple, so the parser can build events at C speed."""

    __slots__ = ()


@dataclass(frozen=True, init=False, eq=False)
class Event(_EventStorage):
    """One dispatched event (`#dispatchMessage`).

    ``event`` is the type ("message" when none was given, C-23/C-24), ``data`` has its one
    trailing LF removed (C-20), and ``id`` is the *last event ID string* at dispatch time, so it
    persists across events until an ``id`` field changes it (C-27, C-28).

    A frozen dataclass (fields, repr, equality, hash, ``dataclasses.replace`` all work) stored in
    a tuple: the parser dispatches over a million events a second and a Python ``__init__`` per
    event would cost more than the whole parse. Equality is with other Events only.
    """

    __slots__ = ()

    event: str = "message"
    data: str = ""
    id: str = ""

    def __new__(cls, event: str = "message", data: str = "", id: str = "") -> Event:
        return tuple.__new__(cls, (event, data, id))

    def __eq__(self, other: object) -> bool:
        # Never equal to a plain tuple: an Event is not a (type, data, id) tuple by accident.
        return other.__class__ is self.__class__ and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def __getnewargs__(self) -> tuple[str, str, str]:
        return tuple(self)

    def as_dict(self) -> dict[str, str]:
        """The JSON shape used by case files and adapters."""
        return {"event": self[0], "data": self[1], "id": self[2]}


# The dataclass decorator left the defaults as class attributes; read fields from the tuple.
Event.event = property(itemgetter(0), doc="The event type.")  # type: ignore[assignment]
Event.data = property(itemgetter(1), doc="The data, one trailing LF removed.")  # type: ignore[assignment]
Event.id = property(itemgetter(2), doc="The last event ID string at dispatch.")  # type: ignore[assignment]

make_event = tuple.__new__
"""``make_event(Event, (type, data, id))``: the parser's C-speed constructor."""
