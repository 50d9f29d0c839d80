"""What a suite hands to its faces: named items that each run and return Results.

The CLI runs every item and prints; the pytest plugin turns each into a test item. Neither
judges anything itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .results import Result

__all__ = ["PlannedItem"]


@dataclass
class PlannedItem:
    """One runnable unit: ``name`` is the test id (a rule ID, or ``CASE-ID[chunking]``)."""

    name: str
    rule: str
    run: Callable[[], list[Result]]
    markers: list[str] = field(default_factory=list)
