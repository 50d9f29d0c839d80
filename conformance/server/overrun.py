"""What the reader did past its time bound (``max_seconds``): body bytes taken, CPU spent.

Why not wall time: the bound is checked between pieces of the body, so past it a correct reader
takes one piece at most and then stops. How long that takes in wall time is up to the machine:
a reader kept off the CPU (a loaded machine, a thread holding the GIL) stops late without doing
any more. The bytes it took and its own CPU seconds since its last step before the bound are
what the bound limits, and no load stretches them; a reader that ignores the bound shows in
both (a gzip bomb: megabytes and seconds of inflating and parsing).
"""

from __future__ import annotations

import time
from typing import NamedTuple

__all__ = ["Overrun", "TimeBound"]


class Overrun(NamedTuple):
    """Past the time bound: body bytes taken, and the reader thread's CPU seconds spent."""

    bytes: int = 0
    cpu: float = 0.0


class TimeBound:
    """The reader's last step before ``deadline`` (a ``time.monotonic()`` value): how many body
    bytes it held then, and its thread's CPU clock. Made, stepped and read in the reading
    thread; made as the body starts, which is the mark while no step came before the bound."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.size, self.cpu = 0, time.thread_time()

    def step(self, size: int) -> None:
        """One step of reading done, ``size`` body bytes held: the mark while before the bound."""
        if time.monotonic() < self.deadline:
            self.size, self.cpu = size, time.thread_time()

    def past(self, size: int) -> Overrun:
        """What was taken and spent since the mark, the reader now holding ``size`` bytes."""
        return Overrun(size - self.size, time.thread_time() - self.cpu)
