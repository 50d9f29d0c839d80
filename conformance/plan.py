"""What a suite hands to its faces: named items that each run and return Results.

The CLI runs every item and prints; the pytest plugin turns each into a test item. Neither
judges anything itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .results import FAMILIES, Result

__all__ = ["PlannedItem"]


@dataclass
class PlannedItem:
    """One runnable unit: ``name`` is the test id (a rule ID, or ``CASE-ID[chunking]``)."""

    name: str
    rule: str
    run: Callable[[], list[Result]]
    markers: list[str] = field(default_factory=list)
    face: str = "server"  # or "client": the node id reads sse-conformance::<face>::<family>::<name>
    case: str | None = None
    rules: tuple[str, ...] = ()  # every rule the item judges: -k and --sse-select match them

    @property
    def family(self) -> str:
        return FAMILIES.get(self.rule[:1], "other")

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.rule, *self.rules, *((self.case,) if self.case else ()))))
