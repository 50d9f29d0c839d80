"""Alone across processes: real Python processes on one lock file (gate_process.py).

A confirmation in one process excludes every attempt of another, even one that always has an
attempt running (it is not starved), and a process killed while it holds the lock, or waits for
it alone, releases it: the kernel drops flock locks with the dead process's descriptors."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.client.gate import AloneGate, MachineLock

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")

SCRIPT = Path(__file__).with_name("gate_process.py")
ATTEMPT_SECONDS = 4.0
CONFIRMATIONS = 2


def start(lock, log: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPT), str(lock), str(log), *args])


def entries(log: Path, kind: str) -> list[dict]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [entry for entry in map(json.loads, lines) if entry["kind"] == kind]


def overlapping(confirmations: list[dict], attempts: list[dict]) -> list[tuple[dict, dict]]:
    return [
        (c, a) for c in confirmations for a in attempts if a["start"] < c["end"] and c["start"] < a["end"]
    ]


def run_pair(lock, log: Path) -> tuple[list[dict], list[dict], list[dict]]:
    """An attempts process and a confirming one, side by side, to their end."""
    procs = [
        start(lock, log, "attempts", str(ATTEMPT_SECONDS)),
        start(lock, log, "confirm", str(CONFIRMATIONS)),
    ]
    try:
        for proc in procs:
            assert proc.wait(timeout=60) == 0
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    return entries(log, "attempt"), entries(log, "asked"), entries(log, "confirm")


def test_a_confirmation_in_one_process_excludes_the_attempts_of_another(tmp_path):
    attempts, asked, confirmations = run_pair(tmp_path / "alone.lock", tmp_path / "log")
    assert len(confirmations) == CONFIRMATIONS
    assert not overlapping(confirmations, attempts)
    for when, confirmation in zip(asked, confirmations, strict=True):
        # the other process had an attempt running when the confirmation asked: it had to drain
        assert any(a["start"] < when["start"] < a["end"] for a in attempts)
        # ... and it did at once, although it always had another attempt to start (no starvation)
        assert confirmation["start"] - when["start"] < 1.0
        # its attempts went on afterwards
        assert any(a["start"] > confirmation["end"] for a in attempts)


def test_without_the_lock_file_the_same_processes_overlap(tmp_path):
    """The control: the same two processes, each alone within itself only, do overlap, so the
    test above would see an overlap if the lock did not hold."""
    attempts, _, confirmations = run_pair("off", tmp_path / "log")
    assert len(confirmations) == CONFIRMATIONS
    assert overlapping(confirmations, attempts)


def wait_for(ready, seconds: float = 20.0) -> None:
    stop = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < stop, "timed out"
        time.sleep(0.02)


def enters(lock: Path, gate_call, seconds: float) -> bool:
    """Does this process get through ``gate_call`` (of a fresh gate on ``lock``) within ``seconds``?"""

    async def go() -> bool:
        async def through() -> None:
            async with gate_call(AloneGate(MachineLock(lock))):
                pass

        try:
            await asyncio.wait_for(through(), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("held", "wanted"),
    [("exclusive", AloneGate.shared), ("shared", AloneGate.exclusive)],
    ids=["killed-while-alone", "killed-during-an-attempt"],
)
def test_a_killed_holder_releases_the_lock(tmp_path, held, wanted):
    lock, log = tmp_path / "alone.lock", tmp_path / "log"
    holder = start(lock, log, "hold", held)
    try:
        wait_for(lambda: entries(log, "held"))
        assert not enters(lock, wanted, 0.5)  # held by the other process
        holder.send_signal(signal.SIGKILL)  # no cleanup code runs
        holder.wait(timeout=10)
        assert enters(lock, wanted, 5.0)
        assert not MachineLock(lock).wanted_elsewhere()
    finally:
        holder.kill()
        holder.wait()


def test_a_process_killed_while_waiting_to_be_alone_gives_back_its_turn(tmp_path):
    """It waits for the lock holding the turn (so new attempts elsewhere wait behind it); dead,
    it holds neither."""
    lock, log = tmp_path / "alone.lock", tmp_path / "log"
    ours = MachineLock(lock)
    asyncio.run(ours.take_shared())  # an attempt of this process is running
    waiter = start(lock, log, "hold", "exclusive")
    try:
        wait_for(MachineLock(lock).wanted_elsewhere)  # it has the turn, waits for us
        time.sleep(0.3)
        assert not entries(log, "held")
        waiter.send_signal(signal.SIGKILL)
        waiter.wait(timeout=10)
        assert not MachineLock(lock).wanted_elsewhere()
        assert enters(lock, AloneGate.shared, 5.0)
    finally:
        ours.release()
        waiter.kill()
        waiter.wait()
