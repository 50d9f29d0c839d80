"""The event value the parser dispatches: the spec's (type, data, lastEventId) triple.

Also the tuple-backed record machinery it shares with :class:`~conformance.sse.Line`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeVar

__all__ = ["Event", "TupleRecord", "tuple_record"]

R = TypeVar("R", bound=type)


class TupleRecord(tuple):
    """Storage for a frozen dataclass: a tuple, so the parser can build records at C speed.

    Equality is with records of the same class only: never with a plain tuple by accident.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__ and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)


def tuple_record(cls: R) -> R:
    """Finish a ``@dataclass(frozen=True, init=False, eq=False)`` TupleRecord subclass.

    The dataclass decorator leaves field defaults as class attributes; replace every field with
    a property reading its slot of the tuple, in field order.
    """
    for index, field in enumerate(dataclasses.fields(cls)):
        setattr(cls, field.name, property(itemgetter(index)))
    return cls


@tuple_record
@dataclass(frozen=True, init=False, eq=False)
class Event(TupleRecord):
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

    def as_dict(self) -> dict[str, str]:
        """The JSON shape used by case files and adapters."""
        return {"event": self[0], "data": self[1], "id": self[2]}


make_event = tuple.__new__
"""``make_event(Event, (type, data, id))``: the parser's C-speed constructor."""
