"""One process on an AloneGate over a given lock file, for test_gate_processes.py.

    python gate_process.py LOCK LOG attempts SECONDS   # 3 attempts at a time, back to back
    python gate_process.py LOCK LOG confirm COUNT      # once LOG shows attempts: COUNT confirmations
    python gate_process.py LOCK LOG hold shared|exclusive   # hold the gate until killed

LOCK ``off`` keeps the gate within the process. Every line of LOG is a JSON object written
with one append: ``{"pid", "kind", "start", "end"}`` (kind ``attempt``, ``asked``, ``confirm``,
``held``), times from ``time.monotonic()``, the one clock every process here shares.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path

from conformance.client.gate import AloneGate, MachineLock

ATTEMPTS_AT_ONCE = 3
CONFIRM_SECONDS = 0.3
ATTEMPTS_BEFORE_CONFIRMING = 6


def log(path: Path, kind: str, start: float, end: float | None = None) -> None:
    line = json.dumps({"pid": os.getpid(), "kind": kind, "start": start, "end": end}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


async def attempts(gate: AloneGate, path: Path, seconds: float) -> None:
    stop = time.monotonic() + seconds

    async def worker() -> None:
        while time.monotonic() < stop:
            async with gate.shared():
                start = time.monotonic()
                await asyncio.sleep(random.uniform(0.03, 0.12))
                log(path, "attempt", start, time.monotonic())

    await asyncio.gather(*(worker() for _ in range(ATTEMPTS_AT_ONCE)))


async def confirm(gate: AloneGate, path: Path, count: int) -> None:
    while not path.exists() or path.read_text().count('"attempt"') < ATTEMPTS_BEFORE_CONFIRMING:
        await asyncio.sleep(0.02)
    for _ in range(count):
        log(path, "asked", time.monotonic())
        async with gate.exclusive():
            start = time.monotonic()
            await asyncio.sleep(CONFIRM_SECONDS)
            log(path, "confirm", start, time.monotonic())
        await asyncio.sleep(CONFIRM_SECONDS)  # the other process's attempts get their turn


async def hold(gate: AloneGate, path: Path, how: str) -> None:
    async with gate.exclusive() if how == "exclusive" else gate.shared():
        log(path, "held", time.monotonic())
        await asyncio.Event().wait()  # until killed


def main() -> None:
    lock, path, role, arg = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]

    async def run() -> None:
        gate = AloneGate(None if lock == "off" else MachineLock(lock))
        if role == "attempts":
            await attempts(gate, path, float(arg))
        elif role == "confirm":
            await confirm(gate, path, int(arg))
        else:
            await hold(gate, path, arg)

    asyncio.run(run())


if __name__ == "__main__":
    main()
