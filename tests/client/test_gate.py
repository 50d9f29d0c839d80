"""The alone gate, in one process: its in-loop order, and two gates on one lock file.

flock locks belong to open file descriptions, so two gates with a MachineLock each exclude one
another exactly as two processes do (test_gate_processes.py runs real processes)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import stat
import subprocess
import threading
import time

import naive_clients as nc
import pytest
from conftest import run_cases

from conformance.client import gate as gate_module
from conformance.client.gate import LOCK_ENV, AloneGate, MachineLock, alone_gate, machine_lock
from conformance.results import Outcome


@pytest.fixture
def lock_path(tmp_path, monkeypatch):
    path = tmp_path / "alone.lock"
    monkeypatch.setenv(LOCK_ENV, str(path))
    return path


def gates_on(folder, count: int) -> list[AloneGate]:
    """``count`` gates on one lock file, each with its own descriptors (as in as many processes)."""
    return [AloneGate(MachineLock(folder / "alone.lock")) for _ in range(count)]


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 20))


class Timeline:
    """Who held the gate when: (name, start, end) per hold, in loop time."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, float, float]] = []

    async def hold(self, context, name: str, seconds: float) -> None:
        async with context:
            start = time.monotonic()
            await asyncio.sleep(seconds)
            self.spans.append((name, start, time.monotonic()))

    def span(self, name: str) -> tuple[float, float]:
        (found,) = [(start, end) for who, start, end in self.spans if who == name]
        return found

    def overlaps(self, name: str) -> list[str]:
        start, end = self.span(name)
        return [who for who, s, e in self.spans if who != name and s < end and start < e]


def attempts_and_confirmations(folder, how: str) -> tuple[AloneGate, AloneGate]:
    """The gate attempts hold and the one a confirmation takes: one gate (per process, or with a
    lock file), or two gates on one lock file, as two processes have."""
    if how == "two-gates-one-lock-file":
        attempts, confirmations = gates_on(folder, 2)
        return attempts, confirmations
    gate = AloneGate(MachineLock(folder / "alone.lock") if how == "with-lock-file" else None)
    return gate, gate


@pytest.mark.parametrize("how", ["process-only", "with-lock-file", "two-gates-one-lock-file"])
def test_a_confirmation_waits_for_running_attempts_and_goes_before_new_ones(tmp_path, how):
    async def main():
        attempts, confirmations = attempts_and_confirmations(tmp_path, how)
        line = Timeline()
        first = asyncio.create_task(line.hold(attempts.shared(), "first", 0.2))
        await asyncio.sleep(0.05)
        confirm = asyncio.create_task(line.hold(confirmations.exclusive(), "confirm", 0.2))
        await asyncio.sleep(0.05)
        later = asyncio.create_task(line.hold(attempts.shared(), "later", 0.05))
        await asyncio.gather(first, confirm, later)
        assert line.overlaps("confirm") == []
        confirm_start, confirm_end = line.span("confirm")
        assert line.span("first")[1] <= confirm_start < confirm_end <= line.span("later")[0]
        for gate in (attempts, confirmations):
            assert gate.running == 0 and not gate.alone and not gate.waiting
            assert gate.lock is None or not gate.lock.held

    run(main())


def test_a_batch_after_first_passes_lets_the_other_runs_finish_their_attempts_first():
    # The selftest's four clients side by side: the first to finish its attempts used to empty
    # the loop of the other three's (a drain that idled the CPUs) to confirm mid-run.
    async def main():
        gate = AloneGate()
        line = Timeline()

        async def quick_run():
            with gate.first_pass():
                await line.hold(gate.shared(), "quick attempt", 0.01)
            await line.hold(gate.exclusive(after_first_passes=True), "quick confirms", 0.05)

        async def long_run():
            with gate.first_pass():
                for i in range(4):
                    await line.hold(gate.shared(), f"long attempt {i}", 0.05)
            await line.hold(gate.exclusive(after_first_passes=True), "long confirms", 0.05)

        await asyncio.gather(quick_run(), long_run())
        quick_start = line.span("quick confirms")[0]
        assert all(line.span(f"long attempt {i}")[1] <= quick_start for i in range(4))
        assert line.overlaps("quick confirms") == [] and line.overlaps("long confirms") == []
        assert gate.passes == 0 and not gate.waiting and not gate.alone

    run(main())


def test_attempts_run_together(tmp_path):
    async def main():
        gate = AloneGate(MachineLock(tmp_path / "alone.lock"))
        line = Timeline()
        await asyncio.gather(*(line.hold(gate.shared(), f"a{i}", 0.2) for i in range(3)))
        assert sorted(line.overlaps("a0")) == ["a1", "a2"]

    run(main())


def test_a_gate_that_always_has_an_attempt_running_does_not_starve_another_gates_confirmation(tmp_path):
    """Three back-to-back attempts keep the other gate's count above zero for as long as they
    go on; the confirmation still starts at once (after the running ones), and they go on after."""

    async def main():
        busy, confirming = gates_on(tmp_path, 2)
        line = Timeline()
        stop = time.monotonic() + 1.5

        async def worker(n: int) -> None:
            i = 0
            while time.monotonic() < stop:
                i += 1
                await line.hold(busy.shared(), f"w{n}.{i}", 0.04 + 0.02 * n)

        workers = [asyncio.create_task(worker(n)) for n in range(3)]
        await asyncio.sleep(0.3)
        asked = time.monotonic()
        await line.hold(confirming.exclusive(), "confirm", 0.2)
        await asyncio.gather(*workers)
        assert line.overlaps("confirm") == []
        assert line.span("confirm")[0] - asked < 0.5
        assert any(start > line.span("confirm")[1] for _, start, _ in line.spans)

    run(main())


def test_two_gates_confirming_at_once_both_finish_one_after_the_other(tmp_path):
    async def main():
        gates = gates_on(tmp_path, 2)
        line = Timeline()

        async def one(n: int) -> None:
            await line.hold(gates[n].shared(), f"attempt{n}", 0.1)
            await line.hold(gates[n].exclusive(), f"confirm{n}", 0.2)

        await asyncio.gather(one(0), one(1))
        assert line.overlaps("confirm0") == line.overlaps("confirm1") == []

    run(main())


def test_a_gate_without_running_attempts_takes_nothing(tmp_path):
    """The lock is held only while an attempt runs: an idle loop blocks no confirmation."""

    async def main():
        idle, other = gates_on(tmp_path, 2)
        async with idle.shared():
            assert idle.lock.held
        assert not idle.lock.held
        async with other.exclusive():
            assert other.lock.held

    run(main())


def _free(path) -> bool:
    """Can a new descriptor take ``path`` exclusively right now?"""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


async def cancelled_later(coroutine, meanwhile) -> None:
    """Run ``coroutine`` for 0.1 s (waiting or holding), check ``meanwhile()``, then cancel it."""
    task = asyncio.create_task(coroutine)
    await asyncio.sleep(0.1)
    assert meanwhile()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def test_cancelled_waits_and_holds_leave_nothing_held(tmp_path):
    async def main():
        lock = MachineLock(tmp_path / "alone.lock")
        ours, theirs = AloneGate(lock), AloneGate(MachineLock(tmp_path / "alone.lock"))

        # waiting to be alone while the other gate has an attempt running, then cancelled
        async with theirs.shared():
            # it holds the turn while it waits
            await cancelled_later(ours.exclusive().__aenter__(), theirs.lock.wanted_elsewhere)
            assert not ours.alone and not ours.waiting and not lock.held
            assert not theirs.lock.wanted_elsewhere()

        # waiting to take the lock shared while the other gate is alone, then cancelled
        async with theirs.exclusive():
            await cancelled_later(ours.shared().__aenter__(), lambda: ours.entering)
            assert not ours.entering and ours.running == 0 and not lock.held

        # cancelled while holding, alone or sharing
        for context in (ours.exclusive, ours.shared):
            await cancelled_later(Timeline().hold(context(), "held", 10), lambda: lock.held)
            assert not lock.held and ours.running == 0 and not ours.alone

        assert _free(lock.path) and _free(lock.turn_path)
        async with ours.shared():  # the gate still works
            pass

    run(main())


def test_a_child_with_a_copy_of_the_descriptor_does_not_keep_the_lock(tmp_path):
    """A target running in a thread may fork; released, the lock is free whatever copies live."""

    async def main():
        ours, other = gates_on(tmp_path, 2)
        async with ours.shared():
            child = subprocess.Popen(["sleep", "60"], pass_fds=ours.lock._held)
        try:
            await asyncio.wait_for(other.exclusive().__aenter__(), 2)
        finally:
            child.kill()
            child.wait()

    run(main())


def test_the_lock_file_setting(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(LOCK_ENV, "off")
    assert machine_lock() is None

    monkeypatch.setenv(LOCK_ENV, str(tmp_path / "mine.lock"))
    assert machine_lock().path == tmp_path / "mine.lock"
    assert (tmp_path / "mine.lock.turn").exists()

    monkeypatch.delenv(LOCK_ENV)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    path = machine_lock().path
    assert path == tmp_path / f"sse-conformance-{os.getuid()}" / "alone.lock"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    monkeypatch.setattr(gate_module, "_told", set())
    monkeypatch.setenv(LOCK_ENV, str(tmp_path / "missing" / "alone.lock"))
    assert machine_lock() is None and machine_lock() is None
    assert capsys.readouterr().err.count("alone within this process only") == 1


def test_one_gate_per_event_loop(lock_path):
    async def gate():
        return alone_gate(), alone_gate()

    first, same = asyncio.run(gate())
    second, _ = asyncio.run(gate())
    assert first is same and first is not second
    assert first.lock.path == lock_path


def _in_thread(function):
    done = threading.Event()
    box = {}

    def work():
        box["value"] = function()
        done.set()

    threading.Thread(target=work, daemon=True).start()
    return done, box


def test_the_runners_attempts_wait_while_another_process_is_alone(lock_path):
    other = MachineLock(lock_path)  # another process's confirmation
    asyncio.run(other.take_exclusive())
    try:
        done, box = _in_thread(lambda: run_cases(nc.good_client, only=("LE-001",), rules=("none",)))
        assert not done.wait(1.0)
    finally:
        other.release()
    assert done.wait(30)
    assert {r.outcome for r in box["value"].results} == {Outcome.PASS}


def test_the_runners_confirmation_waits_for_another_processs_attempt(lock_path):
    other = MachineLock(lock_path)  # another process's running attempt
    asyncio.run(other.take_shared())
    try:
        done, box = _in_thread(
            lambda: run_cases(nc.hanging_client, only=("LE-001",), rules=("none",), scale=0.1)
        )
        probe = MachineLock(lock_path)
        stop = time.monotonic() + 30
        while not probe.wanted_elsewhere():  # its first attempt failed on time: it asks to be alone
            assert time.monotonic() < stop
            time.sleep(0.02)
        assert not done.wait(1.0)
    finally:
        other.release()
    assert done.wait(30)
    results = box["value"].results
    assert results and all("alone" in r.extra for r in results)
