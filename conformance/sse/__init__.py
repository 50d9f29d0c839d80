"""Sans-IO Server-Sent Events core: the suite's oracle parser and a safe serializer.

No sockets here. Everything else in the suite is a transport around this package.
"""

from ._events import Event
from ._lines import BOM, Line, LineDecoder, LineKind, LineTooLong, classify
from ._parser import EventParser, EventTooLarge
from ._serializer import LINE_SEPARATORS, encode

__all__ = [
    "BOM",
    "LINE_SEPARATORS",
    "Event",
    "EventParser",
    "EventTooLarge",
    "Line",
    "LineDecoder",
    "LineKind",
    "LineTooLong",
    "classify",
    "encode",
    "parse",
]


def parse(data: bytes) -> list[Event]:
    """Parse a complete body in one call (convenience for tests and one-off use)."""
    parser = EventParser()
    return parser.feed(data) + parser.close()
