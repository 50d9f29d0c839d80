"""What the reader did past its time bound, counted from its last step before the bound: bytes
taken and its own CPU seconds, never the wall time a loaded machine stretches."""

from __future__ import annotations

import threading
import time

from conformance.server.overrun import TimeBound


def test_steps_before_the_bound_move_the_mark_and_steps_after_it_do_not():
    bound = TimeBound(time.monotonic() + 3600)
    bound.step(100)
    assert bound.past(100).bytes == 0
    bound.deadline = time.monotonic()  # the bound passes: later steps are past it
    bound.step(300)
    assert bound.past(364).bytes == 264


def test_a_bound_passed_before_the_body_counts_the_whole_body():
    bound = TimeBound(time.monotonic() - 1)
    bound.step(50)
    assert bound.past(70).bytes == 70


def test_the_cpu_past_the_bound_is_the_readers_work_not_its_waiting():
    bound = TimeBound(time.monotonic() - 1)
    start = time.thread_time()
    while time.thread_time() - start < 0.2:  # 0.2 s of this thread's CPU, however loaded the machine
        pass
    threading.Event().wait(0.3)  # off the CPU, as a reader kept waiting is
    cpu = bound.past(0).cpu
    assert 0.2 <= cpu < 0.45  # wall time would be 0.5 s at least
